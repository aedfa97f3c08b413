"""Another layout's data and jobs moved under the program a Redis client serves: `flask ops migrate-keys`,
and `make run` for its own data (store/legacy.py renames the keys, queues.adopt_legacy moves the jobs)."""
from redis import Redis

from service import queues
from service.store import legacy


def migrate(r: Redis, now: float) -> tuple[legacy.Tally, int]:
    """What was moved, merged or kept of the keys, and how many jobs were moved."""
    tally = legacy.move_all(r, now)
    return tally, queues.adopt_legacy(r)
