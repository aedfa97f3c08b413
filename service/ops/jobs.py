"""What ops see of RQ beyond the counts: workers, failed jobs, and requeue or delete of a failed job."""
from datetime import timezone

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from service import queues
from service.store import keys


def workers(r: Redis) -> list[dict]:
    """Each worker of this program (taking from its queues: programs may share a Redis); its last heartbeat
    as epoch seconds (RQ keeps naive UTC datetimes)."""
    return [{"name": w.name, "state": w.get_state(), "job": w.get_current_job_id() or "",
             "heartbeat": w.last_heartbeat.replace(tzinfo=timezone.utc).timestamp() if w.last_heartbeat else None}
            for w in queues.workers(r)]


def failed_jobs(r: Redis, limit: int = 50) -> list[dict]:
    rows = []
    for lane in queues.ALL:
        registry = FailedJobRegistry(queue=queues.queue(r, lane))
        for job in Job.fetch_many(registry.get_job_ids(0, limit - 1), connection=r):
            if job is not None:
                rows.append({"id": job.id, "queue": lane, "call": job.func_name, "args": job.args,
                             "error": (job.latest_result().exc_string or "").strip().splitlines()[-1:]
                             if job.latest_result() else []})
    return rows


def act_on_failed(r: Redis, job_id: str, action: str) -> bool:
    try:
        job = Job.fetch(job_id, connection=r)
    except NoSuchJobError:
        return False
    if job.origin not in queues.names(keys.program_of(r)):  # another program's, sharing this Redis
        return False
    registry = FailedJobRegistry(queue=Queue(job.origin, connection=r))
    if job_id not in registry.get_job_ids():
        return False
    if action == "requeue":
        registry.requeue(job_id)
    else:
        registry.remove(job, delete_job=True)
    return True
