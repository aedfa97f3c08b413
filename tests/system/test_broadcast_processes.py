"""Broadcasts through real processes: the console (gunicorn) takes `POST /api/v1/broadcasts` and its cancel,
the rq cron clock ticks due recipients into the `bulk` queue, separate RQ worker processes (the Procfile's
worker class) send them through Twilio's own client to the fake Twilio, RQ's scheduler runs the retries.
These processes read the real clock, so SEND_HOURS keeps the window open at any hour in every zone.

1. A worker is SIGKILLed in the middle of a send it claimed (the fake holds that request), another worker
   starts: every recipient gets exactly one text, and the broadcast still finishes ("sent"): the killed
   send is recorded "unknown" once its claim is 30 s old, never sent again.
2. After `POST .../cancel` returns, nothing new reaches the fake (2 s later, or ever)."""
import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rq import Worker
from rq.registry import StartedJobRegistry

from devtools.embedded_redis import free_port
from service import contacts as contact_rules, queues
from service.store import apitokens, keys, messages
from tests.conftest import make_app, make_env, svc_of
from tests.system.test_processes import _wait_for
from workers import broadcast

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow

WORKER = [str(BIN / "rq"), "worker", "-c", "workers.rq_settings", "-w", "workers.worker.Worker"]
CLOCK = [str(BIN / "rq"), "cron", "-c", "workers.rq_settings", "workers/cron.py"]
SCHEDULER = [sys.executable, "-m", "workers.scheduler"]
EVIDENCE = {"source": "intake form, signed", "at": "2026-01-05T10:00:00-05:00"}
RECIPIENTS = 300
NUMBERS = [f"+1617555{1000 + i}" for i in range(RECIPIENTS)]  # Boston; not the simulator's 555-01xx


@pytest.fixture
def env(redis_url, redis, fake):
    return make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                    SEND_RATE_PER_SECOND="25", SEND_HOURS="Mon-Sun 00:00-24:00")


class Processes:
    """The processes this test starts (each its own process group), stopped however the test ends."""

    def __init__(self, env: dict):
        self.env = {**os.environ, **env}
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@pytest.fixture
def processes(env):
    procs = Processes(env)
    try:
        yield procs
    finally:
        procs.stop()


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


