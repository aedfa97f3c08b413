"""The RQ worker class of our Procfile (`rq worker-pool -w workers.worker.Worker`): rq's SimpleWorker
(jobs run in the worker process, no fork per job), made ready before its first job, never forking a
scheduler, and quiet about the clock's routine ticks.

A fresh worker otherwise imports the job code and builds its runtime (config, Redis, flows, Twilio's
client) inside its first job: a bad configuration surfaces only when a text is due, and a fleet that
starts together spends its first seconds importing while the first texts go out, which is exactly
when send pacing needs a quiet CPU.

No forked scheduler: `--with-scheduler` forks a child that inherits the worker's Redis sockets; after a
SIGKILL of the worker the orphaned child kept them open, so Redis went on serving the dead worker's
blocking pop and the next job went to a socket nobody read. RQ's scheduler runs as its own process
(workers/scheduler.py)."""
import logging

from rq.worker import SimpleWorker

log = logging.getLogger("workers.worker")
TICKS = ("workers.jobs.dispatch_due()", "workers.jobs.escalate_callbacks()", "workers.jobs.sweep_jobs()")


class QuietTicks(logging.Filter):
    """Drops RQ's per-job lines for the clock's ticks (one a second); the ticks log what they did."""

    def __init__(self):
        super().__init__()
        self._ids: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        args = [str(a) for a in (record.args if isinstance(record.args, tuple) else ())]
        if any(tick in a for a in args for tick in TICKS):
            if len(self._ids) > 1000:
                self._ids.clear()
            self._ids.update(a for a in args[-1:] if "(" not in a)
            return False
        return not any(a in self._ids for a in args)


class Worker(SimpleWorker):
    def work(self, *args, **kwargs):
        from workers import jobs  # noqa: F401  (imported here, never at import time of this module)
        from workers.runtime import current

        logging.getLogger("rq.worker").addFilter(QuietTicks())
        warm_up = getattr(current().sender, "warm_up", None)
        try:
            if warm_up:
                warm_up()
        except Exception:  # noqa: BLE001 - Twilio may be down or odd while we start: never stop the worker
            log.exception("twilio_warm_up_failed")
        kwargs["with_scheduler"] = False
        return super().work(*args, **kwargs)
