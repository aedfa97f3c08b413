"""RQ queues, in priority order (the clock's tick, staff alerts, staff replies, follow-ups, then
housekeeping), and the jobs the web and the clock put on them, enqueued by name: the web never imports
the workers' code.

Every send job is written in a ledger (`sms:jobs:pending`) before it is enqueued and leaves it when it
has run: the clock's sweeper re-enqueues one that RQ lost (a crash between the ledger and the queue,
or a job handed to a worker that died).

Queues and job ids carry their program ("harbor.replies", "harbor-send-reply-..."), as every key does:
programs sharing one Redis never take each other's jobs, and a worker serves its own program's queues."""
from redis import Redis
from rq import Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from service.store import keys

SCHEDULE, ALERTS, REPLIES, FOLLOWUPS, BULK, MAINTENANCE = ("schedule", "alerts", "replies", "followups", "bulk",
                                                           "maintenance")
ALL = (SCHEDULE, ALERTS, REPLIES, FOLLOWUPS, BULK, MAINTENANCE)  # a worker takes from the first that has work
# (each a lane's name: a program's queue is named program + "." + lane)
RETRY = Retry(max=5, interval=[2, 4, 8, 16, 32])
FAILURE_TTL = 30 * 86400
CHUNK = 100  # jobs per pipeline when enqueueing many
SEND_JOBS = {  # name -> (queue, job id prefix, how long a result is kept)
    "send_followup": (FOLLOWUPS, "send-followup-", 0),
    "send_message": (ALERTS, "send-message-", 3600),
    "send_reply": (REPLIES, "send-reply-", 3600),
    "send_journey": (FOLLOWUPS, "send-journey-", 0),
    "send_broadcast": (BULK, "send-broadcast-", 0),
}


def named(program: str, lane: str) -> str:
    """A program's queue in a lane."""
    return f"{program or keys.DEFAULT}.{lane}"


def names(program: str) -> list[str]:
    """A program's queues, in priority order (what its workers and scheduler serve)."""
    return [named(program, lane) for lane in ALL]


def queue(r: Redis, lane: str) -> Queue:
    """The queue in `lane` of the program `r` serves (its connection names it: store/keys.py)."""
    return Queue(named(keys.program_of(r), lane), connection=r)


def job_id(r: Redis, name: str, arg: str) -> str:
    """RQ allows letters, digits, "_" and "-": a follow-up id's ":" and a timeout's "." become "_"."""
    return _owned(r, SEND_JOBS[name][1] + arg.replace(":", "_").replace(".", "_").replace("@", ""))


def _owned(r: Redis, job: str) -> str:
    return f"{keys.program_of(r)}-{job}"


def legacy_job_ids(r: Redis, name: str, arg: str) -> list[str]:
    """The ids the same send job had in the layouts adopt_legacy takes jobs from (a release before
    programs: no prefix; one program split into folders: "main-"): an adopted job keeps its id."""
    bare = job_id(r, name, arg)[len(keys.program_of(r)) + 1:]
    return [bare] + ([f"{keys.DEFAULT}-{bare}"] if keys.program_of(r) != keys.DEFAULT else [])


def ledger_entry(name: str, arg: str) -> str:
    return f"{name}|{arg}"


def promise(pipe, name: str, arg: str, now: float) -> None:
    """The ledger entry written with the record the job will send (same transaction): a crash before the
    job is enqueued leaves it to the sweeper, never lost."""
    pipe.zadd(keys.of(pipe).JOBS_PENDING, {ledger_entry(name, arg): now})


def enqueue_sends(r: Redis, name: str, args: list[str], now: float) -> None:
    """Send jobs by name, one per id (a job id per id: twice is harmless), ledger first."""
    lane, _, result_ttl = SEND_JOBS[name]
    q = queue(r, lane)
    for start in range(0, len(args), CHUNK):  # one pipeline per chunk, not a round trip per job
        chunk = args[start:start + CHUNK]
        r.zadd(keys.of(r).JOBS_PENDING, {ledger_entry(name, a): now for a in chunk})
        q.enqueue_many([Queue.prepare_data(f"workers.jobs.{name}", (a,), job_id=job_id(r, name, a), retry=RETRY,
                                           result_ttl=result_ttl, failure_ttl=FAILURE_TTL) for a in chunk])


def enqueue_messages(r: Redis, mids: list[str], now: float) -> None:
    """Outbound texts whose records exist (staff alerts)."""
    enqueue_sends(r, "send_message", mids, now)


