"""Writes gathered in Python and applied by Redis in one atomic script call (lua/apply_batch.lua).

The webhook's commit is a dozen small writes. As a MULTI/EXEC pipeline each one costs the client a
command to pack and a reply to parse; here they travel as one EVALSHA whose arguments are the commands
themselves, so the commit costs one command whatever it holds. Like MULTI/EXEC, nothing else runs in
between and writes before a failing command are not rolled back; unlike it, a failing command stops the
ones after it (ours only fail on a wrong key type, a bug; the webhook then releases its MessageSid and
Twilio's retry writes everything again).

A Batch offers the few pipeline methods the write path uses, with redis-py's argument conventions, so
the store functions take either a Batch or a real pipeline. Every command names one key, and every key
travels in KEYS (the command holds its index): the script touches nothing it did not declare, as Valkey,
Dragonfly and a Redis Cluster (where the keys share a hash tag) require.
"""
from redis import Redis

from service.store import scripts


class Batch:
    def __init__(self, r: Redis, guard: tuple[str, str, bytes | str | None] | None = None):
        """`guard` (key, field, value read): the batch applies only while that hash field still holds the
        value its writer read (optimistic concurrency: execute() says False and writes nothing)."""
        self._redis = r
        self._guard = guard
        self._args: list = []
        self._keys: dict[str, int] = {}  # key -> its index in KEYS (1-based)

    def __len__(self) -> int:
        return len(self._args)

    @property
    def connection_pool(self):
        """Its client's, as a pipeline's: the program its keys carry (store/keys.py)."""
        return self._redis.connection_pool

    def _key(self, key: str) -> int:
        return self._keys.setdefault(key, len(self._keys) + 1)

    def _add(self, command: str, key: str, *words) -> None:
        self._args.append(len(words) + 2)
        self._args.extend((command, self._key(key), *words))

    def hset(self, key: str, field: str | None = None, value=None, mapping: dict | None = None) -> None:
        pairs = [] if field is None else [field, value]
        for k, v in (mapping or {}).items():
            pairs += (k, v)
        if not pairs:
            raise ValueError("hset needs a field or a mapping")
        self._add("HSET", key, *pairs)

    def hsetnx(self, key: str, field: str, value) -> None:
        self._add("HSETNX", key, field, value)

    def hdel(self, key: str, *fields: str) -> None:
        self._add("HDEL", key, *fields)

    def hincrby(self, key: str, field: str, amount: int = 1) -> None:
        self._add("HINCRBY", key, field, amount)

    def zadd(self, key: str, mapping: dict, nx: bool = False) -> None:
        pairs = []
        for member, score in mapping.items():
            pairs += (score, member)
        self._add("ZADD", key, *(("NX",) if nx else ()), *pairs)

    def zrem(self, key: str, *members: str) -> None:
        self._add("ZREM", key, *members)

    def zremrangebyscore(self, key: str, low, high) -> None:
        self._add("ZREMRANGEBYSCORE", key, low, high)

    def incr(self, key: str) -> None:
        self._add("INCR", key)

    def rpush(self, key: str, *values) -> None:
        self._add("RPUSH", key, *values)

    def ltrim(self, key: str, start: int, end: int) -> None:
        self._add("LTRIM", key, start, end)

    def pfadd(self, key: str, *members: str) -> None:
        self._add("PFADD", key, *members)

    def sadd(self, key: str, *members: str) -> None:
        self._add("SADD", key, *members)

    def expire(self, key: str, seconds: int) -> None:
        self._add("EXPIRE", key, seconds)

    def set(self, key: str, value, ex: int | None = None) -> None:
        if ex is None:
            self._add("SET", key, value)
        else:
            self._add("SET", key, value, "EX", ex)

    def execute(self) -> bool:
        """True when applied; False when the guard's field changed since it was read (nothing written)."""
        if not self._args:
            return True
        guard = []
        if self._guard:
            key, field, value = self._guard
            guard = [4, "GUARD", self._key(key), field, value.decode() if isinstance(value, bytes) else (value or "")]
        applied = scripts.run(self._redis, "apply_batch", keys=list(self._keys), args=guard + self._args) != -1
        self._args, self._keys = [], {}
        return applied
