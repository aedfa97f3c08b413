"""A simulated person's clock: how far staff moved it ahead of the real one, in seconds, kept on the
person's own record (so it goes when they are erased), and moving it."""
from service.store import followups, keys

FIELD = "sim_ahead"  # contact field: seconds the simulator moved this fictional person's clock ahead


def ahead(r, pk: str) -> int:
    value = r.hget(keys.of(r).contact(pk), FIELD)
    return int(value) if value else 0


def move(pipe, pk: str, seconds: int, followups_due: dict[str, float], timeout_due: float | None,
         events_due: dict[str, float], sent: str | None) -> None:
    """Their clock `seconds` ahead: the new due times of what is still waiting (XX: an item a worker took
    meanwhile is not put back), and their recent sends as long ago on their clock (the weekly cap)."""
    k = keys.of(pipe)
    if followups_due:
        pipe.zadd(k.FOLLOWUPS_DUE, followups_due, xx=True)
    if timeout_due is not None:
        pipe.zadd(k.FOLLOWUPS_DUE, {pk: timeout_due}, xx=True)
    if events_due:
        pipe.zadd(k.JOURNEYS_DUE, events_due, xx=True)
    if sent is not None:
        pipe.hset(k.contact(pk), followups.SENT, sent)
    pipe.hincrby(k.contact(pk), FIELD, int(seconds))

