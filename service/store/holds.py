"""Conversations staff took over from the bot: who holds each, and since their latest action.

A hold lives on the contact record (`held_by`) and in one sorted set by the holder's latest action, so
the idle sweep (HANDOFF_IDLE_HOURS) and the "mine" filter read one index. While a conversation is held
the bot answers only STOP/START/HELP and crisis words, and its follow-ups and timeouts wait."""
from redis import Redis

from service.store import keys

FIELD = "held_by"
RECHECK_SECONDS = 600  # a follow-up or timeout due while held looks again this much later


def take(pipe, pk: str, who: str, now: float) -> None:
    """`who` holds the conversation from now (taking it from anyone else); also every later action."""
    pipe.hset(keys.contact(pk), FIELD, who)
    pipe.zadd(keys.HOLDS, {pk: now})
    pipe.incr(keys.INBOX_VERSION)


def release(pipe, pk: str) -> None:
    pipe.hdel(keys.contact(pk), FIELD)
    pipe.zrem(keys.HOLDS, pk)
    pipe.incr(keys.INBOX_VERSION)


def holder(r: Redis, pk: str) -> str:
    value = r.hget(keys.contact(pk), FIELD)
    return value.decode() if value else ""


def idle_since(r: Redis, cutoff: float, limit: int = 500) -> list[str]:
    """Holds whose latest staff action is older than `cutoff`."""
    return [m.decode() for m in r.zrangebyscore(keys.HOLDS, "-inf", cutoff, start=0, num=limit)]


def held(r: Redis) -> dict[str, float]:
    return {m.decode(): s for m, s in r.zrange(keys.HOLDS, 0, -1, withscores=True)}
