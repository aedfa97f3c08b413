"""Staff alerts that a crash stranded: queued again, since a rare second copy to on-call staff beats a
lost crisis alert. Texters' messages are never resent this way."""
import logging

from service import queues
from service.store import messages
from service.store.messages import OutState
from workers.runtime import Runtime

log = logging.getLogger("workers.sweep")
STRANDED_AFTER = 60


def sweep_alerts(rt: Runtime) -> list[str]:
    """Alerts whose job never got queued (a crash right after the webhook's commit), and alerts claimed
    over a minute ago and never finished (a worker that died, or lost Redis, between claim and outcome)."""
    r, now = rt.svc.redis, rt.svc.now()
    stranded = []
    for mid, state, claimed_at in messages.stranded_alerts(r, now - STRANDED_AFTER):
        if state is OutState.QUEUED:
            stranded.append(mid)
        elif state is OutState.SENDING and claimed_at < now - STRANDED_AFTER and messages.release(r, mid):
            log.warning("alert_requeued_after_stalled_send", extra={"mid": mid})
            stranded.append(mid)
        elif state is not OutState.SENDING:
            messages.forget_alert(r, mid)
    queues.enqueue_messages(r, stranded)
    return stranded
