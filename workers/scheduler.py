"""`python -m workers.scheduler`: RQ's scheduler (it moves retries and other scheduled jobs back onto
their queues when due) in a process of its own, so no worker forks one (see workers/worker.py). Two
of them are harmless: a lock per queue lets one schedule at a time."""
import logging

from redis import Redis
from redis.sentinel import Sentinel
from rq.scheduler import RQScheduler

from service import logs, queues
from service.config import rq_settings


def connection(settings: dict) -> Redis:
    """The same Redis as the rq CLI's `-c workers.rq_settings`: a URL, or the primary behind Sentinel."""
    sentinel = settings.get("SENTINEL")
    if not sentinel:
        return Redis.from_url(settings["REDIS_URL"])
    timeout = {"socket_timeout": sentinel["SOCKET_TIMEOUT"]}
    return Sentinel(sentinel["INSTANCES"], sentinel_kwargs=timeout, **timeout).master_for(
        sentinel["MASTER_NAME"], db=sentinel["DB"], password=sentinel["PASSWORD"], **timeout)


def main() -> None:
    logs.configure()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    scheduler = RQScheduler(queues.ALL, connection=connection(rq_settings()))
    scheduler.acquire_locks()
    scheduler.work()  # until SIGTERM/SIGINT; exits on a Redis error, and workers.supervise restarts it


if __name__ == "__main__":
    main()
