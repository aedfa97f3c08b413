"""Channels: each a type behind one interface (its address scheme, its sender, what it may send when).

A person is addressed by channel and number: "+16175550123" is SMS (the scheme `tel:` is implied, so
every address stored before channels existed is still an SMS address), "whatsapp:+16175550123" is
WhatsApp, the same form Twilio's webhook and Messages API use. The two are two people to us: consent,
language and conversation are per address, as carriers and WhatsApp count them. Adding a channel is one
entry in CHANNELS (courier registers WhatsApp beside SMS the same way)."""
from dataclasses import dataclass, replace

from flows.decision import Decision

from service.phone import InvalidNumber, bare, mask as mask_number, to_e164


@dataclass(frozen=True)
class Channel:
    name: str  # as logs and exports say it
    scheme: str  # the address prefix Twilio uses ("" for SMS: a bare E.164 number)
    label: str  # as staff read it
    window_seconds: int | None  # free-form texts only this long after the person's last message (None: any time)

    def address(self, e164: str) -> str:
        return self.scheme + e164


SMS = Channel("sms", "", "SMS", None)
WHATSAPP = Channel("whatsapp", "whatsapp:", "WhatsApp", 24 * 3600)
CHANNELS = (WHATSAPP, SMS)  # the bare scheme last: it matches every address


def of(address: str) -> Channel:
    return next(c for c in CHANNELS if address.startswith(c.scheme))


number = bare  # the E.164 number inside an address (time zones, masking, dialling go by it): service/phone.py


def parse(raw: str, region: str, strict: bool = False) -> str:
    """An address from Twilio's From ("whatsapp:+1617...", "+1617...", "tel:+1617..."), its number in E.164;
    InvalidNumber for anything else (`strict`: an assigned number, for addresses the center gives us)."""
    raw = raw.strip()
    if raw.lower().startswith("tel:"):
        raw = raw[4:]
    channel = next((c for c in CHANNELS if c.scheme and raw.lower().startswith(c.scheme)), SMS)
    rest = raw[len(channel.scheme):]
    if ":" in rest:
        raise InvalidNumber("not a channel we text on")
    if channel.scheme and not rest.startswith("+"):
        raise InvalidNumber(f"a {channel.label} address is {channel.scheme}+E.164")
    return channel.address(to_e164(rest, region, strict))


def sender_for(address: str, sms_from: str, whatsapp_from: str) -> str:
    """The From for a text to this address: our WhatsApp sender for WhatsApp, our SMS number otherwise."""
    return WHATSAPP.address(whatsapp_from or sms_from) if of(address) is WHATSAPP else sms_from


def free_form_allowed(address: str, last_message_at: float | None, now: float) -> bool:
    """Whether a text that isn't an approved template may go to this address now: always on SMS; on
    WhatsApp only within 24 hours of the person's last message (unknown: no)."""
    window = of(address).window_seconds
    return window is None or (last_message_at is not None and now - last_message_at < window)


def fit(decision: Decision, address: str, last_message_at: float | None, now: float) -> Decision | None:
    """An unprompted decision as this address's channel lets it go now: as it is where free-form texts may
    go; else each reply as its approved template; None (held) when a reply has none: never half a chain of
    texts, which would leave the person at a question they were never asked."""
    if not decision.replies or free_form_allowed(address, last_message_at, now):
        return replace(decision, templates=())
    complete = len(decision.templates) == len(decision.replies) and None not in decision.templates
    return decision if complete else None


def mask(address: str) -> str:
    """As staff see an address: the number's last 4 digits, and its channel when it isn't SMS."""
    channel = of(address)
    masked = mask_number(number(address))
    return f"{masked} ({channel.label})" if channel.scheme else masked
