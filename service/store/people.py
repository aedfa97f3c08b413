"""People: the contact record, consent and its audit trail, the transcript, the recent list, erasure."""
import json

from redis import Redis

from flows.engine import Consent
from service.privacy import Vault
from service.store import daily, followups, keys

HOUR = 3600
TRANSCRIPT_LIMIT = 250  # exchanges (a text in and our replies): about the 500 messages kept before
CARRIER_OPT_OUT = "CARRIER_21610"  # the keyword recorded when the carrier tells us a person opted out
LANGUAGE = "lang"  # the person's language when it is not the program's default, encrypted
OWED = "owe"  # their first answer was a crisis answer: the disclosure goes with the next ordinary one
ECHO = "echo"  # digests of the latest texts both ways (flows.echo): an auto-responder is recognised


def record_contact(pipe, vault: Vault, pk: str, e164: str, consent: Consent | None, now: float,
                   first_contact: bool, has_phone: bool, undeliverable: bool, simulated: bool = False,
                   touch: bool = True) -> None:
    """`consent` only when it changes: rewriting an unchanged value could undo a STOP (or a carrier
    opt-out) that another process committed since we read it. `touch`: this message is the person's
    latest news (a stale replayed one is not, and must not move their last-seen time back)."""
    fields = {"last_seen": round(now, 3)} if touch else {}
    if consent is Consent.OPTED_OUT or (consent is not None and not first_contact):
        fields["consent"], fields["consent_at"] = consent.value, round(now, 3)
    elif consent is not None:  # first contact staying subscribed: never over a STOP that raced in
        pipe.hsetnx(keys.contact(pk), "consent", consent.value)
    if first_contact:
        fields["first_seen"] = int(now)
    if first_contact or not has_phone:  # new, or back after an erasure: the retention sweep must see them
        pipe.zadd(keys.FIRST_SEEN, {pk: now})
    if not has_phone:  # first contact, or back after an erasure: only a new text brings the number back
        fields["phone"] = vault.encrypt(e164)
    if simulated:  # the console's simulator: this person's texts go to the outbox, never to a phone
        fields["simulated"] = 1
    if fields:
        pipe.hset(keys.contact(pk), mapping=fields)
    if touch:
        pipe.zadd(keys.RECENT, {pk: now})
    if undeliverable:
        pipe.hdel(keys.contact(pk), "undeliverable")  # they just texted us: the number works


def is_simulated(r, pk: str) -> bool:
    return r.hget(keys.contact(pk), "simulated") == b"1"


def mark_simulated(r, pk: str) -> None:
    """A simulator's person: whatever reaches them goes to the outbox, never to a phone."""
    r.hset(keys.contact(pk), "simulated", 1)


def record_language(pipe, vault: Vault, pk: str, language: str, default: str) -> None:
    """The language the person's texts are in; not stored for the program's default language."""
    if language == default:
        pipe.hdel(keys.contact(pk), LANGUAGE)
    else:
        pipe.hset(keys.contact(pk), LANGUAGE, vault.encrypt(language))


def language_of(vault: Vault, token: bytes | None) -> str:
    """"" for the program's default language."""
    return vault.decrypt(token) if token else ""


def consent_of(r: Redis, pk: str) -> Consent:
    value = r.hget(keys.contact(pk), "consent")
    return Consent(value.decode()) if value else Consent.SUBSCRIBED


def record_consent(pipe, pk: str, consent: Consent, keyword: str, sid: str, now: float) -> None:
    """Append-only audit trail of every consent change: when, which word, which message."""
    entry = {"at": round(now, 3), "state": consent.value, "keyword": keyword, "sid": sid}
    pipe.rpush(keys.consent_log(pk), json.dumps(entry))


def consent_history(r: Redis, pk: str) -> list[dict]:
    return [json.loads(e) for e in r.lrange(keys.consent_log(pk), 0, -1)]


def carrier_opt_out(r: Redis, pk: str, mid: str, now: float, day: str = "") -> None:
    """The carrier's word overrides ours (Twilio error 21610): opted out, nothing more is sent."""
    pending = followups.pending_of(r, pk)
    pipe = r.pipeline()
    if day:
        daily.count(pipe, day, "carrier_opt_outs")
        if pending:
            daily.count(pipe, day, "followups_held:opted_out", len(pending))
    pipe.hset(keys.contact(pk), mapping={"consent": Consent.OPTED_OUT.value, "consent_at": round(now, 3)})
    record_consent(pipe, pk, Consent.OPTED_OUT, CARRIER_OPT_OUT, mid, now)
    followups.cancel_all(pipe, pk, pending)
    pipe.execute()


def mark_undeliverable(r: Redis, pk: str, now: float) -> None:
    """Not a mobile number, or not reachable: no more follow-ups until they text us again."""
    pending = followups.pending_of(r, pk)
    pipe = r.pipeline()
    pipe.hset(keys.contact(pk), "undeliverable", int(now))
    followups.cancel_all(pipe, pk, pending)
    pipe.execute()


