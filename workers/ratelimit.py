"""One messages-per-second cap shared by every worker process, kept in Redis with Redis's clock."""
import time
import uuid

from redis import Redis

KEY = "sms:ratelimit:outbound"
SAFETY = 0.05  # seconds added to the window: delivery jitter must not squeeze cap+1 sends into one second

# Sliding log: a send may start only while fewer than `cap` sends started in the last window.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class RateLimiter:
    def __init__(self, redis: Redis, per_second: int, window: float = 1.0 + SAFETY):
        self.per_second, self.window = per_second, window
        self._script = redis.register_script(_ACQUIRE)

    def try_acquire(self) -> float:
        """0 when a send may start now, else seconds to wait."""
        return float(self._script(keys=[KEY], args=[self.per_second, self.window, uuid.uuid4().hex]))

    def acquire(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while (wait := self.try_acquire()) > 0:
            if time.monotonic() + wait > deadline:
                raise TimeoutError("outbound rate limit: no slot within the timeout")
            time.sleep(min(wait, 0.25))
