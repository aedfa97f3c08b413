"""Pending follow-ups: one sorted set of compact ids by due time, plus each person's own list.

An id is "person:flow:step:scheduled" (scheduled in base 36 seconds), so the set alone says what to
send and to whom; cancelling a person touches only their own ids, never a scan.

A question's timeout is lighter still, since everyone waiting at a question has one: the set holds the
bare person key (a person waits at one question at a time) and their conversation field says which
step it sends. Its job's argument is "person.due" (due in base 36 seconds): the job fires the timeout
only if the person has been waiting at that question since before it came due.
"""
from dataclasses import dataclass

from redis import Redis

from service.store import keys, scripts

FIELD = "followups"  # the contact record's field listing the person's pending ids
SENT = "followups_sent"  # the contact record's field: when their recent unprompted texts went (the weekly cap)
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class FollowUpId:
    person: str
    flow: str
    step: int | str  # a flow's timed follow-up by its place (a number), or a step by its name
    scheduled_at: int

    def __str__(self) -> str:
        return f"{self.person}:{self.flow}:{self.step}:{_b36(self.scheduled_at)}"

    @classmethod
    def parse(cls, text: str) -> "FollowUpId":
        person, flow, step, scheduled = text.split(":")
        return cls(person, flow, int(step) if step.isdigit() else step, int(scheduled, 36))


def add(pipe, pk: str, due: dict[str, float], keep: tuple[str, ...] = ()) -> None:
    """Schedule ids at their due times; with `keep`, the person's other pending ids stay listed."""
    if due:
        pipe.zadd(keys.of(pipe).FOLLOWUPS_DUE, due)
        pipe.hset(keys.of(pipe).contact(pk), FIELD, " ".join((*keep, *due)))


def cancel(pipe, pk: str, pending: tuple[str, ...], keep: tuple[str, ...] = ()) -> None:
    """Drop pending ids; `keep` are the ones that stay listed."""
    k = keys.of(pipe)
    dropped = [fid for fid in pending if fid not in keep]
    if dropped:
        pipe.zrem(k.FOLLOWUPS_DUE, *dropped)
    if keep:
        pipe.hset(k.contact(pk), FIELD, " ".join(keep))
    else:
        pipe.hdel(k.contact(pk), FIELD)


def sent_times(r, pk: str) -> tuple[int, ...]:
    """When their recent unprompted texts (follow-ups, journey events, broadcasts) went out."""
    return parse_sent(r.hget(keys.of(r).contact(pk), SENT))


def parse_sent(raw: bytes | None) -> tuple[int, ...]:
    """The SENT field as read (in a batch of fields, say)."""
    return tuple(int(t) for t in (raw or b"").split())


def defer(pipe, fid: str, due: float) -> None:
    pipe.zadd(keys.of(pipe).FOLLOWUPS_DUE, {fid: due})


def set_timeout(pipe, pk: str, due: float) -> None:
    """The person's question times out at `due` (replacing any earlier timeout of theirs)."""
    pipe.zadd(keys.of(pipe).FOLLOWUPS_DUE, {pk: due})


def clear_timeout(pipe, pk: str) -> None:
    pipe.zrem(keys.of(pipe).FOLLOWUPS_DUE, pk)


def timeout_of(r: Redis, pk: str) -> float | None:
    return r.zscore(keys.of(r).FOLLOWUPS_DUE, pk)


def everything_pending(r: Redis, pk: str) -> tuple[str, ...]:
    """The person's pending follow-up ids and, if they wait at a question that times out, its job argument."""
    timeout = timeout_of(r, pk)
    return pending_of(r, pk) + ((job_arg(pk, timeout),) if timeout is not None else ())


def cancel_all(pipe, pk: str, pending: tuple[str, ...]) -> None:
    """Nothing more for this person: their follow-ups and their question's timeout."""
    cancel(pipe, pk, pending)
    clear_timeout(pipe, pk)


def job_arg(member: str, due: float) -> str:
    """What a due member's job is given: a follow-up's id, or a timeout's "person.due"."""
    return member if ":" in member else f"{member}.{_b36(int(due))}"


def parse_timeout(arg: str) -> tuple[str, int] | None:
    """(person, due) of a timeout's job argument; None for a follow-up's id."""
    if ":" in arg or "." not in arg:
        return None
    pk, due = arg.rsplit(".", 1)
    return pk, int(due, 36)


def pending_of(r: Redis, pk: str) -> tuple[str, ...]:
    value = r.hget(keys.of(r).contact(pk), FIELD)
    return tuple(value.decode().split()) if value else ()


def due_times(r: Redis, fids: tuple[str, ...]) -> dict[str, float]:
    scores = r.zmscore(keys.of(r).FOLLOWUPS_DUE, list(fids)) if fids else []
    return {fid: s for fid, s in zip(fids, scores) if s is not None}


def take_due(r: Redis, now: float, limit: int) -> list[tuple[str, float]]:
    """Due (id, due time), oldest first, without removing them: they leave the set once their job exists."""
    found = r.zrangebyscore(keys.of(r).FOLLOWUPS_DUE, "-inf", now, start=0, num=limit, withscores=True)
    return [(m.decode(), s) for m, s in found]


def remove_dispatched(r: Redis, taken: list[tuple[str, float]]) -> int:
    """Remove ids whose due time is still what was taken: one a fast worker already deferred (re-added
    with a later time) stays scheduled."""
    args = [x for fid, score in taken for x in (fid, repr(score))]
    return scripts.run(r, "remove_if_unchanged", [keys.of(r).FOLLOWUPS_DUE], args) if args else 0


def remove(pipe, pk: str, fid: str) -> None:
    """Drop one id from the due set and from its person's list (pipe is WATCHing the contact)."""
    pipe.zrem(keys.of(pipe).FOLLOWUPS_DUE, fid)
    scripts.run(pipe, "remove_from_list", [keys.of(pipe).contact(pk)], [FIELD, fid])


def count(r: Redis) -> int:
    return r.zcard(keys.of(r).FOLLOWUPS_DUE)


def oldest_due(r: Redis) -> float | None:
    first = r.zrange(keys.of(r).FOLLOWUPS_DUE, 0, 0, withscores=True)
    return first[0][1] if first else None


def count_between(r: Redis, bounds: list[tuple[str | float, str | float]]) -> list[int]:
    pipe = r.pipeline(transaction=False)
    for low, high in bounds:
        pipe.zcount(keys.of(r).FOLLOWUPS_DUE, low, high)
    return pipe.execute()


def _b36(n: int) -> str:
    out = ""
    while True:
        n, d = divmod(n, 36)
        out = DIGITS[d] + out
        if not n:
            return out
