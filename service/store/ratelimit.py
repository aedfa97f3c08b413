"""One messages-per-second cap shared by every worker process, kept in Redis with Redis's clock.

Sends are paced, not bursted: each reserves a start time at least `window / cap` after the previous
reservation, so any `window` holds at most `cap` starts, and load on the host stays smooth, which
keeps the jitter between a reservation and the provider seeing the request small. One Redis call per
message (lua/reserve_send_slot.lua); no polling herd of waiting workers.
"""
from redis import Redis

from service.store import keys, scripts

SAFETY = 0.02  # seconds added to the 1 s window: bench/outbound.py measured at most ~5 ms of spread between a send slot and the provider seeing it, plus the worker's allowed lateness


class RateLimiter:
    def __init__(self, redis: Redis, per_second: int, window: float = 1.0 + SAFETY, horizon: float = 30.0):
        self.per_second, self.window, self.horizon = per_second, window, horizon
        self.interval = window / per_second
        self._redis = redis

    def reserve(self) -> float:
        """Seconds to wait before starting the send; negative when no slot exists within the horizon."""
        return float(scripts.run(self._redis, "reserve_send_slot", [keys.of(self._redis).RATE_LIMIT], [repr(self.interval), self.horizon]))
