"""Broadcasts, one set of rules for the console and the API: what a request may say (a text per
language, a group or everyone with consent, a time, an expiry), who gets it (consent to outreach, not
opted out, not erased, not held by staff, under the weekly cap: the others held back and counted, each
person at most once), when (inside each recipient's own send hours), the exact preview before sending,
cancel, and resending to exactly those whose text failed."""
from dataclasses import dataclass
from datetime import datetime

from flows import gsm, schedule
from flows.checks import MAX_SEGMENTS, unprompted
from flows.fields import YEARS
from flows.model import unknown_placeholder
from flows.templates import CONTENT_SID, VARIABLE
from service import channels
from service.contacts import GROUP, Refused
from service.phone import recipient_zones
from service.runtime import Services
from service.store import broadcasts, contacts, followups, holds, keys
from service.store.broadcasts import Broadcast, Status
from service.store.people import LAST_SEEN

BATCH = 1000
MAX_TEXT = 1600


@dataclass(frozen=True)
class Request:
    texts: dict[str, str]
    group: str | None
    everyone: bool
    send_at: float
    expires_at: float | None
    template: dict | None = None  # an approved template for WhatsApp past its 24-hour window


@dataclass(frozen=True)
class Plan:
    due: dict[str, float]  # person key -> when it is due in their send hours
    held: dict[str, int]


def request_from(data, svc: Services, now: float) -> Request:
    if not isinstance(data, dict):
        raise Refused("body", "must be a JSON object")
    unknown = sorted(set(data) - {"text", "group", "all", "send_at", "expires_at", "template"})
    if unknown:
        raise Refused(unknown[0], "is not part of a broadcast (text, group, all, send_at, expires_at, template)")
    flows = svc.flows()
    texts = _texts(data.get("text"), flows)
    group, everyone = data.get("group"), data.get("all") is True
    if everyone == bool(group):
        raise Refused("group", "name one group, or say \"all\": true (everyone with consent)")
    if group is not None and (not isinstance(group, str) or not GROUP.match(group.strip().lower())):
        raise Refused("group", "must be a group name (lower-case letters, digits, - and _)")
    if group is not None and not svc.redis.exists(keys.of(svc.redis).group(group.strip().lower())):
        raise Refused("group", "no contact is in this group")  # a typo would otherwise "send" to nobody
    send_at = _moment(data.get("send_at"), "send_at") if data.get("send_at") is not None else now
    expires_at = _moment(data.get("expires_at"), "expires_at") if data.get("expires_at") is not None else None
    if expires_at is not None and expires_at <= max(send_at, now):
        raise Refused("expires_at", "must be after the broadcast is to go out (send_at, or now)")
    return Request(texts, group.strip().lower() if group else None, everyone, max(send_at, now), expires_at,
                   _template(data.get("template")))


