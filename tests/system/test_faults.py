"""Faults with real processes: a worker killed mid-send, Redis killed and restarted from its AOF."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq.registry import FailedJobRegistry, StartedJobRegistry

from service import create_app, queues
from service.store import callbacks as cbstore, followups, keys, messages as outbound, people
from service.store.messages import Kind
from devtools.embedded_redis import EmbeddedRedis
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, Phone, make_app, make_env, svc_of, timeout_due_now
from tests.fakes.twilio_api import FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


WORKERS = [str(BIN / "rq"), "worker-pool", "-c", "workers.rq_settings", "-w", "workers.worker.Worker", "-n", "1"]  # as in the Procfile
CLOCK = [str(BIN / "rq"), "cron", "-c", "workers.rq_settings", "workers/cron.py"]


def test_after_a_worker_is_killed_the_next_crisis_alert_and_followup_go_out_at_once(redis_url, redis, fake):
    """rq worker --with-scheduler forked a scheduler that kept a SIGKILLed worker's Redis sockets open, so
    Redis handed the next job to a pop nobody read (a crisis alert arrived 119.5 s late). The pool's
    workers fork nothing and the pool starts a new worker at once; a job popped in the very instant of
    the kill (the socket not closed yet) is found by the job sweeper within seconds."""
    env = make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                   STAFF_ALERT_NUMBERS="+16175550100", SEND_HOURS="Mon-Sun 00:00-24:00", SEND_RATE_PER_SECOND="50")
    full_env, procs = {**os.environ, **env}, []

    def start(cmd):
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))
    try:
        from rq import Worker
        start(WORKERS)
        assert wait_until(lambda: len(Worker.all(connection=redis)) == 1, 30)
        app = create_app(env)  # the real clock, as the processes have
        parent = Phone(app.test_client(), "+16175550171")
        parent.text("SIGNS")
        os.kill(Worker.all(connection=redis)[0].pid, signal.SIGKILL)
        started = time.monotonic()
        Phone(app.test_client(), "+16175550172").text("my son overdosed and he is not breathing")  # the next job
        timeout_due_now(redis, svc_of(app).vault.person_key(parent.number), time.time())  # and a timeout falls due
        start(CLOCK)
        assert wait_until(lambda: {r.params["To"] for r in fake.sent()} >= {"+16175550100", parent.number}, 10), \
            [r.params["To"] for r in fake.sent()]
        assert time.monotonic() - started < 10
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_worker_killed_mid_send_never_sends_twice(redis_url, redis):
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    try:
        env = make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                       SEND_RATE_PER_SECOND="10")
        vault = svc_of(make_app(env)).vault
        pipe = redis.pipeline()
        outbound.create(pipe, vault, "kill1", "+16175550177", "hello", Kind.ALERT, "", 0)
        pipe.execute()
        fake.hang.add("+16175550177")  # Twilio receives the request and is slow to answer
        queue = queues.queue(redis, queues.ALERTS)
        job = queue.enqueue("workers.jobs.send_message", "kill1", job_id="msg-kill1")
        worker = subprocess.Popen([str(BIN / "rq"), "worker", "--url", redis_url, "--worker-class",
                                   "rq.worker.SimpleWorker", queues.named("", queues.ALERTS)], cwd=ROOT, env={**os.environ, **env},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(lambda: fake.in_flight == ["+16175550177"])
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert job.id in StartedJobRegistry(queue=queue).get_job_ids()
        StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 10_000)  # its heartbeat has run out
        assert job.id in FailedJobRegistry(queue=queue).get_job_ids()  # visible to ops as failed
        fake.hang.clear()
        FailedJobRegistry(queue=queue).requeue(job.id)  # what an operator's "requeue" does
        subprocess.run([str(BIN / "rq"), "worker", "--burst", "--url", redis_url, "--worker-class",
                        "rq.worker.SimpleWorker", queues.named("", queues.ALERTS)], cwd=ROOT, env={**os.environ, **env}, timeout=60,
                       capture_output=True)
        assert fake.in_flight == ["+16175550177"]  # the retry did not call Twilio again
        assert outbound.load(redis, vault, "kill1")["state"] == "sending"  # "may have gone out": never resent
    finally:
        fake.stop()


def test_redis_killed_and_restarted_keeps_consent_callbacks_and_followups(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        app = make_app(make_env(server.url))
        vault = svc_of(app).vault
        stopper, caller = Phone(app.test_client(), "+16175550111"), Phone(app.test_client(), "+16175550112")
        stopper.text("STOP")
        caller.text("CALL")
        caller.text("TREATMENT")
        time.sleep(1.5)  # appendfsync everysec: at most one second of writes is at risk
        server.kill()
        server.start()
        r = Redis.from_url(server.url)
        assert people.consent_of(r, vault.person_key(stopper.number)).value == "opted_out"
        assert people.consent_history(r, vault.person_key(stopper.number))[0]["keyword"] == "STOP"
        assert r.zcard(keys.of(r).CALLBACKS_WAITING) == 1
        assert len(followups.pending_of(r, vault.person_key(caller.number))) == 2 and r.zcard(keys.of(r).FOLLOWUPS_DUE) == 2
        fresh = make_app(make_env(server.url, DATA_ENCRYPTION_KEY=svc_of(app)
                                    .config.data_encryption_key.reveal()))
        [cb] = cbstore.waiting(r, svc_of(fresh).vault)
        assert cb.phone == caller.number  # still decryptable after the crash
    finally:
        server.stop()
