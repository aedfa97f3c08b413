"""Counters kept in Redis, so every web and worker process on every machine adds to one set.

The webhook's hot path pays a dict update, not a round trip: a Buffer per process writes its counts
to Redis about once a second from a background thread.
"""
import bisect
import threading
import time
from collections import Counter

from redis import Redis
from redis.exceptions import RedisError

from service.store import keys

LATENCY = ""  # the latency histogram's hash, named at flush by the Redis it goes to
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Buffer:
    """Per-process counts; a crash loses at most a second of them."""

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self._counts: Counter = Counter()
        self._latency_sum = 0.0
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time: a reader's flush waits for one in flight
        self._redis: Redis | None = None
        self._thread: threading.Thread | None = None

    def add(self, key: str, field: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[(key, field)] += amount

    def observe(self, seconds: float) -> None:
        with self._lock:
            self._counts[(LATENCY, str(bisect.bisect_left(BUCKETS, seconds)))] += 1
            self._latency_sum += seconds

    def bind(self, redis: Redis) -> None:
        """Start flushing to this Redis (once per process, on first use: never at import)."""
        if self._thread is None or not self._thread.is_alive():
            self._redis = redis
            self._thread = threading.Thread(target=self._run, name="metrics-flush", daemon=True)
            self._thread.start()

    def flush(self, redis: Redis | None = None) -> None:
        """Everything counted so far is in Redis when this returns (also what the background thread was
        writing at that moment: /metrics never reads a count that is neither here nor there)."""
        with self._flushing:
            with self._lock:
                counts, latency, self._counts, self._latency_sum = self._counts, self._latency_sum, Counter(), 0.0
            if not counts:
                return
            pipe = (redis or self._redis).pipeline(transaction=False)
            named = keys.of(pipe)
            for (key, field), amount in counts.items():
                pipe.hincrby(key or named.METRICS_LATENCY, field, amount)
            if latency:
                pipe.hincrbyfloat(named.METRICS_LATENCY, "sum", latency)
            try:
                pipe.execute()
            except RedisError:
                self._restore(counts, latency)
                raise

    def _restore(self, counts: Counter, latency: float) -> None:
        """A flush Redis refused: its counts wait for the next one."""
        with self._lock:
            self._counts.update(counts)
            self._latency_sum += latency

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            try:
                self.flush()
            except RedisError:  # Redis down: keep counting, try again next second
                continue


def observe_webhook(buffer: Buffer, r: Redis, outcome: str, seconds: float) -> None:
    buffer.add(keys.of(r).METRICS_WEBHOOK, outcome)
    buffer.observe(seconds)
    buffer.bind(r)


def count_status(r: Redis, status: str, code: str) -> None:
    r.hincrby(keys.of(r).METRICS_STATUS, f"{status}|{code}", 1)


def read(r: Redis) -> dict[str, dict[str, str]]:
    """Every counter hash, decoded."""
    k = keys.of(r)
    names = {"webhook": k.METRICS_WEBHOOK, "latency": k.METRICS_LATENCY, "replies": k.METRICS_REPLIES,
             "events": k.METRICS_EVENTS, "outbound": k.METRICS_OUTBOUND, "status": k.METRICS_STATUS}
    pipe = r.pipeline(transaction=False)
    for key in names.values():
        pipe.hgetall(key)
    return {name: {k.decode(): v.decode() for k, v in raw.items()} for name, raw in zip(names, pipe.execute())}
