"""One messages-per-second cap shared by every worker process, kept in Redis with Redis's clock.

Each send reserves the earliest start time that keeps every window of `window` seconds at or under
the cap, then sleeps until it: one Redis call per message, no polling herd of waiting workers.
"""
import time
import uuid

from redis import Redis

KEY = "sms:ratelimit:outbound"
SAFETY = 0.1  # seconds added to the window: scheduling jitter on a busy host must not squeeze cap+1 sends into one second at the provider

# Reservations are start times in a sorted set. A new one starts no earlier than `window` after the
# reservation `cap` places back, so no window of that length ever holds more than `cap` starts.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cap, window, horizon = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local start = now
if n >= cap then
  local back = redis.call('ZRANGE', KEYS[1], n - cap, n - cap, 'WITHSCORES')
  start = math.max(now, tonumber(back[2]) + window)
end
if start - now > horizon then return tostring(-(start - now)) end
redis.call('ZADD', KEYS[1], start, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil((start - now + window) * 1000) + 1000)
return tostring(start - now)
"""


class RateLimiter:
    def __init__(self, redis: Redis, per_second: int, window: float = 1.0 + SAFETY, horizon: float = 30.0):
        self.per_second, self.window, self.horizon = per_second, window, horizon
        self._script = redis.register_script(_RESERVE)

    def reserve(self) -> float:
        """Seconds to wait before starting the send; negative when no slot exists within the horizon."""
        return float(self._script(keys=[KEY], args=[self.per_second, self.window, uuid.uuid4().hex, self.horizon]))

    def acquire(self) -> None:
        wait = self.reserve()
        if wait < 0:
            raise TimeoutError(f"outbound rate limit: next slot is {-wait:.1f}s away")
        if wait > 0:
            time.sleep(wait)
