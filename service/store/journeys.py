"""Planned journey events: one sorted set of compact ids by due time (like follow-ups), and each person's
own list on their contact record, so a new date, a STOP or an erasure cancels theirs without a scan.

An id is "person:@journey.version:event:stamp": the stamp is the field's moment when the event was
planned (base 36 seconds), so an event of a date that has since changed is recognised at send time and
never sent, whatever raced."""
from dataclasses import dataclass

from redis import Redis

from service.store import keys, scripts

FIELD = "jrn"  # contact field: the person's planned journey event ids
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class EventId:
    person: str
    journey: str
    version: int
    event: int
    stamp: int  # the field's moment (epoch seconds) the event was planned from

    def __str__(self) -> str:
        return f"{self.person}:@{self.journey}.{self.version}:{self.event}:{_b36(self.stamp)}"

    @classmethod
    def parse(cls, text: str) -> "EventId":
        person, journey, event, stamp = text.split(":")
        name, version = journey[1:].rsplit(".", 1)
        return cls(person, name, int(version), int(event), int(stamp, 36))


def planned_of(r, pk: str) -> tuple[str, ...]:
    value = r.hget(keys.of(r).contact(pk), FIELD)
    return tuple(value.decode().split()) if value else ()


def replace_plan(pipe, pk: str, before: tuple[str, ...], after: dict[str, float]) -> None:
    """The person's planned events become `after` ({id: due}); ids in both keep their place."""
    k = keys.of(pipe)
    dropped = [i for i in before if i not in after]
    if dropped:
        pipe.zrem(k.JOURNEYS_DUE, *dropped)
    new = {i: due for i, due in after.items() if i not in before}
    if new:
        pipe.zadd(k.JOURNEYS_DUE, new)
    if set(after) != set(before):
        if after:
            pipe.hset(k.contact(pk), FIELD, " ".join(sorted(after)))
        else:
            pipe.hdel(k.contact(pk), FIELD)


def cancel_all(pipe, pk: str, planned: tuple[str, ...]) -> None:
    replace_plan(pipe, pk, planned, {})


def defer(pipe, eid: str, due: float) -> None:
    pipe.zadd(keys.of(pipe).JOURNEYS_DUE, {eid: due})


def done(pipe, pk: str, eid: str) -> None:
    """Sent, superseded or dropped: out of the due set and the person's list (pipe WATCHes the contact)."""
    pipe.zrem(keys.of(pipe).JOURNEYS_DUE, eid)
    scripts.run(pipe, "remove_from_list", [keys.of(pipe).contact(pk)], [FIELD, eid])


def due_times(r: Redis, ids: tuple[str, ...]) -> dict[str, float]:
    scores = r.zmscore(keys.of(r).JOURNEYS_DUE, list(ids)) if ids else []
    return {i: s for i, s in zip(ids, scores) if s is not None}


def take_due(r: Redis, now: float, limit: int) -> list[tuple[str, float]]:
    """Due (id, due time), oldest first, left in the set until their jobs exist."""
    if limit <= 0:
        return []
    found = r.zrangebyscore(keys.of(r).JOURNEYS_DUE, "-inf", now, start=0, num=limit, withscores=True)
    return [(m.decode(), s) for m, s in found]


def remove_dispatched(r: Redis, taken: list[tuple[str, float]]) -> int:
    args = [x for eid, score in taken for x in (eid, repr(score))]
    return scripts.run(r, "remove_if_unchanged", [keys.of(r).JOURNEYS_DUE], args) if args else 0


def count(r: Redis) -> int:
    return r.zcard(keys.of(r).JOURNEYS_DUE)


def pending_by_journey(r: Redis, limit: int = 500_000) -> dict[str, int]:
    """How many events each journey has planned (a bounded scan of the due set: an admin's page)."""
    counts: dict[str, int] = {}
    for i, (member, _) in enumerate(r.zscan_iter(keys.of(r).JOURNEYS_DUE, count=1000)):
        if i >= limit:
            break
        name = member.decode().split(":")[1][1:].rsplit(".", 1)[0]
        counts[name] = counts.get(name, 0) + 1
    return counts


def _b36(n: int) -> str:
    if n < 0:  # a date before 1970 (int(..., 36) reads the sign back)
        return "-" + _b36(-n)
    out = ""
    while True:
        n, d = divmod(n, 36)
        out = DIGITS[d] + out
        if not n:
            return out
