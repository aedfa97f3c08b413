"""Center settings staff changed in the console, kept over the environment's defaults."""
from redis import Redis

from service.store import keys


def overrides(r: Redis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in r.hgetall(keys.of(r).SETTINGS).items()}


def replace(r: Redis, values: dict[str, str]) -> None:
    pipe = r.pipeline()
    pipe.delete(keys.of(r).SETTINGS)
    if values:
        pipe.hset(keys.of(r).SETTINGS, mapping=values)
    pipe.execute()
