"""Crises: one open episode per person, from their first crisis text until a staff member resolves it.
It has an owner (claim and release, like call backs: two staff can't both hold it), counts the texts
that came while it was open (they update it, not page on-call again), and keeps its outcome, with the
resolved ones listed on the person's page until retention. The simulator's crises live in their own
index: never in the real queue, counts or alerts' escalation."""
from dataclasses import dataclass
from enum import Enum

from redis import Redis, WatchError

from service.privacy import Vault
from service.store import daily, keys

FIELD = "crisis"  # contact field: the id of the person's open crisis
KIND = "crisis_kind"  # contact field, while it is open: what their crisis is about (overdose, self_harm)


class CrisisOutcome(str, Enum):
    """How a crisis was resolved (staff pick one; "other" needs a note)."""
    REACHED_SAFE = "reached_safe"
    ADVISED_911 = "advised_911"
    NO_ANSWER = "no_answer"
    OTHER = "other"


@dataclass(frozen=True)
class Crisis:
    id: str
    person: str
    body: str  # the text that opened it
    created_at: float
    texts: int = 1
    last_at: float = 0.0
    claimed_by: str = ""
    simulated: bool = False
    resolved_by: str = ""
    resolved_at: float = 0.0
    outcome: str = ""
    why: str = ""  # "words" (a crisis phrase) or "model" (the classifier)


def open_index(r, simulated: bool = False) -> str:
    return keys.of(r).CRISIS_OPEN_TEST if simulated else keys.of(r).CRISIS_OPEN


def open_crisis(pipe, vault: Vault, pk: str, e164: str, sid: str, body: str, now: float, day: str = "",
                simulated: bool = False, why: str = "", hour: int | None = None, kind: str = "") -> str:
    """A new crisis (the webhook's atomic write); `day` (and the local `hour`) count it in the insights
    (never a simulated one)."""
    k = keys.of(pipe)
    pipe.hset(k.crisis_flag(sid), mapping={
        "person": pk, "phone": vault.encrypt(e164), "body": vault.encrypt(body), "created_at": round(now, 3),
        "last_at": round(now, 3), "texts": 1, "sid": sid, "simulated": int(simulated), "why": why,
        **({"day": day} if day and not simulated else {})})
    if day and not simulated:
        daily.counts(pipe, day, {"crisis_flags": 1, **({f"crisis_hour:{hour}": 1} if hour is not None else {})})
    pipe.zadd(open_index(pipe, simulated), {sid: now})
    pipe.hset(k.contact(pk), mapping={FIELD: sid, **({KIND: kind} if kind else {})})
    pipe.sadd(k.records(pk), k.crisis_flag(sid))
    return sid


def mark_kind(pipe, pk: str, kind: str) -> None:
    """What a later text of an open crisis said of it (overdose, self_harm): its next answers are of that kind."""
    pipe.hset(keys.of(pipe).contact(pk), KIND, kind)


def another_text(pipe, flag_id: str, now: float) -> None:
    """A text of a person whose crisis is open: the crisis is updated (and open inboxes redraw)."""
    pipe.hincrby(keys.of(pipe).crisis_flag(flag_id), "texts", 1)
    pipe.hset(keys.of(pipe).crisis_flag(flag_id), "last_at", round(now, 3))


def get(r, vault: Vault, flag_id: str) -> Crisis | None:
    h = {k.decode(): v.decode() for k, v in r.hgetall(keys.of(r).crisis_flag(flag_id)).items()}
    if not h:
        return None
    return Crisis(flag_id, h["person"], vault.decrypt(h["body"]), float(h["created_at"]), int(h.get("texts", 1)),
                  float(h.get("last_at", h["created_at"])), h.get("claimed_by", ""), h.get("simulated") == "1",
                  h.get("resolved_by", ""), float(h.get("resolved_at", 0)), h.get("outcome", ""), h.get("why", ""))


def open_crises(r: Redis, vault: Vault, simulated: bool = False) -> list[Crisis]:
    """Open crises, oldest first."""
    ids = [i.decode() for i in r.zrange(open_index(r, simulated), 0, -1)]
    return [c for c in (get(r, vault, i) for i in ids) if c]


def of_person(r: Redis, vault: Vault, pk: str) -> list[Crisis]:
    """Every crisis of a person still kept (open and resolved), newest first."""
    prefix = keys.of(r).crisis_flag("")
    ids = [k.decode()[len(prefix):] for k in r.smembers(keys.of(r).records(pk)) if k.decode().startswith(prefix)]
    return sorted((c for c in (get(r, vault, i) for i in ids) if c), key=lambda c: -c.created_at)


