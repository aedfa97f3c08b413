"""Center settings staff changed in the console, kept over the environment's defaults."""
from redis import Redis

from service.store import keys


def overrides(r: Redis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in r.hgetall(keys.SETTINGS).items()}


def replace(r: Redis, values: dict[str, str]) -> None:
    pipe = r.pipeline()
    pipe.delete(keys.SETTINGS)
    if values:
        pipe.hset(keys.SETTINGS, mapping=values)
    pipe.execute()
