"""The tick: move due follow-ups and journey events from their compact schedules into RQ, in due order,
only as fast as they can be sent."""
from itertools import groupby

from service import queues
from service.store import followups, journeys
from workers.runtime import Runtime

BACKLOG_SECONDS = 10  # keep at most this many seconds of sending in RQ; the rest waits in the sorted set


def dispatch_due(rt: Runtime) -> int:
    r = rt.svc.redis
    room = rt.svc.config.send_rate_per_second * BACKLOG_SECONDS - queues.waiting(r, queues.FOLLOWUPS)
    if room <= 0:
        return 0
    now = rt.svc.now()
    both = sorted([(s, "f", m) for m, s in followups.take_due(r, now, room)] +
                  [(s, "j", m) for m, s in journeys.take_due(r, now, room)])[:room]  # the oldest first, either kind
    due = [(m, s) for s, kind, m in both if kind == "f"]
    events = [(m, s) for s, kind, m in both if kind == "j"]
    for kind, run in groupby(both, key=lambda item: item[1]):  # in due order, a run of each kind at a time
        run = list(run)
        if kind == "f":
            queues.enqueue_followups(r, [followups.job_arg(m, s) for s, _, m in run], now)
        else:
            queues.enqueue_journeys(r, [m for _, _, m in run], now)
    # removed only after their jobs exist (a crash in between re-enqueues the same job ids), and only
    # if a worker has not already deferred them to a later time
    followups.remove_dispatched(r, due)
    journeys.remove_dispatched(r, events)
    return len(due) + len(events)