def enqueue_replies(r: Redis, mids: list[str], now: float) -> None:
    """Texts staff wrote (records exist): a lane above follow-ups, below staff alerts."""
    enqueue_sends(r, "send_reply", mids, now)


def enqueue_followups(r: Redis, fids: list[str], now: float) -> None:
    enqueue_sends(r, "send_followup", fids, now)


def enqueue_journeys(r: Redis, eids: list[str], now: float) -> None:
    """Due journey events, in the follow-ups' lane (below staff alerts and replies)."""
    enqueue_sends(r, "send_journey", eids, now)


def enqueue_broadcast(r: Redis, args: list[str], now: float) -> None:
    """Broadcast recipients ("broadcast:person"), in the lowest sending lane."""
    enqueue_sends(r, "send_broadcast", args, now)


def enqueue_replan(r: Redis, pk: str) -> None:
    """Plan a person's journey events again from what stands now (after a START, a resolved crisis)."""
    queue(r, MAINTENANCE).enqueue("workers.jobs.replan_journeys", pk, job_id=_owned(r, "replan-" + pk.replace(
        "-", "_")), retry=RETRY, result_ttl=0, failure_ttl=FAILURE_TTL)


def enqueue_replan_everyone(r: Redis, version: int) -> None:
    """After a publish: every contact's journeys from the new version (one job per version)."""
    queue(r, MAINTENANCE).enqueue("workers.jobs.replan_everyone", job_id=_owned(r, f"replan-everyone-{version}"),
                                  retry=RETRY, result_ttl=3600, failure_ttl=FAILURE_TTL, job_timeout=3600)


def ran(r: Redis, name: str, arg: str) -> None:
    """The job ran to an outcome: nothing left for the sweeper to watch."""
    r.zrem(keys.of(r).JOBS_PENDING, ledger_entry(name, arg))


def enqueue_provider_erasure(r: Redis, work_id: str) -> None:
    """Delete an erased person's texts at Twilio (the work item says which, encrypted)."""
    queue(r, MAINTENANCE).enqueue("workers.jobs.erase_at_provider", work_id,
                                  job_id=_owned(r, "erase-at-provider-" + work_id), retry=RETRY,
                                  result_ttl=0, failure_ttl=FAILURE_TTL)


def workers(r: Redis) -> list[Worker]:
    """RQ's workers taking from the queues of the program `r` serves (programs may share a Redis)."""
    own = set(names(keys.program_of(r)))
    return [w for w in Worker.all(connection=r) if own & set(w.queue_names())]


def waiting(r: Redis, lane: str) -> int:
    return queue(r, lane).count


def adopt_legacy(r: Redis) -> int:
    """Jobs another layout left in its queues (a release before programs: named by lane alone; a
    deployment of one program split into folders: "main.<lane>"), moved to this program's queue in the
    same lane (`flask ops migrate-keys`): queued ones, those waiting for a retry, and failed ones (ops
    requeue or delete them from the Ops page). Run with that layout's processes stopped: none is running."""
    moved = 0
    for lane, name in ((lane, name) for lane in ALL for name in (lane, named(keys.DEFAULT, lane))):
        old, new = Queue(name, connection=r), queue(r, lane)
        if old.name == new.name:
            continue
        for job in old.jobs:
            old.remove(job)
            new.enqueue_job(job)
            moved += 1
        moved += _move_registered(r, ScheduledJobRegistry(queue=old), new,
                                  lambda job, when: ScheduledJobRegistry(queue=new).schedule(job, when))
        moved += _move_registered(r, FailedJobRegistry(queue=old), new,
                                  lambda job, _: FailedJobRegistry(queue=new).add(job, ttl=FAILURE_TTL))
    return moved


def _move_registered(r: Redis, registry, new: Queue, add) -> int:
    """A registry's jobs (waiting for a retry, or failed) given to `new`'s registry of the same kind."""
    moved = 0
    for job_id in registry.get_job_ids():
        try:
            job = Job.fetch(job_id, connection=r)
            when = registry.get_scheduled_time(job_id) if isinstance(registry, ScheduledJobRegistry) else None
        except NoSuchJobError:  # expired meanwhile: nothing to run
            registry.remove(job_id)
            continue
        registry.remove(job)
        job.origin = new.name
        job.save()
        add(job, when)
        moved += 1
    return moved
