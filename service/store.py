"""Redis layout for people and messages. Keys carry HMAC person keys, never numbers."""
import json
from dataclasses import dataclass, field

from redis import Redis

from flows.engine import Consent, Texter
from service import flowstore, settings
from service.privacy import Vault

HOUR = 3600
INBOUND_TTL = 2 * 24 * HOUR  # Twilio retries and fallbacks arrive within minutes; two days is generous
PENDING_TTL = 30
TRANSCRIPT_LIMIT = 250  # exchanges (a text in and our replies): about the 500 messages kept before
RECENT = "sms:contacts:recent"  # person key -> last message time, for the console's conversation list


def contact_key(pk: str) -> str:
    return f"sms:contact:{pk}"


def records_key(pk: str) -> str:
    """Every other key holding this person's data (call backs, crisis flags, outbound texts): erasure
    must find them without a scan."""
    return f"sms:records:{pk}"


def consent_log_key(pk: str) -> str:
    return f"sms:consent:{pk}"


def transcript_key(pk: str) -> str:
    return f"sms:transcript:{pk}"


def inbound_key(sid: str) -> str:
    return f"sms:inbound:{sid}"


def replies_key(pk: str, crisis: bool = False) -> str:
    return f"sms:{'crisis-replies' if crisis else 'replies'}:{pk}"


@dataclass(frozen=True)
class Claim:
    """Result of claiming a MessageSid: first time, already answered, or being answered right now."""
    fresh: bool
    answer: str | None = None


def release_inbound(r: Redis, sid: str) -> None:
    """Give a claim back when handling failed, so Twilio's retry is processed afresh."""
    r.delete(inbound_key(sid))


@dataclass(frozen=True)
class State:
    texter: Texter
    pending: tuple[str, ...]  # follow-up ids waiting for this person
    has_phone: bool = False
    undeliverable: bool = False
    flows_version: int | None = None
    settings: dict = field(default_factory=dict)  # console overrides of the center's settings


def open_inbound(r: Redis, sid: str, pk: str, now: float) -> tuple[Claim, State]:
    """Claim the MessageSid and read everything the engine needs, in one round trip."""
    pipe = r.pipeline(transaction=False)
    pipe.set(inbound_key(sid), "", nx=True, ex=PENDING_TTL)
    pipe.get(inbound_key(sid))
    pipe.get(flowstore.PUBLISHED)
    pipe.hgetall(settings.KEY)
    pipe.hmget(contact_key(pk), "consent", "followups", "phone", "undeliverable")
    for crisis in (False, True):
        pipe.zcount(replies_key(pk, crisis), now - HOUR, "+inf")
    fresh, answer, version, tuned, (consent, pending, phone, undeliverable), replies, crisis_replies = pipe.execute()
    texter = Texter(Consent(consent.decode()) if consent else Consent.SUBSCRIBED, consent is None,
                    replies, crisis_replies)
    state = State(texter, tuple(pending.decode().split()) if pending else (), phone is not None,
                  undeliverable is not None, int(version) if version else None,
                  {k.decode(): v.decode() for k, v in tuned.items()})
    return Claim(bool(fresh), None if fresh else (answer or b"").decode() or None), state


def recent_contacts(r: Redis, vault: Vault, limit: int = 100) -> list[dict]:
    """Newest conversations first, with what the list page shows (the number decrypted for masking)."""
    people = r.zrevrange(RECENT, 0, limit - 1, withscores=True)
    pipe = r.pipeline(transaction=False)
    for pk, _ in people:
        pipe.hmget(contact_key(pk.decode()), "phone", "consent")
    rows = []
    for (pk, seen), (phone, consent) in zip(people, pipe.execute()):
        if phone:
            rows.append({"pk": pk.decode(), "phone": vault.decrypt(phone), "last_seen": seen,
                         "consent": consent.decode() if consent else Consent.SUBSCRIBED.value})
    return rows


def consent_of(r: Redis, pk: str) -> Consent:
    value = r.hget(contact_key(pk), "consent")
    return Consent(value.decode()) if value else Consent.SUBSCRIBED


def record_contact(pipe, vault: Vault, pk: str, e164: str, consent: Consent | None, now: float,
                   state: State) -> None:
    """`consent` only when it changes: rewriting an unchanged value could undo a STOP (or a carrier
    opt-out) that another process committed since we read it."""
    fields = {"last_seen": int(now)}
    if consent is Consent.OPTED_OUT or (consent is not None and not state.texter.first_contact):
        fields["consent"] = consent.value
    elif consent is not None:  # first contact staying subscribed: never over a STOP that raced in
        pipe.hsetnx(contact_key(pk), "consent", consent.value)
    if state.texter.first_contact:
        fields["first_seen"] = int(now)
    if not state.has_phone:  # first contact, or back after an erasure: only a new text brings the number back
        fields["phone"] = vault.encrypt(e164)
    pipe.hset(contact_key(pk), mapping=fields)
    pipe.zadd(RECENT, {pk: now})
    if state.undeliverable:
        pipe.hdel(contact_key(pk), "undeliverable")  # they just texted us: the number works


def record_consent(pipe, pk: str, consent: Consent, keyword: str, sid: str, now: float) -> None:
    """Append-only audit trail of every consent change: when, which word, which message."""
    entry = {"at": round(now, 3), "state": consent.value, "keyword": keyword, "sid": sid}
    pipe.rpush(consent_log_key(pk), json.dumps(entry))


def consent_history(r: Redis, pk: str) -> list[dict]:
    return [json.loads(e) for e in r.lrange(consent_log_key(pk), 0, -1)]


def record_messages(pipe, vault: Vault, pk: str, messages: list[tuple[str, str, str]], now: float) -> None:
    """One exchange (the text in and our replies, as (direction, body, sid)) as one encrypted entry; the
    transcript keeps the newest TRANSCRIPT_LIMIT exchanges."""
    at = round(now, 3)
    entry = vault.encrypt(json.dumps([{"at": at, "dir": d, "sid": sid, "body": body} for d, body, sid in messages]))
    pipe.rpush(transcript_key(pk), entry)
    pipe.ltrim(transcript_key(pk), -TRANSCRIPT_LIMIT, -1)


def transcript(r: Redis, vault: Vault, pk: str) -> list[dict]:
    """Every message, oldest first. An entry is one exchange (a list) or, as first stored, one message."""
    out = []
    for raw in r.lrange(transcript_key(pk), 0, -1):
        entry = json.loads(vault.decrypt(raw))
        out.extend(entry if isinstance(entry, list) else [entry])
    return out


def count_replies(pipe, pk: str, ids: list[str], now: float, crisis: bool) -> None:
    key = replies_key(pk, crisis)
    pipe.zadd(key, {i: now for i in ids})
    pipe.zremrangebyscore(key, "-inf", now - HOUR)
    pipe.expire(key, HOUR + 60)


def finish_inbound(pipe, sid: str, answer: str) -> None:
    pipe.set(inbound_key(sid), answer, ex=INBOUND_TTL)


