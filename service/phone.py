"""Phone numbers in, E.164 out; anything that cannot be a phone number is refused."""
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones


class InvalidNumber(ValueError):
    pass


# What Twilio sends as From for every North American texter: already E.164, ten national digits with
# valid leading digits, which phonenumbers always finds possible and formats to itself. Answering
# those without a parse saves the webhook a fifth of a millisecond's worth of CPU per text
# (tests/test_config.py checks the shortcut agrees with phonenumbers).
NANP_E164 = re.compile(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}")


def to_e164(raw: str, region: str = "US", strict: bool = False) -> str:
    """Lenient for texters (Twilio vouches for From; stale metadata must not silence a real person),
    strict for numbers we configure ourselves."""
    if not strict and NANP_E164.fullmatch(raw):
        return raw
    return _parse(raw, region, strict)


@lru_cache(maxsize=4096)
def _parse(raw: str, region: str, strict: bool) -> str:
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        raise InvalidNumber("not a phone number") from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidNumber("not a complete phone number")
    if strict and not phonenumbers.is_valid_number(number):
        raise InvalidNumber("not an assigned phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=16384)  # a conversation plans for the same number again within minutes (~50 us a lookup)
def time_zones(e164: str) -> tuple[str, ...]:
    """Every time zone a number may be in (an area code can span several); empty when unknown."""
    zones = number_zones.time_zones_for_number(phonenumbers.parse(e164))
    return tuple(z for z in zones if z != "Etc/Unknown")


FICTIONAL = re.compile(r"^\+1[0-9]{3}55501[0-9]{2}$")  # NANP numbers reserved for fiction: the simulator's phones
MAX_ZONES = 4  # a toll-free number "is" in dozens of zones: then the center's zone is the honest guess


def recipient_zones(address: str, center_zone: ZoneInfo) -> tuple[ZoneInfo, ...]:
    """The zones whose send window must be open before we text this number (or channel address, e.g.
    "whatsapp:+1617...": service/channels.py) unprompted."""
    zones = time_zones(bare(address))
    return tuple(ZoneInfo(z) for z in zones) if 0 < len(zones) <= MAX_ZONES else (center_zone,)


def bare(address: str) -> str:
    """The number of a channel address ("scheme:+E.164"), or the number itself."""
    return address.rsplit(":", 1)[-1]


def is_fictional(e164: str) -> bool:
    """555-0100 to 555-0199 in any area code: no real phone has them, so nothing sent there reaches one."""
    return bool(FICTIONAL.match(bare(e164)))


def mask(e164: str) -> str:
    return "*" * max(len(e164) - 4, 0) + e164[-4:] if len(e164) > 4 else "****"
