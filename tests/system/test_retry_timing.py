"""A follow-up Twilio answered 429 goes out again after RQ's documented backoff (2 s first), through the
Procfile's real processes (the worker pool, the clock, the scheduler under workers.supervise), also
when the scheduler was just restarted after a crash or a second scheduler had to take over: RQ's
scheduler used to retry a lock it could not take only every 120 s, and the retry went out minutes late."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

from service import create_app, queues
from service.queues import RETRY
from tests.conftest import Phone, make_env, svc_of, timeout_due_now
from tests.system.test_processes import stop_groups

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKERS = [str(BIN / "rq"), "worker-pool", "-c", "workers.rq_settings", "-w", "workers.worker.Worker", "-n", "2"]
CLOCK = [str(BIN / "rq"), "cron", "-c", "workers.rq_settings", "workers/cron.py"]
SCHEDULER = [sys.executable, "-m", "workers.supervise", sys.executable, "-m", "workers.scheduler"]  # as in the Procfile
LOCK = RQScheduler.get_locking_key(queues.named("", queues.FOLLOWUPS))
pytestmark = pytest.mark.slow


@pytest.fixture
def env(redis_url, redis, fake):
    return make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                    STAFF_ALERT_NUMBERS="+16175550100", SEND_RATE_PER_SECOND="50",
                    SEND_HOURS="Mon-Sun 00:00-24:00")  # open at any hour of any day in every zone


def wait_until(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def child_of(parent: int) -> int | None:
    """The scheduler process a workers.supervise process runs now."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def registered(redis, pid: int | None) -> bool:
    """The scheduler process `pid` has started its loop (RQ keeps each scheduler's pid in its hash)."""
    return pid is not None and any(redis.type(key) == b"hash" and redis.hget(key, "pid") == str(pid).encode()
                                   for key in redis.scan_iter(SCHEDULER_KEY_TEMPLATE % "*"))


def holds_lock(redis, pid: int | None) -> bool:
    owner = redis.get(LOCK)
    return pid is not None and owner is not None and \
        redis.hget(SCHEDULER_KEY_TEMPLATE % owner.decode(), "pid") == str(pid).encode()


@pytest.mark.parametrize("before", ["steady", "scheduler_restarted_after_a_crash", "second_scheduler_took_over"])
def test_a_follow_ups_429_is_retried_within_the_first_backoff(env, fake, redis, before):
    app = create_app(env)
    phone = Phone(app.test_client())
    phone.text("SIGNS")  # asks a question; its timeout is the follow-up
    fake.fail(phone.number, 429)  # the first send is throttled, the retry accepted
    full_env = {**os.environ, **env}
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) for cmd in (WORKERS, CLOCK, SCHEDULER)]
    first = procs[2]
    try:
        assert wait_until(lambda: holds_lock(redis, child_of(first.pid)))
        if before == "scheduler_restarted_after_a_crash":  # its locks stay behind for their 61 s TTL
            dead = child_of(first.pid)
            os.kill(dead, signal.SIGKILL)
            assert wait_until(lambda: child_of(first.pid) not in (None, dead) and registered(redis, child_of(first.pid)))
        elif before == "second_scheduler_took_over":  # "two are harmless": one stops, the other goes on
            procs.append(subprocess.Popen(SCHEDULER, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True))
            assert wait_until(lambda: registered(redis, child_of(procs[-1].pid)))
            os.killpg(first.pid, signal.SIGTERM)  # a clean stop: it releases its locks
            first.wait(15)
        timeout_due_now(redis, svc_of(app).vault.person_key(phone.number), time.time() - 1)
        wait_until(lambda: fake.sent(), timeout=RETRY.intervals[0] + 15)  # a minute late fails here
    finally:
        stop_groups(procs, wait=15)
    to_phone = [r for r in fake.received if r.params.get("To") == phone.number]
    assert [r.status for r in to_phone] == [429, 201], [(r.status, round(r.at - to_phone[0].at, 1)) for r in to_phone]
    # the scheduler looks every second (registry scores are whole seconds), then a worker sends at its slot
    assert to_phone[1].at - to_phone[0].at <= RETRY.intervals[0] + 4
