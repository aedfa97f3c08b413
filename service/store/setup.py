"""The first run's setup: which steps an admin has done (program, hours, a test text in the simulator)
and whether they set the checklist aside. One small hash."""
from redis import Redis

from service.store import keys

STEPS = ("settings", "simulator")  # what only a person can confirm; the rest is read from the config


def mark(r, step: str, now: float) -> None:
    r.hsetnx(keys.of(r).SETUP, step, round(now, 3))


def done(r: Redis) -> set[str]:
    return {k.decode() for k in r.hkeys(keys.of(r).SETUP)}


def dismiss(r: Redis, now: float) -> None:
    r.hset(keys.of(r).SETUP, "dismissed", round(now, 3))
