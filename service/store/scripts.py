"""The store's Lua scripts: one file each under lua/, its KEYS/ARGV contract written at the top,
registered with redis-py (EVALSHA by digest, loaded again by itself after a restart, failover or
SCRIPT FLUSH). A line `--#include NAME` pastes lua/NAME.lua in its place."""
from functools import cache
from pathlib import Path

from redis.commands.core import Script

LUA = Path(__file__).parent / "lua"
INCLUDE = "--#include "


@cache
def source(name: str) -> str:
    lines = (LUA / f"{name}.lua").read_text().splitlines()
    return "\n".join(source(line[len(INCLUDE):].strip()) if line.startswith(INCLUDE) else line
                     for line in lines) + "\n"


_registered: dict[str, Script] = {}


def run(client, name: str, keys=(), args=()):
    """Run a script on a client or a pipeline (in a pipeline it is loaded before the pipeline runs)."""
    script = _registered.get(name)
    if script is None:
        script = _registered[name] = client.register_script(source(name))
    return script(keys=list(keys), args=list(args), client=client)