class Center:
    """The center's side: contacts written in-process (the same rules as the API), the console's API over
    HTTP."""

    def __init__(self, env: dict, redis, procs: Processes):
        self.app = make_app(env)
        self.svc, self.redis = svc_of(self.app), redis
        for number in NUMBERS:
            change = contact_rules.change_from({"groups": ["patients"], "consent": EVIDENCE},
                                               self.svc.flows().program.fields, self.svc.flows().program.languages)
            contact_rules.apply(self.svc, number, change, time.time())
        self.token, _ = apitokens.create(redis, "ehr", "tests", time.time())
        port = free_port()
        procs.start([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
                     'service:create_app(surface="console")'])
        self.base = f"http://127.0.0.1:{port}"
        _wait_for(self.base + "/healthz", timeout=30)

    def call(self, method: str, path: str, body=None) -> requests.Response:
        return requests.request(method, self.base + "/api/v1" + path, json=body, timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"})

    def broadcast(self) -> str:
        response = self.call("POST", "/broadcasts", {"text": {"en": "Free naloxone this Saturday, 10-2."},
                                                     "group": "patients"})
        assert response.status_code == 201, response.text
        assert response.json()["recipients"] == RECIPIENTS
        return response.json()["id"]

    def view(self, bid: str) -> dict:
        response = self.call("GET", f"/broadcasts/{bid}")
        assert response.status_code == 200, response.text
        return response.json()

    def pk(self, number: str) -> str:
        return self.svc.vault.person_key(number)


def workers_up(redis, count: int) -> bool:
    return len(Worker.all(connection=redis)) >= count


def test_a_worker_killed_mid_broadcast_sends_nothing_twice_and_the_broadcast_finishes(env, processes, fake, redis):
    center = Center(env, redis, processes)
    # the recipient a third of the way through the queue (sent in person-key order): Twilio receives their
    # request and holds it, so the worker sending it is killed after its claim, mid-call
    order = sorted(NUMBERS, key=center.pk)
    held = order[RECIPIENTS // 3]
    fake.hang.add(held)
    workers = [processes.start(WORKER) for _ in range(2)]
    assert wait_until(lambda: workers_up(redis, 2), 30)
    processes.start(SCHEDULER)
    processes.start(CLOCK)

    bid = center.broadcast()
    assert wait_until(lambda: held in fake.in_flight, 60), len(fake.sent())
    job_id = queues.job_id(redis, "send_broadcast", f"{bid}:{center.pk(held)}")
    [sending] = [w for w in Worker.all(connection=redis) if w.get_current_job_id() == job_id]
    [victim] = [p for p in workers if p.pid == sending.pid]  # one of ours
    processes.kill(victim)
    killed_at = time.monotonic()
    mid = broadcast.message_id(bid, center.pk(held))
    assert messages.state_of(redis, mid).value == "sending"  # claimed: it may have reached Twilio
    sent_at_kill = len(fake.sent())
    assert 0 < sent_at_kill < RECIPIENTS - 50, sent_at_kill  # mid-broadcast
    processes.start(WORKER)  # the pool would start another

    # RQ finds the dead worker's job abandoned once its heartbeat has run out (90 s; looked for every 10
    # minutes by default): here only that one job's moment comes now, and RQ retries it (a retry is left)
    registry = StartedJobRegistry(queue=queues.queue(redis, queues.BULK))
    [(entry, deadline)] = [(m.decode(), s) for m, s in redis.zrange(registry.key, 0, -1, withscores=True)
                           if m.decode().startswith(job_id)]
    registry.cleanup(timestamp=deadline)

    def finished() -> bool:
        return center.view(bid)["status"] == "sent" and len(fake.sent()) >= RECIPIENTS
    assert wait_until(finished, 150), (center.view(bid), len(fake.sent()))
    time.sleep(3)  # anything still on its way arrives

    sent = collections.Counter(x.params["To"] for x in fake.sent())
    assert [n for n, count in sent.items() if count > 1] == []  # no one twice
    assert set(sent) == set(NUMBERS)  # everyone once (the held request reached Twilio before the kill)
    assert collections.Counter(fake.in_flight)[held] == 1  # the killed send was never made again
    final = center.view(bid)
    assert final["status"] == "sent" and final["recipients"] == RECIPIENTS and final["queued"] == 0
    assert final["sent"] == RECIPIENTS - 1  # all but the killed one, whose outcome is unknown
    assert messages.state_of(redis, mid).value == "unknown"
    assert redis.hget(keys.of(redis).broadcast(bid), "out:unknown") == b"1"
    assert time.monotonic() - killed_at >= 30  # never marked before its claim was 30 s old


def test_after_cancel_returns_nothing_new_reaches_twilio(env, processes, fake, redis):
    center = Center(env, redis, processes)
    for _ in range(2):
        processes.start(WORKER)
    assert wait_until(lambda: workers_up(redis, 2), 30)
    processes.start(SCHEDULER)
    processes.start(CLOCK)

    bid = center.broadcast()
    assert wait_until(lambda: len(fake.sent()) >= 40, 60), len(fake.sent())
    response = center.call("POST", f"/broadcasts/{bid}/cancel")
    returned = time.monotonic()
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    at_cancel = len(fake.received)
    assert at_cancel < RECIPIENTS - 50  # mid-broadcast

    time.sleep(2)
    after_2s = len(fake.received)
    late = [x for x in fake.received if x.at > returned]
    assert len(late) <= 2, [x.at - returned for x in late]  # at most a send each worker had claimed already
    assert all(x.at <= returned + 0.5 for x in late)
    time.sleep(4)
    assert len(fake.received) == after_2s  # and nothing more, ever
    assert wait_until(lambda: center.view(bid)["queued"] == 0, 20), center.view(bid)
    final = center.view(bid)
    assert final["status"] == "canceled" and final["sent"] == len(fake.sent()) == after_2s
    counts = {k.decode(): int(v) for k, v in redis.hgetall(keys.of(redis).broadcast(bid)).items()
              if k.decode().startswith("out:") or k.decode() == "canceled"}
    assert sum(counts.values()) == RECIPIENTS  # every recipient accounted for: sent, skipped, or dropped
    assert len(fake.received) == after_2s
