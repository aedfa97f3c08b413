"""The tick: move due follow-ups from the compact schedule into RQ, only as fast as they can be sent."""
from service import queues
from service.store import followups
from workers.runtime import Runtime

BACKLOG_SECONDS = 10  # keep at most this many seconds of sending in RQ; the rest waits in the sorted set


def dispatch_due(rt: Runtime) -> int:
    r = rt.svc.redis
    room = rt.svc.config.send_rate_per_second * BACKLOG_SECONDS - queues.waiting(r, queues.FOLLOWUPS)
    if room <= 0:
        return 0
    due = followups.take_due(r, rt.svc.now(), room)
    queues.enqueue_followups(r, [followups.job_arg(member, score) for member, score in due], rt.svc.now())
    # removed only after their jobs exist (a crash in between re-enqueues the same job ids), and only
    # if a worker has not already deferred them to a later time
    followups.remove_dispatched(r, due)
    return len(due)
