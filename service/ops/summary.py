"""The one queue summary behind `flask ops status`, /metrics and the Ops page."""
from dataclasses import dataclass

from redis import Redis
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from service import queues
from service.store import callbacks, followups


@dataclass(frozen=True)
class QueueRow:
    name: str
    waiting: int
    failed: int
    retrying: int


@dataclass(frozen=True)
class Summary:
    queues: tuple[QueueRow, ...]
    followups_pending: int
    followups_oldest_due: float | None
    callbacks_waiting: int
    callbacks_oldest: float | None
    crisis_open: int


def queue_rows(r: Redis) -> tuple[QueueRow, ...]:
    rows = []
    for lane in queues.ALL:
        q = queues.queue(r, lane)
        rows.append(QueueRow(lane, q.count, FailedJobRegistry(queue=q).count, ScheduledJobRegistry(queue=q).count))
    return tuple(rows)


def summary(r: Redis) -> Summary:
    open_items = callbacks.counts(r)
    return Summary(queue_rows(r), followups.count(r), followups.oldest_due(r), open_items["waiting"],
                   open_items["oldest"], open_items["crisis"])
