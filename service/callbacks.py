"""Callback requests (CALL) and crisis flags: durable queues that staff work through, oldest first."""
import json
import time
from dataclasses import dataclass
from enum import Enum

from redis import Redis

from service import scripts
from service.privacy import Vault
from service.store import contact_key, records_key

WAITING = "sms:callbacks:waiting"  # open requests (waiting or claimed), by request time
CRISIS_OPEN = "sms:crisis:open"
ESCALATED = "sms:callbacks:escalated"


class CallbackState(str, Enum):
    WAITING = "waiting"
    CLAIMED = "claimed"
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"


CLOSING = {CallbackState.REACHED, CallbackState.WRONG_NUMBER}


def callback_key(callback_id: str) -> str:
    return f"sms:callback:{callback_id}"


def crisis_key(flag_id: str) -> str:
    return f"sms:crisis-flag:{flag_id}"


@dataclass(frozen=True)
class Callback:
    id: str
    person: str
    phone: str
    state: CallbackState
    created_at: float
    crisis: bool
    claimed_by: str = ""
    attempts: int = 0
    notes: tuple[dict, ...] = ()


def open_callback_id(r: Redis, pk: str) -> str | None:
    """A person who texts CALL twice while waiting keeps one place in the queue."""
    value = r.hget(contact_key(pk), "open_callback")
    return value.decode() if value and r.zscore(WAITING, value) is not None else None


def request_callback(pipe, vault: Vault, pk: str, e164: str, sid: str, now: float, crisis: bool) -> str:
    callback_id = sid
    pipe.hset(callback_key(callback_id), mapping={
        "person": pk, "phone": vault.encrypt(e164), "state": CallbackState.WAITING.value,
        "created_at": round(now, 3), "sid": sid, "crisis": int(crisis)})
    pipe.zadd(WAITING, {callback_id: now})
    pipe.hset(contact_key(pk), "open_callback", callback_id)
    pipe.sadd(records_key(pk), callback_key(callback_id))
    return callback_id


def flag_crisis(pipe, vault: Vault, pk: str, e164: str, sid: str, body: str, now: float) -> None:
    pipe.hset(crisis_key(sid), mapping={
        "person": pk, "phone": vault.encrypt(e164), "body": vault.encrypt(body),
        "created_at": round(now, 3), "sid": sid})
    pipe.zadd(CRISIS_OPEN, {sid: now})
    pipe.sadd(records_key(pk), crisis_key(sid))


def waiting(r: Redis, vault: Vault, limit: int = 200) -> list[Callback]:
    ids = [i.decode() for i in r.zrange(WAITING, 0, limit - 1)]
    return [cb for cb in (get(r, vault, i) for i in ids) if cb]


def get(r: Redis, vault: Vault, callback_id: str) -> Callback | None:
    h = {k.decode(): v.decode() for k, v in r.hgetall(callback_key(callback_id)).items()}
    if not h:
        return None
    return Callback(callback_id, h["person"], vault.decrypt(h["phone"]), CallbackState(h["state"]),
                    float(h["created_at"]), h.get("crisis") == "1", h.get("claimed_by", ""),
                    int(h.get("attempts", 0)), tuple(json.loads(h.get("notes", "[]"))))


def claim(r: Redis, callback_id: str, who: str) -> bool:
    """First staff member to claim gets it; others see who has it."""
    return bool(scripts.run(r, _CLAIM, [callback_key(callback_id)], [who, time.time()]))


_CLAIM = """
if redis.call('HGET', KEYS[1], 'state') ~= 'waiting' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'claimed', 'claimed_by', ARGV[1], 'claimed_at', ARGV[2])
return 1
"""


def record_outcome(r: Redis, vault: Vault, callback_id: str, who: str, outcome: CallbackState, note: str) -> None:
    """Reached and wrong number close the request; no answer puts it back in the queue for another try."""
    cb = get(r, vault, callback_id)
    if cb is None:
        raise KeyError(callback_id)
    notes = [*cb.notes, {"at": round(time.time(), 3), "who": who, "outcome": outcome.value, "note": note}]
    pipe = r.pipeline()
    state = outcome if outcome in CLOSING else CallbackState.WAITING
    pipe.hset(callback_key(callback_id), mapping={"state": state.value, "claimed_by": "",
                                                  "attempts": cb.attempts + 1, "notes": json.dumps(notes)})
    if outcome in CLOSING:
        pipe.zrem(WAITING, callback_id)
        pipe.srem(ESCALATED, callback_id)
        pipe.hdel(contact_key(cb.person), "open_callback")
    pipe.execute()


def crisis_flags(r: Redis, vault: Vault) -> list[dict]:
    flags = []
    for flag_id in (i.decode() for i in r.zrange(CRISIS_OPEN, 0, -1)):
        h = {k.decode(): v.decode() for k, v in r.hgetall(crisis_key(flag_id)).items()}
        if h:
            flags.append({"id": flag_id, "person": h["person"], "created_at": float(h["created_at"]),
                          "body": vault.decrypt(h["body"])})
    return flags


def resolve_crisis(r: Redis, flag_id: str, who: str) -> bool:
    if r.zscore(CRISIS_OPEN, flag_id) is None:
        return False
    pipe = r.pipeline()
    pipe.zrem(CRISIS_OPEN, flag_id)
    pipe.hset(crisis_key(flag_id), mapping={"resolved_by": who, "resolved_at": time.time()})
    pipe.execute()
    return True


def overdue_unclaimed(r: Redis, now: float, after_seconds: int) -> list[str]:
    """Waiting (not claimed), older than `after_seconds`, not yet escalated."""
    ids = [i.decode() for i in r.zrangebyscore(WAITING, "-inf", now - after_seconds)]
    return [i for i in ids if r.hget(callback_key(i), "state") == b"waiting" and not r.sismember(ESCALATED, i)]
