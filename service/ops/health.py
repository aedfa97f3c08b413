"""Liveness and readiness for load balancers, process managers and ops."""
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app
from redis.exceptions import RedisError
from rq.cron import CronScheduler

from service import breaker, queues
from service.programs import TABLE
from service.runtime import services
from service.store import keys, legacy

bp = Blueprint("health", __name__)
WORKER_FRESH = timedelta(seconds=420)  # RQ's default worker TTL: an idle worker heartbeats this often
CLOCK_FRESH = timedelta(seconds=120)
DOWN = {"redis": False, "worker": False, "clock": False, "keys": False}  # a Redis that does not answer


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready when Redis answers, a worker heartbeat is fresh and the clock (rq cron) is alive. A web or
    console process of several programs shows each program's checks under "programs" and names those not
    ready; it answers 503 only when none is: one center's outage must not take the process (and every
    other center's texts and inbox) out of the load balancer. That center's texts go to the fallback URL."""
    every = {name: _checked(svc) for name, svc in (current_app.extensions.get(TABLE) or {}).items()}
    if not every:
        checks = readiness(services(checked=False).redis)
        return {"ready": all(checks.values()), "checks": checks}, 200 if all(checks.values()) else 503
    down = sorted(name for name, c in every.items() if not all(c.values()))
    return ({"ready": not down, "not_ready": down, "programs": every},
            503 if len(down) == len(every) else 200)


def _checked(svc) -> dict[str, bool]:
    """One program's readiness; a Redis that just failed is not waited on again for a moment."""
    if breaker.is_open(svc):
        return dict(DOWN)
    checks = readiness(svc.redis)
    if not checks["redis"]:
        breaker.trip(svc)
    return checks


def readiness(redis) -> dict[str, bool]:
    """Heartbeats are compared with the machine's real time: RQ writes them with it. Only a worker taking
    from this program's queues, and a clock feeding them, count (programs may share a Redis). "keys": no
    data of a release before programs is left unmoved (`flask ops migrate-keys`): until it is moved, this
    release would not see who said STOP."""
    own = set(queues.names(keys.program_of(redis)))
    try:
        redis.ping()
        workers = queues.workers(redis)
        clocks = [c for c in CronScheduler.all(connection=redis) if own & {j.queue_name for j in c.get_jobs()}]
        unmoved = legacy.left(redis)
    except RedisError:  # down, or gone between the ping and the reads
        return dict(DOWN)
    now = datetime.now(timezone.utc)
    return {
        "redis": True,
        "worker": any(w.last_heartbeat and now - _aware(w.last_heartbeat) < WORKER_FRESH for w in workers),
        "clock": any(c.last_heartbeat and now - _aware(c.last_heartbeat) < CLOCK_FRESH for c in clocks),
        "keys": not unmoved,
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
