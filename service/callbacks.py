"""Callback requests (CALL) and crisis flags: durable queues that staff work through, oldest first."""
from dataclasses import dataclass
from enum import Enum

from redis import Redis

from service.privacy import Vault

WAITING = "sms:callbacks:waiting"
CRISIS_OPEN = "sms:crisis:open"


class CallbackState(str, Enum):
    WAITING = "waiting"
    CLAIMED = "claimed"
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"


def callback_key(callback_id: str) -> str:
    return f"sms:callback:{callback_id}"


def crisis_key(flag_id: str) -> str:
    return f"sms:crisis:{flag_id}"


@dataclass(frozen=True)
class Callback:
    id: str
    person: str
    phone: str
    state: CallbackState
    created_at: float
    crisis: bool


def open_callback_id(r: Redis, pk: str) -> str | None:
    """A person who texts CALL twice while waiting keeps one place in the queue."""
    value = r.hget(f"sms:contact:{pk}", "open_callback")
    return value.decode() if value and r.zscore(WAITING, value) is not None else None


def request_callback(pipe, vault: Vault, pk: str, e164: str, sid: str, now: float, crisis: bool) -> str:
    callback_id = sid
    pipe.hset(callback_key(callback_id), mapping={
        "person": pk, "phone": vault.encrypt(e164), "state": CallbackState.WAITING.value,
        "created_at": round(now, 3), "sid": sid, "crisis": int(crisis)})
    pipe.zadd(WAITING, {callback_id: now})
    pipe.hset(f"sms:contact:{pk}", "open_callback", callback_id)
    return callback_id


def flag_crisis(pipe, vault: Vault, pk: str, e164: str, sid: str, body: str, now: float) -> None:
    pipe.hset(crisis_key(sid), mapping={
        "person": pk, "phone": vault.encrypt(e164), "body": vault.encrypt(body),
        "created_at": round(now, 3), "sid": sid})
    pipe.zadd(CRISIS_OPEN, {sid: now})


def waiting(r: Redis, vault: Vault, limit: int = 100) -> list[Callback]:
    ids = [i.decode() for i in r.zrange(WAITING, 0, limit - 1)]
    pipe = r.pipeline(transaction=False)
    for callback_id in ids:
        pipe.hgetall(callback_key(callback_id))
    return [_callback(cid, h, vault) for cid, h in zip(ids, pipe.execute()) if h]


def _callback(callback_id: str, h: dict, vault: Vault) -> Callback:
    return Callback(callback_id, h[b"person"].decode(), vault.decrypt(h[b"phone"]),
                    CallbackState(h[b"state"].decode()), float(h[b"created_at"]), h[b"crisis"] == b"1")


def crisis_flags(r: Redis) -> list[str]:
    return [i.decode() for i in r.zrange(CRISIS_OPEN, 0, -1)]
