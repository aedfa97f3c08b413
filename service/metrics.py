"""Prometheus metrics kept in Redis, so every web and worker process on every machine adds to one set.

Counters are HINCRBY on a few hashes (in pipelines the code already sends); gauges are read from the
queues at scrape time. prometheus_client renders them through a custom collector.
"""
import bisect
import threading
import time
from collections import Counter

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.registry import FailedJobRegistry

from service import callbacks, followups, queues

WEBHOOK = "sms:metrics:webhook"
LATENCY = "sms:metrics:latency"
REPLIES = "sms:metrics:replies"
EVENTS = "sms:metrics:events"
OUTBOUND = "sms:metrics:outbound"
STATUS = "sms:metrics:status"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Buffer:
    """Per-process counts, written to Redis about once a second by a background thread: the webhook's
    hot path pays a dict update, not a round trip. A crash loses at most a second of counts."""

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self._counts: Counter = Counter()
        self._latency_sum = 0.0
        self._lock = threading.Lock()
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
        with self._lock:
            counts, latency, self._counts, self._latency_sum = self._counts, self._latency_sum, Counter(), 0.0
        if not counts:
            return
        pipe = (redis or self._redis).pipeline(transaction=False)
        for (key, field), amount in counts.items():
            pipe.hincrby(key, field, amount)
        if latency:
            pipe.hincrbyfloat(LATENCY, "sum", latency)
        pipe.execute()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            try:
                self.flush()
            except RedisError:  # Redis down: keep counting, try again next second
                continue


def observe_webhook(buffer: Buffer, r: Redis, outcome: str, seconds: float) -> None:
    buffer.add(WEBHOOK, outcome)
    buffer.observe(seconds)
    buffer.bind(r)


class RedisCollector:
    def __init__(self, redis: Redis, buffer: Buffer):
        self.redis, self.buffer = redis, buffer

    def collect(self):
        r = self.redis
        self.buffer.flush(r)  # this process's own recent counts; others arrive within a second
        yield _labelled(CounterMetricFamily("sms_webhook_requests", "Inbound webhook requests by outcome",
                                            labels=["outcome"]), r.hgetall(WEBHOOK))
        yield self._latency()
        yield _labelled(CounterMetricFamily("sms_replies", "Inbound messages by flow or intent", labels=["flow"]),
                        r.hgetall(REPLIES))
        yield CounterMetricFamily("sms_opt_outs", "Consent changes to opted out", value=int(r.hget(EVENTS, "opt_outs") or 0))
        yield _pairs(CounterMetricFamily("sms_outbound", "Outbound messages by state and error code",
                                         labels=["state", "code"]), r.hgetall(OUTBOUND))
        yield _pairs(CounterMetricFamily("sms_status_callbacks", "Twilio status callbacks by status and code",
                                         labels=["status", "code"]), r.hgetall(STATUS))
        yield from self._queues()

    def _latency(self):
        raw = {k.decode(): v for k, v in self.redis.hgetall(LATENCY).items()}
        total, buckets = 0, []
        for i, bound in enumerate((*BUCKETS, float("inf"))):
            total += int(raw.get(str(i), 0))
            buckets.append(("+Inf" if bound == float("inf") else str(bound), total))
        family = HistogramMetricFamily("sms_webhook_latency_seconds", "Webhook handling time")
        family.add_metric([], buckets, float(raw.get("sum", 0)))
        return family

    def _queues(self):
        r, now = self.redis, time.time()
        depth = GaugeMetricFamily("sms_queue_depth", "Jobs waiting per RQ queue", labels=["queue"])
        failed = GaugeMetricFamily("sms_failed_jobs", "Jobs in RQ's failed registry", labels=["queue"])
        for name in queues.ALL:
            queue = Queue(name, connection=r)
            depth.add_metric([name], queue.count)
            failed.add_metric([name], FailedJobRegistry(queue=queue).count)
        yield depth
        yield failed
        yield GaugeMetricFamily("sms_followups_pending", "Pending follow-ups", value=r.zcard(followups.DUE))
        first = r.zrange(followups.DUE, 0, 0, withscores=True)
        yield GaugeMetricFamily("sms_followup_oldest_overdue_seconds", "How late the most overdue follow-up is",
                                value=max(0.0, now - first[0][1]) if first else 0.0)
        yield GaugeMetricFamily("sms_callbacks_waiting", "Open call back requests", value=r.zcard(callbacks.WAITING))
        oldest = r.zrange(callbacks.WAITING, 0, 0, withscores=True)
        yield GaugeMetricFamily("sms_callback_oldest_wait_seconds", "Longest wait for a call back",
                                value=now - oldest[0][1] if oldest else 0.0)


def _labelled(family, raw: dict):
    for label, value in sorted(raw.items()):
        family.add_metric([label.decode()], int(value))
    return family


def _pairs(family, raw: dict):
    for label, value in sorted(raw.items()):
        first, _, second = label.decode().partition("|")
        family.add_metric([first, second], int(value))
    return family
