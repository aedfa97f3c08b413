"""Conversations staff took over from the bot: who holds each, and since their latest action.

A hold lives on the contact record (`held_by`) and in one sorted set by the holder's latest action, so
the idle sweep (HANDOFF_IDLE_HOURS) and the "mine" filter read one index. While a conversation is held
the bot answers only STOP/START/HELP and crisis words, and its follow-ups and timeouts wait."""
import json

from redis import Redis

from service.store import keys

FIELD = "held_by"
SINCE = "held_since"  # when the hold began (a later action or a colleague taking it over keeps it)
PAUSED = "paused"  # follow-ups and timeouts that came due while held: {id: when they were due}
RECHECK_SECONDS = 600  # a follow-up or timeout due while held looks again this much later


def take(pipe, pk: str, who: str, now: float) -> None:
    """`who` holds the conversation from now (taking it from anyone else); also every later action."""
    k = keys.of(pipe)
    pipe.hset(k.contact(pk), FIELD, who)
    pipe.hsetnx(k.contact(pk), SINCE, round(now, 3))
    pipe.zadd(k.HOLDS, {pk: now})
    pipe.incr(k.INBOX_VERSION)


def release(pipe, pk: str) -> None:
    k = keys.of(pipe)
    pipe.hdel(k.contact(pk), FIELD, SINCE, PAUSED)
    pipe.zrem(k.HOLDS, pk)
    pipe.incr(k.INBOX_VERSION)


def paused(r, pk: str) -> tuple[float | None, dict[str, float]]:
    """When the hold began, and what came due while held (with when it was due)."""
    since, waiting = r.hmget(keys.of(r).contact(pk), SINCE, PAUSED)
    return (float(since) if since else None), (json.loads(waiting) if waiting else {})


def pause(pipe, pk: str, waiting: dict[str, float], item: str, due: float) -> None:
    """Note when `item` came due during the hold (the first time only), so a hand back resumes it with the
    time it had left when the hold began."""
    if item not in waiting:
        pipe.hset(keys.of(pipe).contact(pk), PAUSED, json.dumps({**waiting, item: round(due, 3)}))


def holder(r: Redis, pk: str) -> str:
    value = r.hget(keys.of(r).contact(pk), FIELD)
    return value.decode() if value else ""


def idle_since(r: Redis, cutoff: float, limit: int = 500) -> list[str]:
    """Holds whose latest staff action is older than `cutoff`."""
    return [m.decode() for m in r.zrangebyscore(keys.of(r).HOLDS, "-inf", cutoff, start=0, num=limit)]


def held(r: Redis) -> dict[str, float]:
    return {m.decode(): s for m, s in r.zrange(keys.of(r).HOLDS, 0, -1, withscores=True)}
