"""The shared rate limiter: paced reservations never put more than the cap into any window."""
import threading

from service.store import keys
from service.store.ratelimit import RateLimiter


def reserved_starts(redis, limiter, count):
    """The exact start times the limiter reserved (it keeps the latest under its RATE_LIMIT key)."""
    starts = []
    for _ in range(count):
        limiter.reserve()
        starts.append(float(redis.get(keys.of(redis).RATE_LIMIT)))
    return starts


def busiest(starts, window=1.0):
    starts = sorted(starts)
    return max(sum(1 for t in starts if a <= t < a + window) for a in starts)


def test_reservations_are_paced_and_respect_the_window(redis):
    limiter = RateLimiter(redis, per_second=5, window=1.0)
    waits = [limiter.reserve() for _ in range(12)]
    assert waits[0] == 0.0
    assert all(0.15 < b - a < 0.25 for a, b in zip(waits[1:], waits[2:]))  # 1/5 s apart, no bursts
    assert busiest(reserved_starts(redis, RateLimiter(redis, per_second=5, window=1.0), 20)) <= 5


def test_concurrent_reservations_from_many_threads(redis):
    limiter = RateLimiter(redis, per_second=7, window=1.0)
    waits = []
    threads = [threading.Thread(target=lambda: waits.extend(limiter.reserve() for _ in range(5))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(waits) == 30 and len(set(round(w, 4) for w in waits)) == 30  # every slot distinct
    assert redis.exists(keys.of(redis).RATE_LIMIT)


def test_no_slot_within_horizon_is_refused(redis):
    limiter = RateLimiter(redis, per_second=1, window=1.0, horizon=2.0)
    assert [limiter.reserve() >= 0 for _ in range(4)] == [True, True, True, False]
