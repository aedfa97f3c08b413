"""Unclaimed call backs: after 15 minutes in business hours, text the on-call numbers once."""
from datetime import datetime

from flows.alerts import TEXTS, Alert
from service import queues
from service.store import callbacks, messages
from workers.runtime import Runtime

UNCLAIMED_SECONDS = 15 * 60


def escalate(rt: Runtime) -> list[str]:
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
