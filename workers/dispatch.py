"""The tick: move due follow-ups from the compact schedule into RQ, only as fast as they can be sent."""
import time

from rq import Queue, Retry

from service import followups
from service.queues import FOLLOWUPS
from workers.runtime import Runtime

BACKLOG_SECONDS = 10  # keep at most this many seconds of sending in RQ; the rest waits in the sorted set
CHUNK = 100
RETRY = Retry(max=5, interval=[2, 4, 8, 16, 32])
RESULT_TTL = 0  # a sent follow-up leaves its record in sms:out:*; the job itself need not linger
FAILURE_TTL = 30 * 86400


def dispatch_due(rt: Runtime, now: float | None = None) -> int:
    queue = rt.queue(FOLLOWUPS)
    room = rt.svc.config.send_rate_per_second * BACKLOG_SECONDS - queue.count
    if room <= 0:
        return 0
    due = followups.take_due(rt.svc.redis, time.time() if now is None else now, room)
    for start in range(0, len(due), CHUNK):  # one pipeline per chunk, not a round trip per job
        queue.enqueue_many([Queue.prepare_data("workers.jobs.send_followup", (fid,), job_id=job_id(fid), retry=RETRY,
                                               result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)
                            for fid, _ in due[start:start + CHUNK]])
    # removed only after their jobs exist (a crash in between re-enqueues the same job ids), and only
    # if a worker has not already deferred them to a later time
    followups.remove_dispatched(rt.svc.redis, due)
    return len(due)


def job_id(fid: str) -> str:
    return "fu-" + fid.replace(":", "_")
