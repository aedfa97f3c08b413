"""Outbound message records: created before sending, so a crash can never cause a second text."""
import json
from enum import Enum, IntEnum

from redis import Redis

from flows.engine import Consent
from service.privacy import Vault
from service.store import keys, scripts

PROVIDER_TTL = 30 * 86400
EARLY_TTL = 7 * 86400
DAILY_TTL = 400 * 86400  # store/daily.py's: a day's insight counters are kept this long


class OutState(str, Enum):
    QUEUED = "queued"  # ours: not yet handed to the provider
    SENDING = "sending"  # ours: the provider call started; never start it again
    SENT = "sent"  # accepted by the provider; its callbacks refine `status`
    UNKNOWN = "unknown"  # the call may or may not have gone through
    SKIPPED = "skipped"  # consent changed before sending
    OPTED_OUT = "opted_out"
    UNDELIVERABLE = "undeliverable"
    REJECTED = "rejected"


class Kind(str, Enum):
    FOLLOWUP = "followup"
    ALERT = "alert"
    REPLY = "reply"  # written by a staff member
    BROADCAST = "broadcast"  # one text to many (store/broadcasts.py)


# Twilio MessageStatus order; a callback may only move a message forward.
STATUS_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
               "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5}


class SendClaim(IntEnum):
    TAKEN = 0  # not queued any more: another worker has it, or it was erased
    CLAIMED = 1  # ours to send, exactly once
    REFUSED = 2  # the person opted out (now skipped) or was erased (now gone) since it was queued

    def __bool__(self) -> bool:
        return self is SendClaim.CLAIMED


def create(pipe, vault: Vault, mid: str, to: str, body: str, kind: Kind, person: str, now: float,
           simulated: bool = False, day: str = "", broadcast: str = "", content: dict | None = None) -> None:
    """`simulated`: caused by the console's simulator, so it goes to the outbox, never to a phone.
    `day`: the local date its delivery is counted under in the insights (store/daily.py), if at all.
    `broadcast`: the broadcast it belongs to (its funnel counts it; a cancel stops it at the last step).
    `content`: an approved template sent instead of the body (flows.templates; encrypted: its variables
    may name the person's fields)."""
    k = keys.of(pipe)
    pipe.hsetnx(k.message(mid), "state", OutState.QUEUED.value)
    pipe.hset(k.message(mid), mapping={"to": vault.encrypt(to), "body": vault.encrypt(body), "kind": kind.value,
                                          "person": person, "created_at": round(now, 3), "simulated": int(simulated),
                                          **({"day_key": k.daily(day)} if day and not simulated else {}),
                                          **({"bc_key": k.broadcast(broadcast)} if broadcast else {}),
                                          **({"content": vault.encrypt(json.dumps(content))} if content else {})})
    if person:
        pipe.sadd(k.records(person), k.message(mid))


def create_alerts(pipe, vault: Vault, source_id: str, numbers: tuple[str, ...], body: str, now: float,
                  simulated: bool = False, about: str = "") -> list[str]:
    """One record per on-call number; ids derive from what caused the alert, so a retry adds none.
    `about`: the person whose message caused it (their erasure removes it too)."""
    k = keys.of(pipe)
    mids = [f"alert_{source_id}_{i}" for i in range(len(numbers))]
    for mid, number in zip(mids, numbers):
        create(pipe, vault, mid, number, body, Kind.ALERT, "", now, simulated)
        if about:
            pipe.sadd(k.records(about), k.message(mid))
    if mids:
        pipe.zadd(k.ALERTS_PENDING, {mid: now for mid in mids})
    return mids


LINK_RETRIES = 5  # a record naming other keys than just read: read again (it never happens but by a race)


def exists(r: Redis, mid: str) -> bool:
    return bool(r.exists(keys.of(r).message(mid)))


def state_of(r: Redis, mid: str) -> OutState | None:
    value = r.hget(keys.of(r).message(mid), "state")
    return OutState(value.decode()) if value else None


def claim(r: Redis, mid: str, now: float, person: str = "") -> SendClaim:
    """queued -> sending, atomically: of two racing workers only one may call the provider, and never
    for someone who opted out (then queued -> skipped; the caller records the outcome with finish) or
    was erased (then the record is deleted)."""
    message = keys.of(r).message(mid)
    args = [OutState.QUEUED.value, OutState.SENDING.value, OutState.SKIPPED.value, Consent.OPTED_OUT.value, now]
    return SendClaim(_declaring(lambda: scripts.run(
        r, "claim_send", [message, _linked(r, message)[2]] + ([keys.of(r).contact(person)] if person else []), args),
        f"message {mid} being claimed"))


