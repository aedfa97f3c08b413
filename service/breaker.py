"""After a program's Redis fails, callers skip it for a moment instead of each waiting out its timeouts
again: in a surge the webhook's sync workers stay free (Twilio moves to the fallback URL quickly), and a
process serving several programs keeps answering for the others (API tokens, the Ops page, /readyz)."""
import time

from redis.exceptions import RedisError

SECONDS = 2.0
_down_until: dict[int, float] = {}  # id(Services) -> monotonic time until which its Redis is skipped


def is_open(svc) -> bool:
    """True while this program's Redis is being skipped after a failure."""
    return time.monotonic() < _down_until.get(id(svc), 0.0)


def trip(svc) -> None:
    _down_until[id(svc)] = time.monotonic() + SECONDS


def guarded(svc, read, down):
    """`read()` on this program's Redis, or `down` when it failed a moment ago or fails now (then it is
    skipped for a moment)."""
    if is_open(svc):
        return down
    try:
        return read()
    except RedisError:
        trip(svc)
        return down
