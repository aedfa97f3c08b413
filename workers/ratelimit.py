"""One messages-per-second cap shared by every worker process, kept in Redis with Redis's clock.

Sends are paced, not bursted: each reserves a start time at least `window / cap` after the previous
reservation, so any `window` holds at most `cap` starts, and load on the host stays smooth, which
keeps the jitter between a reservation and the provider seeing the request small. One Redis call per
message; no polling herd of waiting workers.
"""

from redis import Redis

from service import scripts

KEY = "sms:ratelimit:outbound"
SAFETY = 0.02  # seconds added to the 1 s window: bench/outbound.py measured at most ~5 ms of spread between a send slot and the provider seeing it, plus delivery.MAX_LATE

# KEYS[1] holds the latest reservation. ARGV: interval, horizon.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, last + tonumber(ARGV[1]))
if start - now > tonumber(ARGV[2]) then return tostring(-(start - now)) end
redis.call('SET', KEYS[1], string.format('%.6f', start), 'PX', math.ceil((start - now) * 1000) + 60000)
return tostring(start - now)
"""


class RateLimiter:
    def __init__(self, redis: Redis, per_second: int, window: float = 1.0 + SAFETY, horizon: float = 30.0):
        self.per_second, self.window, self.horizon = per_second, window, horizon
        self.interval = window / per_second
        self._redis = redis

    def reserve(self) -> float:
        """Seconds to wait before starting the send; negative when no slot exists within the horizon."""
        return float(scripts.run(self._redis, _RESERVE, [KEY], [repr(self.interval), self.horizon]))
