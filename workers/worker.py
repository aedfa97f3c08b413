"""The RQ worker class of our Procfile: rq's SimpleWorker (jobs run in the worker process, no fork per
job), made ready before its first job.

A fresh worker otherwise imports the job code and builds its runtime (config, Redis, flows, Twilio's
client) inside its first job: a bad configuration surfaces only when a text is due, and a fleet that
starts together spends its first seconds importing while the first texts go out, which is exactly
when send pacing needs a quiet CPU."""
import logging

from rq.worker import SimpleWorker

log = logging.getLogger("workers.worker")


class Worker(SimpleWorker):
    def work(self, *args, **kwargs):
        from workers import jobs  # noqa: F401  (imported here, never at import time of this module)
        from workers.runtime import current

        warm_up = getattr(current().sender, "warm_up", None)
        try:
            if warm_up:
                warm_up()
        except Exception:  # noqa: BLE001 - Twilio may be down or odd while we start: never stop the worker
            log.exception("twilio_warm_up_failed")
        return super().work(*args, **kwargs)
