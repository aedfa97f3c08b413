"""Lua scripts by digest: EVALSHA sends 40 bytes instead of the script, and the script is loaded again
by itself after a Redis restart, failover or SCRIPT FLUSH (NOSCRIPT). Holds no Redis client."""
import hashlib

from redis import Redis
from redis.exceptions import NoScriptError

_digests: dict[str, str] = {}


def run(r: Redis, source: str, keys=(), args=()):
    digest = _digests.get(source)
    if digest is None:
        digest = _digests[source] = hashlib.sha1(source.encode()).hexdigest()
    try:
        return r.evalsha(digest, len(keys), *keys, *args)
    except NoScriptError:
        r.script_load(source)
        return r.evalsha(digest, len(keys), *keys, *args)
