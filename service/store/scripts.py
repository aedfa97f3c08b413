"""The store's Lua scripts: one file each under lua/, its KEYS/ARGV contract written at the top,
registered with redis-py (EVALSHA by digest, loaded again by itself after a restart, failover or
SCRIPT FLUSH). A line `--#include NAME` pastes lua/NAME.lua in its place.

Every script declares in KEYS every key it touches (Valkey, Dragonfly and a Redis Cluster require it).
`check_keys(True)` (the test suite turns it on) registers the scripts with a guard that raises an error
when one touches a key it did not declare, and refuses a call whose KEYS would not share a cluster slot
(their hash tags differ: a program's keys all carry `{program}`, store/keys.py)."""
from functools import cache
from pathlib import Path

from redis.commands.core import Script

LUA = Path(__file__).parent / "lua"
INCLUDE = "--#include "
# The guard: every key argument of every call must be in KEYS (TIME takes none; these take only keys).
CHECK = """local declared__ = {}
for _, k in ipairs(KEYS) do declared__[k] = true end
local keyless__ = {TIME = true}
local all_keys__ = {DEL = true, EXISTS = true, UNLINK = true, RENAME = true, MGET = true}
local function checked__(command, ...)
  local args = {...}
  local name = string.upper(command)
  if not keyless__[name] then
    for i = 1, all_keys__[name] and #args or 1 do
      if not declared__[args[i]] then error('undeclared key ' .. tostring(args[i]) .. ' in ' .. name) end
    end
  end
  return redis.call(command, ...)
end
"""


@cache
def source(name: str) -> str:
    lines = (LUA / f"{name}.lua").read_text().splitlines()
    return "\n".join(source(line[len(INCLUDE):].strip()) if line.startswith(INCLUDE) else line
                     for line in lines) + "\n"


def checked(name: str) -> str:
    """The script with every redis.call going through the guard."""
    return CHECK + source(name).replace("redis.call(", "checked__(")


_registered: dict[str, Script] = {}
_checking = [False]


def slot_of(key: str | bytes) -> str:
    """What a Redis Cluster hashes to place a key: its hash tag (the text inside its first "{...}", when not
    empty), else the whole key."""
    key = key.decode() if isinstance(key, bytes) else str(key)
    start = key.find("{")
    end = key.find("}", start + 1) if start >= 0 else -1
    return key[start + 1:end] if start >= 0 and end > start + 1 else key


def check_keys(enabled: bool) -> None:
    """Development and tests: scripts registered from now on refuse to touch a key not in KEYS."""
    _checking[0] = enabled
    _registered.clear()


def run(client, name: str, keys=(), args=()):
    """Run a script on a client or a pipeline (in a pipeline it is loaded before the pipeline runs)."""
    if _checking[0] and len({slot_of(k) for k in keys}) > 1:
        raise ValueError(f"{name}: its KEYS do not share a hash tag, so no cluster slot holds them all: {list(keys)}")
    script = _registered.get(name)
    if script is None:
        script = _registered[name] = client.register_script(checked(name) if _checking[0] else source(name))
    return script(keys=list(keys), args=list(args), client=client)
