"""People a conversation put before staff (a step with `action: inbox`: "2 struggling", no answer to an
appointment confirmation): why, and since when, on their contact record and in one index the inbox
pins; a staff member marks it done."""
from redis import Redis

from service.store import keys

FIELD = "attn"  # contact field: "flow/step" that asked for a person


def flag(pipe, pk: str, reason: str, now: float) -> None:
    k = keys.of(pipe)
    pipe.hset(k.contact(pk), FIELD, reason)
    pipe.zadd(k.ATTENTION, {pk: now})
    pipe.incr(k.INBOX_VERSION)


def done(r: Redis, pk: str) -> bool:
    k = keys.of(r)
    pipe = r.pipeline()
    pipe.hdel(k.contact(pk), FIELD)
    pipe.zrem(k.ATTENTION, pk)
    pipe.incr(k.INBOX_VERSION)
    return bool(pipe.execute()[1])


def waiting(r: Redis, limit: int = 200) -> list[tuple[str, float]]:
    """(person key, since), oldest first."""
    return [(pk.decode(), since) for pk, since in r.zrange(keys.of(r).ATTENTION, 0, limit - 1, withscores=True)]


def reason_of(r: Redis, pk: str) -> str:
    value = r.hget(keys.of(r).contact(pk), FIELD)
    return value.decode() if value else ""