def skip(r: Redis, mid: str) -> bool:
    """queued -> skipped, only if nobody took it meanwhile; True when this call did it."""
    return _move(r, mid, OutState.QUEUED, OutState.SKIPPED)


def release(r: Redis, mid: str) -> bool:
    """sending -> queued, only when the provider certainly never received the request."""
    return _move(r, mid, OutState.SENDING, OutState.QUEUED)


def _move(r: Redis, mid: str, from_: OutState, to: OutState) -> bool:
    return bool(scripts.run(r, "move_state", [keys.of(r).message(mid)], [from_.value, to.value]))


def finish(r: Redis, mid: str, state: OutState, keep_seconds: int, provider_sid: str = "",
           code: int | None = None) -> bool:
    """Record a send's outcome (and adopt any status callback that beat it); False when the record was
    erased meanwhile, which stays erased. The finished record is kept `keep_seconds` (the retention)."""
    k = keys.of(r)
    code_text = "" if code is None else str(code)
    message = k.message(mid)
    fixed = [message, k.METRICS_OUTBOUND, k.ALERTS_PENDING, k.provider_sid(provider_sid),
             k.early_status(provider_sid), k.INBOX_VERSION]
    args = [state.value, provider_sid, code_text, f"{state.value}|{code_text}", mid, PROVIDER_TTL,
            json.dumps(STATUS_RANK), keep_seconds, DAILY_TTL]
    return bool(_declaring(lambda: scripts.run(r, "finish_send", fixed + _linked(r, message), args),
                           f"message {mid} being finished"))


def advance_status(r: Redis, provider_sid: str, status: str, error_code: str) -> bool:
    """Apply a status callback unless the message already reached that stage or a later one.

    A callback can beat our own bookkeeping of the send; it waits under the provider sid until finish()
    adopts it into the message (or expires unclaimed after a week).
    """
    k = keys.of(r)
    early = k.early_status(provider_sid)

    def attempt():
        mid = (r.get(k.provider_sid(provider_sid)) or b"").decode()
        target = k.message(mid) if mid else early
        day, _, bc, _, failed = _linked(r, target) if mid else (target,) * 5
        return scripts.run(r, "advance_status", [k.provider_sid(provider_sid), early, k.INBOX_VERSION, target,
                                                 day, bc, failed],
                           [status, error_code, json.dumps(STATUS_RANK), EARLY_TTL, mid, DAILY_TTL])
    return bool(_declaring(attempt, f"status of {provider_sid}"))


def _declaring(attempt, what: str):
    """A script given the keys a record names, read just before: -1 says the record names others now (a
    race), so it is read and run again; nothing was written."""
    for _ in range(LINK_RETRIES):
        outcome = attempt()
        if outcome != -1:
            return outcome
    raise RuntimeError(f"{what} kept naming other keys")


def _linked(r: Redis, message: str) -> list[str]:
    """The keys a message's record names, which the scripts that count its outcome touch and so must
    declare: its day's counters and their sketch of people texted, its broadcast with its in-flight and
    failed sets (the message key in their place when it names none). Both names never change."""
    day, bc = (v.decode() if v else "" for v in r.hmget(message, "day_key", "bc_key"))
    return [*((day, f"{day}:texted") if day else (message,) * 2),
            *((bc, f"{bc}:inflight", f"{bc}:failed") if bc else (message,) * 3)]


def load(r: Redis, vault: Vault, mid: str) -> dict | None:
    raw = r.hgetall(keys.of(r).message(mid))
    if not raw:
        return None
    rec = {k.decode(): v.decode() for k, v in raw.items()}
    rec["to"], rec["body"] = vault.decrypt(rec["to"]), vault.decrypt(rec["body"])
    if "content" in rec:
        rec["content"] = json.loads(vault.decrypt(rec["content"]))
    return rec


def stranded_alerts(r: Redis, before: float) -> list[tuple[str, OutState | None, float]]:
    """Staff alerts created before `before` and not final: (id, state, claimed at)."""
    mids = [m.decode() for m in r.zrangebyscore(keys.of(r).ALERTS_PENDING, "-inf", before)]
    pipe = r.pipeline(transaction=False)
    for mid in mids:
        pipe.hmget(keys.of(r).message(mid), "state", "claimed_at")
    return [(mid, OutState(s.decode()) if s else None, float(c or 0)) for mid, (s, c) in zip(mids, pipe.execute())]


def forget_alert(r: Redis, mid: str) -> None:
    r.zrem(keys.of(r).ALERTS_PENDING, mid)
