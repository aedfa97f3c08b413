"""RQ entry points, enqueued by name. Each takes an id, re-reads state and is safe to run twice.
The clock's ticks log only when they did something: one a second would bury everything else."""
import logging

from service import handoff, queues
from workers import broadcast, delivery, dispatch, erasure, escalation, followup, journey, retention, sweep
from workers.runtime import current

log = logging.getLogger("workers.jobs")


def send_followup(fid: str) -> str:
    outcome = followup.send_followup(current(), fid).value
    queues.ran(current().svc.redis, "send_followup", fid)  # not reached when it raised: RQ retries it
    return outcome


def send_message(mid: str) -> str:
    outcome = delivery.deliver(current(), mid).value
    queues.ran(current().svc.redis, "send_message", mid)
    return outcome


def send_broadcast(arg: str) -> str:
    outcome = broadcast.send(current(), arg)
    queues.ran(current().svc.redis, "send_broadcast", arg)
    return outcome


def send_journey(eid: str) -> str:
    outcome = journey.send_event(current(), eid).value
    queues.ran(current().svc.redis, "send_journey", eid)
    return outcome


def replan_everyone() -> int:
    """After a publish: every contact's journey events from the journeys now published."""
    planned = journey.replan_everyone(current())
    log.info("journeys_replanned", extra={"count": planned})
    return planned


def replan_journeys(pk: str) -> int:
    """A person's journey events planned again from what stands now (after a START, a resolved crisis)."""
    return journey.replan(current(), pk)


def send_reply(mid: str) -> str:
    outcome = delivery.deliver(current(), mid).value
    queues.ran(current().svc.redis, "send_reply", mid)
    return outcome


def release_idle_holds() -> int:
    """Every minute: conversations staff took over and left alone for HANDOFF_IDLE_HOURS go back to the bot."""
    released = handoff.release_idle(current().svc)
    if released:
        log.info("holds_released", extra={"count": released})
    return released


def erase_at_provider(work_id: str) -> int:
    return erasure.erase_at_provider(current(), work_id)


def retention_sweep() -> dict[str, int]:
    """Daily: erase people silent for RETENTION_DAYS, trim what is older than that."""
    done = retention.sweep(current())
    log.info("retention_swept", extra={"count": done["erased"] + done["trimmed"]})
    return done


def dispatch_due() -> int:
    count = dispatch.dispatch_due(current()) + broadcast.dispatch(current())
    if count:
        log.info("followups_dispatched", extra={"count": count})
    return count


def escalate_callbacks() -> int:
    """Every minute: unclaimed call backs, and staff alerts a crash left unqueued."""
    escalated, swept = escalation.escalate(current()), sweep.sweep_alerts(current())
    if escalated:
        log.info("callbacks_escalated", extra={"count": len(escalated)})
    if swept:
        log.info("alerts_requeued", extra={"count": len(swept)})
    return len(escalated) + len(swept)


def sweep_jobs() -> int:
    """Every 2 s: send jobs RQ lost (in no queue, no registry) go back on their queue."""
    lost = sweep.sweep_jobs(current())
    if lost:
        log.warning("jobs_requeued", extra={"count": len(lost)})
    return len(lost)
