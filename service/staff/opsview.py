"""What the ops page reads from RQ and the schedule: queues, workers, failed jobs, follow-ups by day."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from redis import Redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from service import followups
from service.queues import ALL as QUEUE_NAMES

DAYS_AHEAD = 14


def queues(r: Redis) -> list[tuple[str, int, int]]:
    rows = []
    for name in QUEUE_NAMES:
        q = Queue(name, connection=r)
        rows.append((name, q.count, FailedJobRegistry(queue=q).count))
    return rows


def workers(r: Redis) -> list[dict]:
    return [{"name": w.name, "state": w.get_state(), "job": w.get_current_job_id() or "",
             "heartbeat": w.last_heartbeat} for w in Worker.all(connection=r)]


def failed_jobs(r: Redis, limit: int = 50) -> list[dict]:
    rows = []
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(queue=Queue(name, connection=r))
        for job in Job.fetch_many(registry.get_job_ids(0, limit - 1), connection=r):
            if job is not None:
                rows.append({"id": job.id, "queue": name, "call": job.func_name, "args": job.args,
                             "error": (job.latest_result().exc_string or "").strip().splitlines()[-1:]
                             if job.latest_result() else []})
    return rows


def act_on_failed(r: Redis, job_id: str, action: str) -> bool:
    try:
        job = Job.fetch(job_id, connection=r)
    except NoSuchJobError:
        return False
    registry = FailedJobRegistry(queue=Queue(job.origin, connection=r))
    if job_id not in registry.get_job_ids():
        return False
    if action == "requeue":
        registry.requeue(job_id)
    else:
        registry.remove(job, delete_job=True)
    return True


def pending_by_day(r: Redis, zone: ZoneInfo, now: float) -> list[tuple[str, int]]:
    """Pending follow-ups per local day, overdue ones counted today."""
    start = datetime.fromtimestamp(now, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    pipe = r.pipeline(transaction=False)
    days = [start + timedelta(days=i) for i in range(DAYS_AHEAD + 1)]
    for i, day in enumerate(days):
        low = "-inf" if i == 0 else day.timestamp()
        pipe.zcount(followups.DUE, low, f"({(day + timedelta(days=1)).timestamp()}")
    return [(day.strftime("%a %b %d"), n) for day, n in zip(days, pipe.execute())]
