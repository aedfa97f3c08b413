"""A simulated person's clock: how far staff moved it ahead of the real one, in seconds, kept on the
person's own record (so it goes when they are erased)."""
from service.store import keys

FIELD = "sim_ahead"  # contact field: seconds the simulator moved this fictional person's clock ahead


def ahead(r, pk: str) -> int:
    value = r.hget(keys.contact(pk), FIELD)
    return int(value) if value else 0


def move(pipe, pk: str, seconds: int) -> None:
    pipe.hincrby(keys.contact(pk), FIELD, int(seconds))