def open_of(r: Redis, pk: str) -> str | None:
    value = r.hget(keys.of(r).contact(pk), FIELD)
    return value.decode() if value else None


def people_in_crisis(r: Redis) -> set[str]:
    """Person keys with an open (real) crisis."""
    ids = r.zrange(keys.of(r).CRISIS_OPEN, 0, -1)
    pipe = r.pipeline(transaction=False)
    for flag_id in ids:
        pipe.hget(keys.of(r).crisis_flag(flag_id.decode()), "person")
    return {p.decode() for p in pipe.execute() if p}


def count_open(r: Redis) -> int:
    return r.zcard(keys.of(r).CRISIS_OPEN)


def claim(r: Redis, flag_id: str, who: str, now: float) -> bool:
    """The first staff member to claim an open crisis owns it; others see who does."""
    return _change(r, flag_id, lambda h: not h.get(b"claimed_by"), lambda pipe, h, _: pipe.hset(
        keys.of(r).crisis_flag(flag_id), mapping={"claimed_by": who, "claimed_at": round(now, 3)}))


def release(r: Redis, flag_id: str, who: str) -> bool:
    """Only the owner's own claim: back to unclaimed."""
    return _change(r, flag_id, lambda h: h.get(b"claimed_by", b"").decode() == who,
                   lambda pipe, h, _: pipe.hdel(keys.of(r).crisis_flag(flag_id), "claimed_by", "claimed_at"))


def resolve(r: Redis, flag_id: str, who: str, now: float, keep_seconds: int, outcome: CrisisOutcome) -> bool:
    """By its owner, or by anyone while nobody owns it; never an erased or already resolved one."""
    def resolved(pipe, h: dict, open_now: bytes | None) -> None:
        k = keys.of(pipe)
        day = h.get(b"day")
        if day:
            daily.minutes(pipe, day.decode(), "crisis_resolve", now - float(h[b"created_at"]))
            daily.count(pipe, day.decode(), f"crisis_outcome:{outcome.value}")
        pipe.zrem(open_index(pipe, h.get(b"simulated") == b"1"), flag_id)
        pipe.hset(k.crisis_flag(flag_id), mapping={"resolved_by": who, "resolved_at": round(now, 3),
                                                      "outcome": outcome.value, "claimed_by": who})
        pipe.expire(k.crisis_flag(flag_id), keep_seconds)
        if open_now == flag_id.encode():  # never a newer crisis of theirs
            pipe.hdel(k.contact(h[b"person"].decode()), FIELD, KIND)
    return _change(r, flag_id, lambda h: h.get(b"claimed_by", b"").decode() in ("", who), resolved, person=True)


def _change(r: Redis, flag_id: str, allowed, write, person: bool = False) -> bool:
    """A change to an open crisis that still exists, WATCHed (an erasure or a colleague meanwhile wins);
    `write(pipe, record, the person's open crisis id if person)`."""
    k = keys.of(r)
    key = k.crisis_flag(flag_id)
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                h = pipe.hgetall(key)
                if not h or h.get(b"resolved_at") or not allowed(h):
                    return False
                open_now = None
                if person:
                    pipe.watch(k.contact(h[b"person"].decode()))
                    open_now = pipe.hget(k.contact(h[b"person"].decode()), FIELD)
                pipe.multi()
                write(pipe, h, open_now)
                pipe.incr(k.INBOX_VERSION)
                pipe.execute()
                return True
            except WatchError:
                continue


def overdue_unclaimed(r: Redis, now: float, after_seconds: int) -> list[str]:
    """Open real crises nobody claimed for `after_seconds`, not yet escalated."""
    ids = [i.decode() for i in r.zrangebyscore(keys.of(r).CRISIS_OPEN, "-inf", now - after_seconds)]
    pipe = r.pipeline(transaction=False)
    for i in ids:
        pipe.hmget(keys.of(r).crisis_flag(i), "claimed_by", "escalated")
    return [i for i, (owner, escalated) in zip(ids, pipe.execute()) if not owner and not escalated]


def mark_escalated(r: Redis, flag_id: str) -> bool:
    """True the first time: once per crisis, even with two clocks."""
    return bool(r.hsetnx(keys.of(r).crisis_flag(flag_id), "escalated", 1))
