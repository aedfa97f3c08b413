"""RQ queues, in priority order (the clock's tick, staff alerts, follow-ups, then housekeeping), and the
jobs the web and the clock put on them, enqueued by name: the web never imports the workers' code."""
from redis import Redis
from rq import Queue, Retry

SCHEDULE, ALERTS, FOLLOWUPS, MAINTENANCE = "schedule", "alerts", "followups", "maintenance"
ALL = (SCHEDULE, ALERTS, FOLLOWUPS, MAINTENANCE)
RETRY = Retry(max=5, interval=[2, 4, 8, 16, 32])
FAILURE_TTL = 30 * 86400
CHUNK = 100  # jobs per pipeline when enqueueing many


def followup_job_id(fid: str) -> str:
    return "send-followup-" + fid.replace(":", "_")


def message_job_id(mid: str) -> str:
    return "send-message-" + mid


def enqueue_messages(r: Redis, mids: list[str], queue: str = ALERTS) -> None:
    """Outbound texts whose records exist (staff alerts); a job id per message, so twice is harmless."""
    q = Queue(queue, connection=r)
    for mid in mids:
        q.enqueue("workers.jobs.send_message", mid, job_id=message_job_id(mid), retry=RETRY,
                  result_ttl=3600, failure_ttl=FAILURE_TTL)


def enqueue_followups(r: Redis, fids: list[str]) -> None:
    q = Queue(FOLLOWUPS, connection=r)
    for start in range(0, len(fids), CHUNK):  # one pipeline per chunk, not a round trip per job
        q.enqueue_many([Queue.prepare_data("workers.jobs.send_followup", (fid,), job_id=followup_job_id(fid),
                                           retry=RETRY, result_ttl=0, failure_ttl=FAILURE_TTL)
                        for fid in fids[start:start + CHUNK]])


def enqueue_provider_erasure(r: Redis, work_id: str) -> None:
    """Delete an erased person's texts at Twilio (the work item says which, encrypted)."""
    Queue(MAINTENANCE, connection=r).enqueue("workers.jobs.erase_at_provider", work_id,
                                             job_id="erase-at-provider-" + work_id, retry=RETRY,
                                             result_ttl=0, failure_ttl=FAILURE_TTL)


def waiting(r: Redis, name: str) -> int:
    return Queue(name, connection=r).count
