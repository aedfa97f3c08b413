"""Setting what the center knows of a contact, one set of rules for every door (the API, a CSV import,
the console): the values checked by type (flows.fields), groups replaced, fields merged (null clears),
consent evidence kept, a STOP never undone (only the person's own START/YES re-subscribes), and their
journeys replanned in the same transaction. An unchanged write changes nothing."""
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from redis import WatchError

from flows.fields import FieldType, parse
from service import channels, journey_planning
from service.phone import InvalidNumber
from service.rekeying import current_key
from service.runtime import Services
from service.store import contacts, daily, keys
from service.store.contacts import Contact

GROUP = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_GROUPS = 20
MAX_SOURCE = 120
UNSET = object()


class Refused(ValueError):
    """A value that can't be taken, and which one: `field` names it as the caller wrote it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class Outcome(str, Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    """What a caller asks to set; a part left UNSET stays as it is."""
    language: object = UNSET
    fields: dict | None = None  # merged; a value None clears that field
    groups: object = UNSET  # replaces the set
    consent: object = UNSET  # {"source", "at"}


def number(raw: str, region: str) -> str:
    """A contact's address: a phone number (SMS) or a channel address ("whatsapp:+16175550123")."""
    try:
        return channels.parse(str(raw), region, strict=True)
    except InvalidNumber:
        raise Refused("number", "must be a phone number, like +16175550123, or whatsapp:+16175550123") from None


def change_from(data, declared: dict[str, FieldType], languages: tuple[str, ...]) -> Change:
    """A Change from a JSON object ({"language", "fields", "groups", "consent"}, every key optional)."""
    if not isinstance(data, dict):
        raise Refused("body", "must be a JSON object")
    unknown = sorted(set(data) - {"language", "fields", "groups", "consent"})
    if unknown:
        raise Refused(unknown[0], "is not something a contact has (language, fields, groups, consent)")
    return Change(_language(data["language"], languages) if "language" in data else UNSET,
                  _fields(data.get("fields"), declared) if "fields" in data else None,
                  _groups(data["groups"]) if "groups" in data else UNSET,
                  _consent(data["consent"]) if "consent" in data else UNSET)


def _language(value, languages: tuple[str, ...]) -> str:
    if value not in languages:
        raise Refused("language", f"must be one of {', '.join(languages)}")
    return value


def _fields(value, declared: dict[str, FieldType]) -> dict:
    if not isinstance(value, dict):
        raise Refused("fields", "must be an object of field names and values")
    out = {}
    for name, raw in value.items():
        if name not in declared:
            raise Refused(f"fields.{name}", f"is not a declared field ({', '.join(sorted(declared)) or 'none'})")
        try:
            out[name] = None if raw is None or raw == "" else parse(declared[name], raw)
        except ValueError as exc:
            raise Refused(f"fields.{name}", str(exc)) from None
    return out


def _groups(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [g for g in value.split(";")]
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise Refused("groups", "must be a list of group names")
    names = sorted({g.strip().lower() for g in value if g.strip()})
    bad = [g for g in names if not GROUP.match(g)]
    if bad:
        raise Refused("groups", f"'{bad[0]}' is not a group name (lower-case letters, digits, - and _)")
    if len(names) > MAX_GROUPS:
        raise Refused("groups", f"at most {MAX_GROUPS} groups")
    return tuple(names)


def _consent(value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("source"), str) or not value["source"].strip():
        raise Refused("consent", "must be {\"source\": how they agreed, \"at\": when (ISO 8601 with offset)}")
    try:
        at = datetime.fromisoformat(str(value.get("at", "")))
    except ValueError:
        raise Refused("consent.at", "must be a date and time with its offset, like 2026-12-01T10:00:00-05:00") from None
    if at.tzinfo is None:
        raise Refused("consent.at", "must say its UTC offset")
    return {"source": " ".join(value["source"].split())[:MAX_SOURCE], "at": at.isoformat()}


def merged(svc: Services, before: Contact | None, pk: str, e164: str, change: Change,
           raw: dict | None = None) -> Contact:
    """The contact after the change (the digest covers what the change may touch); `raw`: the record read
    when there is no contact (an erased person's opt-out stays)."""
    base = before or contacts.remnant(pk, e164, raw)
    fields = dict(base.fields)
    for name, value in (change.fields or {}).items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    after = replace(base, fields=fields,
                    groups=base.groups if change.groups is UNSET else change.groups,
                    language=base.language if change.language is UNSET else change.language,
                    evidence=base.evidence if change.consent is UNSET or change.consent is None else change.consent)
    state = json.dumps([sorted(after.fields.items()), sorted(after.groups), after.language, after.evidence])
    return replace(after, digest=svc.vault.digest(state))


def apply(svc: Services, e164: str, change: Change, now: float) -> tuple[Outcome, Contact]:
    """One contact set, its journeys replanned, atomically (WATCHed: a text landing meanwhile retries)."""
    pk, flowset = current_key(svc, e164), svc.flows()
    config = svc.current_config()
    with svc.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(keys.of(pipe).contact(pk))
                before = contacts.read(pipe, svc.vault, pk)
                after = merged(svc, before, pk, e164, change, None if before else pipe.hgetall(keys.of(pipe).contact(pk)))
                if before is not None and before.digest == after.digest:
                    return Outcome.UNCHANGED, before
                planned_before = journey_planning.planned_ids(pipe, pk)
                pipe.multi()
                contacts.write(pipe, svc.vault, before, after, now, flowset.program.default_language)
                journey_planning.replan_into(pipe, flowset, config, after, planned_before, now,
                                             "" if after.simulated else daily.day_of(now, config.timezone))
                pipe.execute()
                return (Outcome.CREATED if before is None else Outcome.UPDATED), after
            except WatchError:
                continue