def record_exchange(pipe, vault: Vault, pk: str, messages: list[tuple], now: float) -> None:
    """One exchange (the text in and our replies, as (direction, body, sid[, source])) as one encrypted
    entry; `source` says which flow and step (or program message) an automatic reply came from. The
    transcript keeps the newest TRANSCRIPT_LIMIT exchanges."""
    at = round(now, 3)
    token = vault.encrypt(json.dumps([{"at": at, "dir": m[0], "sid": m[2], "body": m[1],
                                       **({"src": m[3]} if len(m) > 3 else {})} for m in messages]))
    pipe.rpush(keys.transcript(pk), f"{int(now)}:{token}")  # the time outside, so retention needs no decrypting
    pipe.ltrim(keys.transcript(pk), -TRANSCRIPT_LIMIT, -1)


def transcript(r: Redis, vault: Vault, pk: str) -> list[dict]:
    """Every message, oldest first. An entry is one exchange (a list) or, as first stored, one message."""
    out = []
    for raw in r.lrange(keys.transcript(pk), 0, -1):
        out.extend(decode_entry(vault, raw))
    return sorted(out, key=lambda m: m["at"])  # a message replayed after an outage joins at its own time


def decode_entry(vault: Vault, raw: bytes) -> list[dict]:
    entry = json.loads(vault.decrypt(entry_token(raw)))
    return entry if isinstance(entry, list) else [entry]


def entry_token(raw: bytes) -> bytes:
    """A transcript entry is "time:token" (or, as first stored, the token alone)."""
    return raw.split(b":", 1)[1] if b":" in raw else raw


def entry_time(raw: bytes) -> float | None:
    return float(raw.split(b":", 1)[0]) if b":" in raw else None


def count_replies(pipe, pk: str, ids: list[str], now: float, crisis: bool) -> None:
    key = keys.replies(pk, crisis)
    pipe.zadd(key, {i: now for i in ids})
    pipe.zremrangebyscore(key, "-inf", now - HOUR)
    pipe.expire(key, HOUR + 60)


def phone_of(r: Redis, vault: Vault, pk: str) -> str | None:
    value = r.hget(keys.contact(pk), "phone")
    return vault.decrypt(value) if value else None


def recent(r: Redis, vault: Vault, limit: int = 100) -> list[dict]:
    """Newest conversations first, with what the list page shows (the number decrypted for masking)."""
    people = r.zrevrange(keys.RECENT, 0, limit - 1, withscores=True)
    pipe = r.pipeline(transaction=False)
    for pk, _ in people:
        pipe.hmget(keys.contact(pk.decode()), "phone", "consent")
    rows = []
    for (pk, seen), (phone, consent) in zip(people, pipe.execute()):
        if phone:
            rows.append({"pk": pk.decode(), "phone": vault.decrypt(phone), "last_seen": seen,
                         "consent": consent.decode() if consent else Consent.SUBSCRIBED.value})
    return rows


def silent_since(r: Redis, cutoff: float, limit: int) -> list[str]:
    """People whose last message is older than `cutoff` (the retention sweep erases them)."""
    return [pk.decode() for pk in r.zrangebyscore(keys.RECENT, "-inf", f"({cutoff}", start=0, num=limit)]


def kept_since(r: Redis, cutoff: float, limit: int) -> list[str]:
    """People holding records older than `cutoff`."""
    return [pk.decode() for pk in r.zrangebyscore(keys.FIRST_SEEN, "-inf", f"({cutoff}", start=0, num=limit)]


def trim_before(r: Redis, pk: str, cutoff: float) -> int:
    """Drop transcript exchanges and staff notes older than `cutoff` and the MessageSids of older consent
    changes; the person's place in the index moves to their oldest record left. Returns how many
    exchanges and notes went."""
    head = r.lrange(keys.transcript(pk), 0, TRANSCRIPT_LIMIT)
    old = sum(1 for _ in _while_older(head, cutoff))
    staff_notes = r.lrange(keys.notes(pk), 0, -1)
    old_notes = sum(1 for _ in _while_older(staff_notes, cutoff))
    trail = [json.loads(e) for e in r.lrange(keys.consent_log(pk), 0, -1)]
    pipe = r.pipeline()
    if old:
        pipe.ltrim(keys.transcript(pk), old, -1)
    if old_notes:
        pipe.ltrim(keys.notes(pk), old_notes, -1)
    for i, entry in enumerate(trail):
        if entry["at"] < cutoff and "sid" in entry:
            pipe.lset(keys.consent_log(pk), i, json.dumps({k: v for k, v in entry.items() if k != "sid"}))
    left = [t for t in (entry_time(head[old]) if old < len(head) else None,
                        entry_time(staff_notes[old_notes]) if old_notes < len(staff_notes) else None) if t is not None]
    pipe.zadd(keys.FIRST_SEEN, {pk: min(left) if left else cutoff})
    pipe.execute()
    return old + old_notes


def _while_older(entries: list[bytes], cutoff: float):
    for raw in entries:
        at = entry_time(raw)
        if at is None or at >= cutoff:
            return
        yield raw


def record_disclosure(pipe, pk: str, owed: bool) -> None:
    if owed:
        pipe.hset(keys.contact(pk), OWED, 1)
    else:
        pipe.hdel(keys.contact(pk), OWED)


def record_recent(pipe, pk: str, digests: tuple[str, ...]) -> None:
    pipe.hset(keys.contact(pk), ECHO, " ".join(digests))
