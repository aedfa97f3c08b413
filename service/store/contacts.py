"""What the center knows of a person beyond their texts: declared fields, groups, a language and
consent evidence, on the same contact record as everything else (one hash per person). Every value is
encrypted; groups are also kept as sets of person keys (a group's name is the center's word, never
personal), so a broadcast or a filter reads one set. A digest of what an import or the API last set
makes "the same file twice changes nothing" cheap to tell."""
import json
from dataclasses import dataclass, field

from redis import Redis

from flows.engine import Consent
from service.privacy import Vault
from service.store import keys, people, simclock

FIELD_PREFIX = "f:"
GROUPS = "groups"  # contact field: the person's groups, encrypted JSON
EVIDENCE = "ev"  # contact field: consent evidence {source, at}, encrypted JSON
DIGEST = "cd"  # contact field: digest of the values last written (unchanged writes are skipped)
OPTED_IN = "opted_in"  # contact field: they texted START/YES themselves (consent to outreach by text)
JOURNEYS_FIELD = b"jrn"  # store/journeys.py's field (read here in batches)


@dataclass(frozen=True)
class Contact:
    pk: str
    number: str | None
    fields: dict[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    language: str = ""  # "" : the program's default
    evidence: dict | None = None  # {"source": ..., "at": ISO 8601}
    consent: Consent | None = None  # None: they never texted and never opted out
    opted_in: bool = False
    digest: str = ""
    simulated: bool = False
    ahead: int = 0  # a simulator's person: seconds their clock runs ahead of the real one (store.simclock)
    last_message_at: float | None = None  # their latest text to us (a channel's window counts from it)

    @property
    def outreach_allowed(self) -> bool:
        """Outreach they did not ask for (journeys, broadcasts): consent evidence, or their own opt-in by
        text, and never after a STOP."""
        return self.consent is not Consent.OPTED_OUT and (self.evidence is not None or self.opted_in)


def read(r, vault: Vault, pk: str) -> Contact | None:
    """None when there is no such person (or only an erased person's consent trail)."""
    h = r.hgetall(keys.of(r).contact(pk))
    if not h or b"phone" not in h:
        return None
    return decode(vault, pk, h)


def remnant(pk: str, e164: str, h: dict | None) -> Contact:
    """A new contact for a number with no record, or only an erased person's: a STOP survives erasure,
    and no import or API call may undo it (only the person's own START)."""
    consent, simulated = (h or {}).get(b"consent"), (h or {}).get(b"simulated") == b"1"
    return Contact(pk, e164, consent=Consent(consent.decode()) if consent else None, simulated=simulated,
                   ahead=int((h or {}).get(simclock.FIELD.encode(), b"0")) if simulated else 0)


def decode(vault: Vault, pk: str, h: dict) -> Contact:
    text = {k.decode(): v for k, v in h.items()}
    fields = {k[len(FIELD_PREFIX):]: vault.decrypt(v) for k, v in text.items() if k.startswith(FIELD_PREFIX)}
    consent = text.get("consent")
    return Contact(pk, vault.decrypt(text["phone"]) if "phone" in text else None, fields,
                   tuple(json.loads(vault.decrypt(text[GROUPS]))) if GROUPS in text else (),
                   people.language_of(vault, text.get(people.LANGUAGE)),
                   json.loads(vault.decrypt(text[EVIDENCE])) if EVIDENCE in text else None,
                   Consent(consent.decode()) if consent else None, OPTED_IN in text,
                   text.get(DIGEST, b"").decode(), text.get("simulated") == b"1",
                   int(text.get(simclock.FIELD, b"0")) if text.get("simulated") == b"1" else 0,
                   float(text[people.LAST_SEEN]) if people.LAST_SEEN in text else None)


def write(pipe, vault: Vault, before: Contact | None, after: Contact, now: float, default_language: str) -> None:
    """Write what changed between `before` (None: a new contact) and `after`; the caller WATCHes the
    contact. Consent itself is never written here: only the person's own texts change it."""
    k = keys.of(pipe)
    key, pk = k.contact(after.pk), after.pk
    if before is None:
        pipe.hset(key, "phone", vault.seal(after.number))
        pipe.hsetnx(key, "first_seen", int(now))
        pipe.zadd(k.FIRST_SEEN, {pk: now})
    else:  # someone who texted once joins the retention index now (the center keeps them from the silent
        # sweep): at 0, so the next sweep trims what is older than the period and places them at what is left
        pipe.zadd(k.FIRST_SEEN, {pk: 0}, nx=True)
    old = before.fields if before else {}
    gone = [FIELD_PREFIX + name for name in old if name not in after.fields]
    if gone:
        pipe.hdel(key, *gone)
    changed = {FIELD_PREFIX + n: vault.encrypt(v) for n, v in after.fields.items() if old.get(n) != v}
    if changed:
        pipe.hset(key, mapping=changed)
    _groups(pipe, vault, key, pk, before.groups if before else (), after.groups)
    if after.evidence != (before.evidence if before else None) and after.evidence is not None:
        pipe.hset(key, EVIDENCE, vault.encrypt(json.dumps(after.evidence)))
    if after.language != (before.language if before else ""):
        people.record_language(pipe, vault, pk, after.language or default_language, default_language)
    pipe.hset(key, DIGEST, after.digest)
    pipe.zadd(k.CONTACTS, {pk: now})
    pipe.incr(k.INBOX_VERSION)


def _groups(pipe, vault: Vault, key: str, pk: str, before: tuple[str, ...], after: tuple[str, ...]) -> None:
    k = keys.of(pipe)
    if set(before) == set(after):
        return
    for name in set(before) - set(after):
        pipe.srem(k.group(name), pk)
        pipe.hincrby(k.GROUPS, name, -1)
    for name in set(after) - set(before):
        pipe.sadd(k.group(name), pk)
        pipe.hincrby(k.GROUPS, name, 1)
    if after:
        pipe.hset(key, GROUPS, vault.encrypt(json.dumps(sorted(after))))
    else:
        pipe.hdel(key, GROUPS)


def read_batch(r: Redis, vault: Vault, pks: list[str]) -> dict[str, tuple]:
    """Each person's contact (or None) and their planned journey events with due times (0: handed to a
    worker), in two round trips."""
    pipe = r.pipeline(transaction=False)
    for pk in pks:
        pipe.hgetall(keys.of(r).contact(pk))
    raw = dict(zip(pks, pipe.execute()))
    found = {pk: (decode(vault, pk, h) if h and b"phone" in h else None,
                  tuple((h or {}).get(JOURNEYS_FIELD, b"").decode().split())) for pk, h in raw.items()}
    ids = [eid for _, planned in found.values() for eid in planned]
    due = dict(zip(ids, r.zmscore(keys.of(r).JOURNEYS_DUE, ids))) if ids else {}
    return {pk: (contact, {eid: due.get(eid) or 0.0 for eid in planned}, raw[pk])
            for pk, (contact, planned) in found.items()}


def members(r: Redis, group: str) -> set[str]:
    return {pk.decode() for pk in r.smembers(keys.of(r).group(group))}


def group_sizes(r: Redis) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in r.hgetall(keys.of(r).GROUPS).items() if int(v) > 0}


def known(r: Redis, start: int = 0, count: int = 50) -> tuple[list[str], int]:
    """Person keys of contacts, most recently changed first, and how many there are."""
    return [pk.decode() for pk in r.zrevrange(keys.of(r).CONTACTS, start, start + count - 1)], r.zcard(keys.of(r).CONTACTS)


def unchanged_since(r: Redis, cutoff: float, limit: int) -> list[str]:
    """Contacts whose data nobody changed since `cutoff` (the retention sweep looks at them)."""
    return [pk.decode() for pk in r.zrangebyscore(keys.of(r).CONTACTS, "-inf", f"({cutoff}", start=0, num=limit)]


def record_opt_in(pipe, pk: str, now: float) -> None:
    """They texted START/YES themselves: consent to outreach by text (until a STOP); a contact now."""
    pipe.hset(keys.of(pipe).contact(pk), OPTED_IN, 1)
    pipe.zadd(keys.of(pipe).CONTACTS, {pk: now})


def forget_opt_in(pipe, pk: str) -> None:
    pipe.hdel(keys.of(pipe).contact(pk), OPTED_IN)
