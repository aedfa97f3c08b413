"""RQ entry points, enqueued by name. Each takes an id, re-reads state and is safe to run twice."""
from workers import delivery, dispatch, escalation, followup, sweep
from workers.runtime import current


def send_followup(fid: str) -> str:
    return followup.send_followup(current(), fid).value


def send_message(mid: str) -> str:
    return delivery.deliver(current(), mid).value


def dispatch_due() -> int:
    return dispatch.dispatch_due(current())


def escalate_callbacks() -> int:
    """Every minute: unclaimed call backs, and staff alerts a crash left unqueued."""
    return len(escalation.escalate(current())) + len(sweep.sweep_alerts(current()))
