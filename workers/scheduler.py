"""`python -m workers.scheduler`: RQ's scheduler (it moves retries and other scheduled jobs back onto
their queues when due) in a process of its own, so no worker forks one (see workers/worker.py). Two
of them are harmless: a lock per queue lets one schedule at a time.

RQ's scheduler retries a lock it could not take only every 120 s (DEFAULT_SCHEDULER_FALLBACK_PERIOD),
and a lock outlives a scheduler that died without releasing it by 61 s (its TTL). So a scheduler that
workers.supervise restarted (after a crash or a lost Redis), or a second one left alone when the first
stopped, moved nothing for up to two minutes, and a follow-up's 429 retry, due 2 s after the 429, went
out a minute or two late. Here a restarted scheduler keeps its predecessor's name (the lock's owner), so
it holds the locks again at once, and a scheduler missing a lock asks for it again every second."""
import logging
import os

from redis import Redis
from redis.sentinel import Sentinel
from rq.scheduler import RQScheduler

from service import logs, queues
from service.programs import rq_settings
from workers.supervise import INSTANCE


def connection(settings: dict) -> Redis:
    """The same Redis as the rq CLI's `-c workers.rq_settings`: a URL, or the primary behind Sentinel."""
    sentinel = settings.get("SENTINEL")
    if not sentinel:
        return Redis.from_url(settings["REDIS_URL"])
    timeout = {"socket_timeout": sentinel["SOCKET_TIMEOUT"]}
    return Sentinel(sentinel["INSTANCES"], sentinel_kwargs=timeout, **timeout).master_for(
        sentinel["MASTER_NAME"], db=sentinel["DB"], password=sentinel["PASSWORD"], **timeout)


class Scheduler(RQScheduler):
    @property
    def should_reacquire_locks(self) -> bool:
        # every loop (1 s), not every 120 s: a lock another scheduler released or left to expire is taken at once
        return self._queue_names != self.acquired_locks


def main() -> None:
    logs.configure()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    # under workers.supervise, every restart has the same name: the locks a killed predecessor left are its own
    settings = rq_settings()
    scheduler = Scheduler(queues.names(settings["PROGRAM"]), connection=connection(settings),
                          name=os.environ.get(INSTANCE) or None)
    scheduler.acquire_locks()
    scheduler.work()  # until SIGTERM/SIGINT; exits on a Redis error, and workers.supervise restarts it


if __name__ == "__main__":
    main()
