"""SMS alerts to the on-call staff numbers. They say what happened, never who texted or what."""
import logging
import time

from rq import Queue, Retry

from flows.model import FlowSet
from service import outbound, queues
from service.config import Config
from service.context import Services

log = logging.getLogger("service.alerts")
RETRY = Retry(max=5, interval=[2, 4, 8, 16, 32])
CRISIS = ("URGENT {program}: a text mentioned overdose or suicide. We replied with 911 and 988. "
          "Please open the staff console now.")
CALLBACK = "{program}: someone asked for a call back. Please check the callbacks queue in the staff console."
ESCALATION = "{program}: a call back has waited over 15 minutes unclaimed. Please claim it in the staff console."


STRANDED_AFTER = 60


def alert_staff(svc: Services, sid: str, crisis: bool, escalation: bool = False) -> list[str]:
    """Create and queue one alert per on-call number; ids derive from the MessageSid so a retry adds none."""
    pipe = svc.redis.pipeline()
    mids = prepare(svc, svc.current_config(), svc.flows(), pipe, sid, crisis, escalation)
    pipe.execute()
    enqueue(svc, mids)
    return mids


def prepare(svc: Services, config: Config, flows: FlowSet, pipe, sid: str, crisis: bool,
            escalation: bool = False) -> list[str]:
    """The alert records, written in the caller's transaction so they exist whenever its data does;
    config and flows are the caller's, so the webhook reads neither from Redis again."""
    now = time.time()
    body = flows.render(CRISIS if crisis else ESCALATION if escalation else CALLBACK)
    mids = [f"alert_{sid}_{i}" for i in range(len(config.staff_alert_numbers))]
    for mid, number in zip(mids, config.staff_alert_numbers):
        outbound.create(pipe, svc.vault, mid, number, body, "alert", "", now)
    if mids:
        pipe.zadd(outbound.ALERTS_PENDING, {mid: now for mid in mids})
    return mids


def enqueue(svc: Services, mids: list[str]) -> None:
    if not mids:
        return
    queue = Queue(queues.ALERTS, connection=svc.redis)
    for mid in mids:
        queue.enqueue("workers.jobs.send_message", mid, job_id="msg-" + mid, retry=RETRY,
                      result_ttl=3600, failure_ttl=30 * 86400)


def sweep(svc: Services, now: float) -> list[str]:
    """Alerts whose job never got queued (a crash right after the webhook's commit) are queued again, and
    so are alerts claimed over a minute ago and never finished (a worker that died, or lost Redis, between
    claim and outcome). For staff alerts a rare second copy beats a lost crisis alert; texters' messages
    are never resent this way."""
    r = svc.redis
    stranded = []
    for mid in (m.decode() for m in r.zrangebyscore(outbound.ALERTS_PENDING, "-inf", now - STRANDED_AFTER)):
        state, claimed_at = r.hmget(outbound.message_key(mid), "state", "claimed_at")
        if state == b"queued":
            stranded.append(mid)
        elif state == b"sending" and float(claimed_at or 0) < now - STRANDED_AFTER and outbound.release(r, mid):
            log.warning("alert_requeued_after_stalled_send", extra={"mid": mid})
            stranded.append(mid)
        elif state != b"sending":
            r.zrem(outbound.ALERTS_PENDING, mid)
    enqueue(svc, stranded)
    return stranded
