"""People: the contact record, consent and its audit trail, the transcript, the recent list, erasure."""
import json

from redis import Redis

from flows.engine import Consent
from service.privacy import Vault
from service.store import followups, keys

HOUR = 3600
TRANSCRIPT_LIMIT = 250  # exchanges (a text in and our replies): about the 500 messages kept before
CARRIER_OPT_OUT = "CARRIER_21610"  # the keyword recorded when the carrier tells us a person opted out


def record_contact(pipe, vault: Vault, pk: str, e164: str, consent: Consent | None, now: float,
                   first_contact: bool, has_phone: bool, undeliverable: bool, simulated: bool = False) -> None:
    """`consent` only when it changes: rewriting an unchanged value could undo a STOP (or a carrier
    opt-out) that another process committed since we read it."""
    fields = {"last_seen": int(now)}
    if consent is Consent.OPTED_OUT or (consent is not None and not first_contact):
        fields["consent"] = consent.value
    elif consent is not None:  # first contact staying subscribed: never over a STOP that raced in
        pipe.hsetnx(keys.contact(pk), "consent", consent.value)
    if first_contact:
        fields["first_seen"] = int(now)
    if not has_phone:  # first contact, or back after an erasure: only a new text brings the number back
        fields["phone"] = vault.encrypt(e164)
    if simulated:  # the console's simulator: this person's texts go to the outbox, never to a phone
        fields["simulated"] = 1
    pipe.hset(keys.contact(pk), mapping=fields)
    pipe.zadd(keys.RECENT, {pk: now})
    if undeliverable:
        pipe.hdel(keys.contact(pk), "undeliverable")  # they just texted us: the number works


def consent_of(r: Redis, pk: str) -> Consent:
    value = r.hget(keys.contact(pk), "consent")
    return Consent(value.decode()) if value else Consent.SUBSCRIBED


def record_consent(pipe, pk: str, consent: Consent, keyword: str, sid: str, now: float) -> None:
    """Append-only audit trail of every consent change: when, which word, which message."""
    entry = {"at": round(now, 3), "state": consent.value, "keyword": keyword, "sid": sid}
    pipe.rpush(keys.consent_log(pk), json.dumps(entry))


def consent_history(r: Redis, pk: str) -> list[dict]:
    return [json.loads(e) for e in r.lrange(keys.consent_log(pk), 0, -1)]


def carrier_opt_out(r: Redis, pk: str, mid: str, now: float) -> None:
    """The carrier's word overrides ours (Twilio error 21610): opted out, nothing more is sent."""
    pending = followups.pending_of(r, pk)
    pipe = r.pipeline()
    pipe.hset(keys.contact(pk), "consent", Consent.OPTED_OUT.value)
    record_consent(pipe, pk, Consent.OPTED_OUT, CARRIER_OPT_OUT, mid, now)
    followups.cancel(pipe, pk, pending)
    pipe.execute()


def mark_undeliverable(r: Redis, pk: str, now: float) -> None:
    """Not a mobile number, or not reachable: no more follow-ups until they text us again."""
    pending = followups.pending_of(r, pk)
    pipe = r.pipeline()
    pipe.hset(keys.contact(pk), "undeliverable", int(now))
    followups.cancel(pipe, pk, pending)
    pipe.execute()


def record_exchange(pipe, vault: Vault, pk: str, messages: list[tuple[str, str, str]], now: float) -> None:
    """One exchange (the text in and our replies, as (direction, body, sid)) as one encrypted entry; the
    transcript keeps the newest TRANSCRIPT_LIMIT exchanges."""
    at = round(now, 3)
    entry = vault.encrypt(json.dumps([{"at": at, "dir": d, "sid": sid, "body": body} for d, body, sid in messages]))
    pipe.rpush(keys.transcript(pk), entry)
    pipe.ltrim(keys.transcript(pk), -TRANSCRIPT_LIMIT, -1)


def transcript(r: Redis, vault: Vault, pk: str) -> list[dict]:
    """Every message, oldest first. An entry is one exchange (a list) or, as first stored, one message."""
    out = []
    for raw in r.lrange(keys.transcript(pk), 0, -1):
        entry = json.loads(vault.decrypt(raw))
        out.extend(entry if isinstance(entry, list) else [entry])
    return out


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


def erase(r: Redis, pk: str) -> None:
    """Erase a person's messages, number, call backs, crisis flags and outbound texts (queued ones are
    then never sent); the consent trail stays, as proof that a STOP was honoured."""
    pending = followups.pending_of(r, pk)
    records = [k.decode() for k in r.smembers(keys.records(pk))]
    ids = [k.rsplit(":", 1)[1] for k in records]
    pipe = r.pipeline()
    followups.cancel(pipe, pk, pending)
    pipe.delete(keys.transcript(pk), keys.replies(pk), keys.replies(pk, True), keys.records(pk), *records)
    if ids:
        pipe.zrem(keys.CALLBACKS_WAITING, *ids)
        pipe.zrem(keys.CRISIS_OPEN, *ids)
    pipe.hdel(keys.contact(pk), "phone", "open_callback")
    pipe.hset(keys.contact(pk), "deleted", 1)
    pipe.zrem(keys.RECENT, pk)
    pipe.execute()
