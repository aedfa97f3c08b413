"""Sweepers run by the clock. Staff alerts that a crash stranded are queued again, since a rare second
copy to on-call staff beats a lost crisis alert (texters' messages are never resent this way), and
send jobs RQ lost are enqueued again (their jobs re-read everything and send at most once)."""
import logging

from rq.job import Job, JobStatus

from service import queues
from service.store import keys, messages
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
    queues.enqueue_messages(r, stranded, now)
    return stranded


LOST_AFTER = 5  # seconds: a job is popped and started within milliseconds; one queued and in no list is lost
GONE = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED}


def sweep_jobs(rt: Runtime) -> list[str]:
    """Send jobs written in the ledger over LOST_AFTER seconds ago: one that ran (or failed for good,
    where ops see it) leaves the ledger; one that is missing, or queued but in no queue's list (popped by
    a worker that died in that instant: a BLPOP answered to a socket being closed), is enqueued again.
    Jobs are idempotent. Three or four round trips whatever the backlog."""
    r, now = rt.svc.redis, rt.svc.now()
    entries = [e.decode().split("|", 1) for e in r.zrangebyscore(keys.of(r).JOBS_PENDING, "-inf", now - LOST_AFTER,
                                                                  start=0, num=2000)]
    if not entries:
        return []
    jobs = Job.fetch_many([queues.job_id(r, name, arg) for name, arg in entries], connection=r)
    jobs = _adopted(r, entries, jobs)
    waiting = _waiting_ids(r)
    lost = []
    for (name, arg), job in zip(entries, jobs):
        status = job.get_status(refresh=False) if job else None
        if status in GONE:
            queues.ran(r, name, arg)
        elif job is None or (status is JobStatus.QUEUED and job.id not in waiting):
            lost.append((name, arg))
    for name, arg in lost:
        queues.enqueue_sends(r, name, [arg], now)
    return [arg for _, arg in lost]


def _adopted(r, entries: list, jobs: list) -> list:
    """A job not found under this program's id may be one `flask ops migrate-keys` adopted from another
    layout under its old id (queued, or waiting for its retry): that one, not a second copy."""
    missing = [i for i, job in enumerate(jobs) if job is None]
    if not missing:
        return jobs
    ids = {m: queues.legacy_job_ids(r, *entries[m]) for m in missing}
    older = iter(Job.fetch_many([i for group in ids.values() for i in group], connection=r))  # one round trip
    found = list(jobs)
    for m, group in ids.items():
        found[m] = next((job for job in [next(older) for _ in group] if job is not None), None)
    return found


def _waiting_ids(r) -> set[str]:
    """Every job id in the send queues' lists (and their intermediate lists, where RQ moves a job it pops
    from a single queue)."""
    ids: set[str] = set()
    for lane in {lane for lane, _, _ in queues.SEND_JOBS.values()}:
        queue = queues.queue(r, lane)
        ids.update(queue.get_job_ids())
        ids.update(queue.intermediate_queue.get_job_ids())
    return ids
