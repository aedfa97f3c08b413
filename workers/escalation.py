"""Unclaimed call backs (after 15 minutes in business hours) and unclaimed crises (after 10 minutes, at
any hour): text the on-call numbers once more, once each."""
from datetime import datetime

from flows.alerts import TEXTS, Alert
from service import queues
from service.store import callbacks, crises, messages
from workers.runtime import Runtime

UNCLAIMED_SECONDS = 15 * 60
CRISIS_UNCLAIMED_SECONDS = 10 * 60


def escalate(rt: Runtime) -> list[str]:
    return escalate_crises(rt) + escalate_callbacks(rt)


def escalate_crises(rt: Runtime) -> list[str]:
    """A crisis nobody claimed pages on-call again, once (the simulator's crises are in another index)."""
    svc, now = rt.svc, rt.svc.now()
    config = svc.current_config()
    overdue = crises.overdue_unclaimed(svc.redis, now, CRISIS_UNCLAIMED_SECONDS)
    body = svc.flows().render(TEXTS[Alert.CRISIS_UNCLAIMED])
    done = []
    for flag_id in overdue:
        crisis = crises.get(svc.redis, svc.vault, flag_id)
        if crisis and crises.mark_escalated(svc.redis, flag_id):
            pipe = svc.redis.pipeline()
            mids = messages.create_alerts(pipe, svc.vault, f"crisis_esc_{flag_id}", config.staff_alert_numbers, body,
                                          now, crisis.simulated, about=crisis.person)
            pipe.execute()
            queues.enqueue_messages(svc.redis, mids, now)
            done.append(flag_id)
    return done


def escalate_callbacks(rt: Runtime) -> list[str]:
    svc, now = rt.svc, rt.svc.now()
    config = svc.current_config()
    if not config.business_hours.is_open(datetime.fromtimestamp(now, config.timezone)):
        return []
    overdue = callbacks.overdue_unclaimed(svc.redis, now, UNCLAIMED_SECONDS)
    body = svc.flows().render(TEXTS[Alert.ESCALATION])
    for callback_id in overdue:
        cb = callbacks.get(svc.redis, svc.vault, callback_id)
        if cb and callbacks.mark_escalated(svc.redis, callback_id):
            pipe = svc.redis.pipeline()
            mids = messages.create_alerts(pipe, svc.vault, f"esc_{callback_id}", config.staff_alert_numbers, body, now,
                                          cb.simulated, about=cb.person)  # a simulated call back pages nobody
            pipe.execute()
            queues.enqueue_messages(svc.redis, mids, now)
    return overdue
