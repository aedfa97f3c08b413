"""Lua scripts registered once per Redis client: EVALSHA sends a 40-byte digest instead of the script,
and redis-py loads the script again by itself after a restart or failover (NOSCRIPT)."""
import weakref

from redis import Redis
from redis.commands.core import Script

_registered: "weakref.WeakKeyDictionary[Redis, dict[str, Script]]" = weakref.WeakKeyDictionary()


def script(r: Redis, source: str) -> Script:
    scripts = _registered.setdefault(r, {})
    found = scripts.get(source)
    if found is None:
        found = scripts[source] = r.register_script(source)
    return found
