"""Call back requests (CALL): a durable queue that staff work through, oldest first (the simulator's
requests in a queue of their own, never in the real one or its counts). Crises are store/crises.py's."""
import json
from dataclasses import dataclass
from enum import Enum

from redis import Redis, WatchError

from service.privacy import Vault
from service.store import daily, keys, scripts


class CallbackState(str, Enum):
    WAITING = "waiting"
    CLAIMED = "claimed"
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"


CLOSING = {CallbackState.REACHED, CallbackState.WRONG_NUMBER}


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
    simulated: bool = False
    closed_at: float = 0.0


def request(pipe, vault: Vault, pk: str, e164: str, sid: str, now: float, crisis: bool,
            simulated: bool = False, day: str = "", promised_at: float | None = None, hour: int | None = None) -> str:
    """`day` and `hour`: the local date and hour it is counted under in the insights (none for the
    simulator's people);
    `promised_at`: when the texter was told a person would call by."""
    k = keys.of(pipe)
    callback_id = sid
    pipe.hset(k.callback(callback_id), mapping={
        "person": pk, "phone": vault.encrypt(e164), "state": CallbackState.WAITING.value,
        "created_at": round(now, 3), "sid": sid, "crisis": int(crisis), "simulated": int(simulated),
        **({"day": day} if day and not simulated else {}),
        **({"promised_at": round(promised_at, 3)} if promised_at else {})})
    if day and not simulated:
        daily.counts(pipe, day, {"callbacks_requested": 1, **({f"callback_hour:{hour}": 1} if hour is not None else {})})
    pipe.zadd(waiting_index(pipe, simulated), {callback_id: now})
    pipe.hset(k.contact(pk), "open_callback", callback_id)
    pipe.sadd(k.records(pk), k.callback(callback_id))
    return callback_id


def waiting_index(r, simulated: bool = False) -> str:
    return keys.of(r).CALLBACKS_WAITING_TEST if simulated else keys.of(r).CALLBACKS_WAITING


def waiting(r: Redis, vault: Vault, limit: int = 200, simulated: bool = False) -> list[Callback]:
    ids = [i.decode() for i in r.zrange(waiting_index(r, simulated), 0, limit - 1)]
    return [cb for cb in (get(r, vault, i) for i in ids) if cb]


def get(r, vault: Vault, callback_id: str) -> Callback | None:
    h = {k.decode(): v.decode() for k, v in r.hgetall(keys.of(r).callback(callback_id)).items()}
    if not h:
        return None
    notes = json.loads(vault.decrypt(h["notes"])) if h.get("notes") else []
    return Callback(callback_id, h["person"], vault.decrypt(h["phone"]), CallbackState(h["state"]),
                    float(h["created_at"]), h.get("crisis") == "1", h.get("claimed_by", ""),
                    int(h.get("attempts", 0)), tuple(notes), h.get("simulated") == "1", float(h.get("closed_at", 0)))


def claim_callback(r: Redis, callback_id: str, who: str, now: float) -> bool:
    """First staff member to claim gets it; others see who has it."""
    claimed = bool(scripts.run(r, "claim_callback", [keys.of(r).callback(callback_id)],
                               [CallbackState.WAITING.value, CallbackState.CLAIMED.value, who, now]))
    if claimed:
        r.incr(keys.of(r).INBOX_VERSION)
    return claimed


def record_outcome(r: Redis, vault: Vault, callback_id: str, who: str, outcome: CallbackState, note: str,
                   now: float, keep_seconds: int) -> bool:
    """Reached and wrong number close the request; no answer puts it back in the queue for another try.
    Only the one who holds the claim records what happened, once: False when the call back is not (or no
    longer) claimed by `who` (a double click, a stale tab, a colleague's claim). WATCHed, so a call back
    erased meanwhile is never written back."""
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(keys.of(r).callback(callback_id))
                return _record_outcome(pipe, vault, callback_id, who, outcome, note, now, keep_seconds)
            except WatchError:
                continue


