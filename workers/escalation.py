"""Unclaimed call backs: after 15 minutes in business hours, text the on-call numbers once."""
import time
from datetime import datetime

from service import alerts, callbacks
from workers.runtime import Runtime

UNCLAIMED_SECONDS = 15 * 60


def sweep_alerts(rt: Runtime, now: float | None = None) -> list[str]:
    return alerts.sweep(rt.svc, time.time() if now is None else now)


def escalate(rt: Runtime, now: float | None = None) -> list[str]:
    svc, now = rt.svc, time.time() if now is None else now
    config = svc.current_config()
    if not config.business_hours.is_open(datetime.fromtimestamp(now, config.timezone)):
        return []
    overdue = callbacks.overdue_unclaimed(svc.redis, now, UNCLAIMED_SECONDS)
    for callback_id in overdue:
        if svc.redis.sadd(callbacks.ESCALATED, callback_id):  # once per request, even with two clocks
            alerts.alert_staff(svc, f"esc_{callback_id}", crisis=False, escalation=True)
    return overdue
