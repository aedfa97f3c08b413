"""The shared rate limiter: reservations never put more than the cap into any window."""
import threading

from workers.ratelimit import KEY, RateLimiter


def test_reservations_respect_the_window(redis):
    limiter = RateLimiter(redis, per_second=5, window=1.0)
    waits = [limiter.reserve() for _ in range(12)]
    assert waits[:5] == [0.0] * 5
    assert all(0.9 < w < 1.1 for w in waits[5:10]) and all(1.9 < w < 2.1 for w in waits[10:])
    starts = sorted(float(s) for _, s in redis.zrange(KEY, 0, -1, withscores=True))
    assert max(sum(1 for t in starts if a <= t < a + 1.0) for a in starts) <= 5


def test_concurrent_reservations_from_many_threads(redis):
    limiter = RateLimiter(redis, per_second=7, window=1.0)
    threads = [threading.Thread(target=lambda: [limiter.reserve() for _ in range(5)]) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts = sorted(float(s) for _, s in redis.zrange(KEY, 0, -1, withscores=True))
    assert len(starts) == 30
    assert max(sum(1 for t in starts if a <= t < a + 1.0) for a in starts) <= 7


def test_no_slot_within_horizon_is_refused(redis):
    limiter = RateLimiter(redis, per_second=1, window=1.0, horizon=2.0)
    assert [limiter.reserve() >= 0 for _ in range(4)] == [True, True, True, False]