def _record_outcome(pipe, vault: Vault, callback_id: str, who: str, outcome: CallbackState, note: str, now: float,
                    keep_seconds: int) -> bool:
    k = keys.of(pipe)
    cb = get(pipe, vault, callback_id)
    if cb is None:
        raise KeyError(callback_id)
    if cb.state is not CallbackState.CLAIMED or cb.claimed_by != who:
        return False
    day, promised_at = pipe.hmget(k.callback(callback_id), "day", "promised_at")
    pipe.watch(k.contact(cb.person))  # watched before it is read: a newer request meanwhile retries
    open_now = pipe.hget(k.contact(cb.person), "open_callback")
    notes = [*cb.notes, {"at": round(now, 3), "who": who, "outcome": outcome.value, "note": note}]
    pipe.multi()
    if day:  # the insights: how fast a first call was tried, and whether they were reached in time
        day = day.decode()
        if cb.attempts == 0:
            daily.minutes(pipe, day, "callback_first_attempt", now - cb.created_at)
        daily.count(pipe, day, f"callback_outcome:{outcome.value}")
        if outcome is CallbackState.REACHED:
            daily.count(pipe, day, "callbacks_reached")
            if promised_at and now <= float(promised_at):
                daily.count(pipe, day, "callbacks_reached_in_time")
    state = outcome if outcome in CLOSING else CallbackState.WAITING
    pipe.hset(k.callback(callback_id), mapping={"state": state.value, "claimed_by": "", "attempts": cb.attempts + 1,
                                                   "notes": vault.encrypt(json.dumps(notes))})  # staff write names
    pipe.incr(k.INBOX_VERSION)
    if outcome in CLOSING:
        pipe.hset(k.callback(callback_id), "closed_at", round(now, 3))
        pipe.expire(k.callback(callback_id), keep_seconds)
        pipe.zadd(k.CALLBACKS_CLOSED, {callback_id: now})
        pipe.zrem(waiting_index(pipe, cb.simulated), callback_id)
        pipe.srem(k.CALLBACKS_ESCALATED, callback_id)
        if open_now == callback_id.encode():  # never the pointer to a newer request of theirs
            pipe.hdel(k.contact(cb.person), "open_callback")
    pipe.execute()
    return True


def release_claim(r: Redis, callback_id: str, who: str) -> bool:
    """A claim given up: back to waiting, for anyone (only the claimer's own claim)."""
    k = keys.of(r)
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(k.callback(callback_id))
                state, claimed_by = pipe.hmget(k.callback(callback_id), "state", "claimed_by")
                if state != CallbackState.CLAIMED.value.encode() or (claimed_by or b"").decode() != who:
                    return False
                pipe.multi()
                pipe.hset(k.callback(callback_id), mapping={"state": CallbackState.WAITING.value, "claimed_by": ""})
                pipe.incr(k.INBOX_VERSION)
                pipe.execute()
                return True
            except WatchError:
                continue


def closed_since(r: Redis, vault: Vault, since: float, limit: int = 200) -> list[Callback]:
    """Closed call backs, newest first (their records expire with the retention period)."""
    ids = [i.decode() for i in r.zrevrangebyscore(keys.of(r).CALLBACKS_CLOSED, "+inf", since, start=0, num=limit)]
    return [cb for cb in (get(r, vault, i) for i in ids) if cb]


def forget_closed_before(r: Redis, cutoff: float) -> int:
    return r.zremrangebyscore(keys.of(r).CALLBACKS_CLOSED, "-inf", cutoff)


def overdue_unclaimed(r: Redis, now: float, after_seconds: int) -> list[str]:
    """Waiting (not claimed), older than `after_seconds`, not yet escalated."""
    k = keys.of(r)
    ids = [i.decode() for i in r.zrangebyscore(k.CALLBACKS_WAITING, "-inf", now - after_seconds)]
    return [i for i in ids if r.hget(k.callback(i), "state") == CallbackState.WAITING.value.encode()
            and not r.sismember(k.CALLBACKS_ESCALATED, i)]


def mark_escalated(r: Redis, callback_id: str) -> bool:
    """True the first time: once per request, even with two clocks."""
    return bool(r.sadd(keys.of(r).CALLBACKS_ESCALATED, callback_id))


def counts(r: Redis) -> dict:
    """Open call backs (with the oldest request time) and open crisis flags."""
    k = keys.of(r)
    pipe = r.pipeline(transaction=False)
    pipe.zcard(k.CALLBACKS_WAITING)
    pipe.zrange(k.CALLBACKS_WAITING, 0, 0, withscores=True)
    pipe.zcard(k.CRISIS_OPEN)  # the crises' count rides along: one round trip for the header
    waiting_count, oldest, flags = pipe.execute()
    return {"waiting": waiting_count, "oldest": oldest[0][1] if oldest else None, "crisis": flags}