def _template(value) -> dict | None:
    """{"sid": "HX...", "variables": {"1": "..."}}: Twilio's ContentSid and ContentVariables, for people on
    WhatsApp more than 24 hours after their last message (without one they are held back)."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"sid", "variables"}:
        raise Refused("template", "must be {\"sid\": \"HX...\", \"variables\": {...}}")
    if not isinstance(value.get("sid"), str) or not CONTENT_SID.match(value["sid"]):
        raise Refused("template.sid", "must be a ContentSid: HX and 32 hexadecimal digits")
    variables = value.get("variables") or {}
    if not isinstance(variables, dict) or not all(VARIABLE.match(str(k)) and isinstance(v, str) and len(v) <= 200
                                                  for k, v in variables.items()):
        raise Refused("template.variables", "must map names (like \"1\") to texts of at most 200 characters")
    for name, text in variables.items():
        if unknown_placeholder(text, {"program", "phone"}):
            raise Refused(f"template.variables.{name}", "may fill in {program} and {phone} only (a broadcast is the "
                                                        "same for everyone)")
    return {"sid": value["sid"], "variables": {str(k): v for k, v in variables.items()}}


def _texts(value, flows) -> dict[str, str]:
    if isinstance(value, str):
        value = {flows.program.default_language: value}
    if not isinstance(value, dict) or not value:
        raise Refused("text", "must be a text per language, like {\"en\": \"...\", \"es\": \"...\"}")
    out = {}
    for language, text in value.items():
        if language not in flows.program.languages:
            raise Refused(f"text.{language}", f"is not one of the program's languages ({', '.join(flows.program.languages)})")
        if not isinstance(text, str) or not text.strip():
            raise Refused(f"text.{language}", "must not be empty")
        sent = flows.languages.as_sent(unprompted(" ".join(text.split()), language, flows.languages), language,
                                       flows.program.plain_spanish)
        info = gsm.segment_info(sent)
        if len(text) > MAX_TEXT or info.segments > MAX_SEGMENTS:
            raise Refused(f"text.{language}", f"is {info.segments} segments with how to stop; at most {MAX_SEGMENTS}")
        out[language] = " ".join(text.split())
    if flows.program.default_language not in out:
        raise Refused(f"text.{flows.program.default_language}", "the program's default language is needed: it goes "
                                                                "to everyone without a translation")
    return out


def _moment(value, name: str) -> float:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise Refused(name, "must be ISO 8601 with its offset, like 2026-12-12T09:00:00-05:00") from None
    if moment.tzinfo is None:
        raise Refused(name, "must say its UTC offset")
    if not YEARS[0] <= moment.year <= YEARS[1]:  # beyond, zones overflow (a 500)
        raise Refused(name, f"must be between the years {YEARS[0]} and {YEARS[1]}")
    return moment.timestamp()


def plan(svc: Services, req: Request, bid: str, now: float, candidates=None) -> Plan:
    """Who gets it and when, and who is held back and why (read in batches; nothing written)."""
    r, config = svc.redis, svc.current_config()
    rules = config.send_rules()
    people = sorted(candidates if candidates is not None else _audience(r, req))
    due, held = {}, {reason: 0 for reason in broadcasts.HELD_REASONS}
    for start in range(0, len(people), BATCH):
        pks = people[start:start + BATCH]
        pipe = r.pipeline(transaction=False)
        for pk in pks:
            pipe.hmget(keys.of(r).contact(pk), "phone", "consent", contacts.EVIDENCE, contacts.OPTED_IN, holds.FIELD,
                       followups.SENT, "simulated", LAST_SEEN)
        for pk, fields in zip(pks, pipe.execute()):
            reason = _held(fields, rules, now)
            if reason:
                if reason in held:  # someone erased since is simply gone
                    held[reason] += 1
                continue
            number = svc.vault.decrypt(fields[0])
            if not req.template and not channels.free_form_allowed(number, float(fields[7]) if fields[7] else None, now):
                held["channel_window"] += 1
                continue
            due[pk] = req.send_at if fields[6] == b"1" else \
                schedule.send_time(rules, recipient_zones(number, config.timezone), req.send_at, f"{bid}:{pk}")
    return Plan(due, held)


def _audience(r, req: Request) -> list[str]:
    if req.group:
        return list(contacts.members(r, req.group))
    return [pk.decode() for pk in r.zrange(keys.of(r).CONTACTS, 0, -1)]


def _held(fields, rules, now: float) -> str:
    phone, consent, evidence, opted_in, held_by, sent = fields[:6]
    if phone is None:
        return "gone"  # erased since: not counted
    if consent == b"opted_out":
        return "opted_out"
    if evidence is None and opted_in is None:
        return "no_consent"
    if held_by is not None:
        return "held_by_staff"
    recent = schedule.recent_sends(followups.parse_sent(sent), now)
    return "weekly_cap" if len(recent) >= rules.per_week else ""


def create(svc: Services, req: Request, who: str, now: float, candidates=None, resend_of: str = "") -> Broadcast:
    bid = broadcasts.new_id()
    planned = plan(svc, req, bid, now, candidates)
    status = Status.SCHEDULED if req.send_at > now else Status.SENDING
    b = Broadcast(bid, req.texts, req.group, req.everyone, req.send_at, req.expires_at, status, now, who,
                  resend_of=resend_of, template=req.template)
    pipe = svc.redis.pipeline()
    broadcasts.create(pipe, b, planned.due, planned.held)
    pipe.execute()
    return broadcasts.get(svc.redis, bid)


def cancel(svc: Services, bid: str) -> Broadcast | None:
    b = broadcasts.get(svc.redis, bid)
    if b is None:
        return None
    if b.status in (Status.SCHEDULED, Status.SENDING):
        broadcasts.stop(svc.redis, bid, Status.CANCELED, svc.now())
    return broadcasts.get(svc.redis, bid)


def resend_failed(svc: Services, bid: str, who: str) -> Broadcast | None:
    """A new broadcast of the same texts to exactly those whose text failed or was undelivered (still
    held to the same rules: someone who opted out since is held back)."""
    b = broadcasts.get(svc.redis, bid)
    if b is None:
        return None
    req = Request(b.texts, b.group, b.everyone, svc.now(), None, b.template)
    return create(svc, req, who, svc.now(), broadcasts.failed_people(svc.redis, bid), resend_of=bid)


def view(b: Broadcast, zone) -> dict:
    """A broadcast as the API answers it."""
    finished = sum(v for k, v in b.counts.items() if k.startswith("out:"))
    return {"id": b.id, "status": b.status.value, "recipients": b.counts.get("recipients", 0),
            "queued": max(0, b.counts.get("recipients", 0) - finished - b.counts.get("canceled", 0)
                          - b.counts.get("expired", 0)),
            "sent": b.counts.get("sent", 0), "delivered": b.counts.get("delivered", 0),
            "undelivered": b.counts.get("undelivered", 0), "failed": b.failed, "held": b.held,
            "send_at": datetime.fromtimestamp(b.send_at, zone).isoformat(timespec="seconds"),
            **({"expires_at": datetime.fromtimestamp(b.expires_at, zone).isoformat(timespec="seconds")}
               if b.expires_at else {}),
            **({"resend_of": b.resend_of} if b.resend_of else {}),
            **({"template": b.template} if b.template else {})}


def text_for(flows, b: Broadcast, language: str) -> str:
    """The text one person gets: in their language (else the program's default), with how to opt out."""
    default = flows.program.default_language
    text = unprompted(b.texts.get(language) or b.texts[default], language, flows.languages)
    return flows.render(text, language=language)


def content_of(flows, b: Broadcast) -> dict:
    """A broadcast's template as Twilio is sent it ({program} and {phone} filled in its variables)."""
    return {"sid": b.template["sid"],
            "variables": {k: flows.render(v) for k, v in b.template.get("variables", {}).items()}}


def held_now(r, pk: str, contact, rules, recent: tuple[int, ...], now: float, templated: bool = False) -> str:
    """Why a recipient's text is held at send time ("" when it goes): no consent, staff, the weekly cap
    (`recent`: their unprompted texts within the week), a channel that allows only approved templates
    now (WhatsApp after its 24-hour window) when the broadcast has none (`templated`: it has one)."""
    if not contact.outreach_allowed:
        return "opted_out" if contact.consent and contact.consent.value == "opted_out" else "no_consent"
    if r.hget(keys.of(r).contact(pk), holds.FIELD) is not None:
        return "held_by_staff"
    if len(recent) >= rules.per_week:
        return "weekly_cap"
    if templated or channels.free_form_allowed(contact.number or "", contact.last_message_at, now):
        return ""
    return "channel_window"


def preview(svc: Services, req: Request, now: float) -> Plan:
    return plan(svc, req, "preview", now)


