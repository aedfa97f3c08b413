"""SMS alerts to the on-call staff numbers. They say what happened, never who texted or what."""
import time

from rq import Queue, Retry

from service import outbound
from service.context import Services

ALERTS_QUEUE = "alerts"
RETRY = Retry(max=5, interval=[2, 4, 8, 16, 32])
CRISIS = ("URGENT {program}: a text mentioned overdose or suicide. We replied with 911 and 988. "
          "Please open the staff console now.")
CALLBACK = "{program}: someone asked for a call back. Please check the callbacks queue in the staff console."
ESCALATION = "{program}: a call back has waited over 15 minutes unclaimed. Please claim it in the staff console."


def alert_staff(svc: Services, sid: str, crisis: bool, escalation: bool = False) -> list[str]:
    """Queue one alert per on-call number; ids derive from the MessageSid so a retry adds none."""
    numbers = svc.current_config().staff_alert_numbers
    if not numbers:
        return []
    body = svc.flows().render(CRISIS if crisis else ESCALATION if escalation else CALLBACK)
    mids = [f"alert_{sid}_{i}" for i in range(len(numbers))]
    pipe = svc.redis.pipeline()
    for mid, number in zip(mids, numbers):
        outbound.create(pipe, svc.vault, mid, number, body, "alert", "", time.time())
    pipe.execute()
    queue = Queue(ALERTS_QUEUE, connection=svc.redis)
    for mid in mids:
        queue.enqueue("workers.jobs.send_message", mid, job_id="msg-" + mid, retry=RETRY,
                      result_ttl=3600, failure_ttl=30 * 86400)
    return mids
