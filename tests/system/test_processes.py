"""Real processes: RQ workers, the rq cron clock, gunicorn and `make run`'s launcher."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from service import create_app, queues
from service.store import followups, keys
from devtools.embedded_redis import free_port
from tests.conftest import BASE_URL, Phone, make_env, new_sid, sign, svc_of, timeout_due_now

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


@pytest.fixture
def env(redis_url, redis, fake):
    return make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                    STAFF_ALERT_NUMBERS="+16175550100", SEND_RATE_PER_SECOND="50",
                    SEND_HOURS="Mon-Sun 00:00-24:00")


def run_worker(env, *lanes, timeout=60):
    cmd = [str(BIN / "rq"), "worker", "--burst", "--with-scheduler", "--url", env["REDIS_URL"],
           "--worker-class", "workers.worker.Worker",
           *(queues.named("", lane) for lane in (lanes or (queues.SCHEDULE, queues.ALERTS, queues.REPLIES, queues.FOLLOWUPS)))]
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, timeout=timeout, capture_output=True, text=True)


def test_worker_process_sends_staff_alert_and_followup(env, fake, redis):
    app = create_app(env)
    phone = Phone(app.test_client())
    phone.text("CALL")
    phone.text("SIGNS")
    timeout_due_now(redis, svc_of(app).vault.person_key(phone.number), time.time() - 1)  # SIGNS' question times out
    queues.queue(redis, queues.SCHEDULE).enqueue("workers.jobs.dispatch_due")
    result = run_worker(env)
    assert result.returncode == 0, result.stderr[-2000:]
    bodies = {r.params["To"]: r.params["Body"] for r in fake.sent()}
    assert "call back" in bodies["+16175550100"]
    assert "Is this about you or someone you care about" in bodies[phone.number]  # the nudge: no answer in a day
    assert len(fake.sent()) == 2


def test_cron_clock_drains_due_followups(env, fake, redis):
    app = create_app(env)
    phone = Phone(app.test_client())
    phone.text("TREATMENT")
    for fid in followups.pending_of(redis, svc_of(app).vault.person_key(phone.number)):
        redis.zadd(keys.of(redis).FOLLOWUPS_DUE, {fid: time.time() - 1})
    clock = subprocess.Popen([str(BIN / "rq"), "cron", "--url", env["REDIS_URL"], "workers/cron.py"], cwd=ROOT,
                             env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not queues.queue(redis, queues.SCHEDULE).count and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        clock.terminate()
        clock.wait(10)
    result = run_worker(env)  # runs the clock's ticks, then the send jobs they enqueued
    assert result.returncode == 0, result.stderr[-2000:]
    assert redis.zcard(keys.of(redis).FOLLOWUPS_DUE) == 0
    # the weekly cap and the horizon allow both treatment follow-ups today
    assert len([r for r in fake.sent() if r.params["To"] == phone.number]) == 2


def test_gunicorn_serves_the_signed_webhook(env):
    port = free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                             "service:create_app()"], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz")
        params = {"MessageSid": new_sid(), "From": "+16175550123", "Body": "signs"}
        response = requests.post(base + "/twilio/sms", data=params,
                                 headers={"X-Twilio-Signature": sign("/twilio/sms", params)}, timeout=5)
        assert response.status_code == 200 and "constricted" in response.text
        assert requests.post(base + "/twilio/sms", data=params, timeout=5).status_code == 403
    finally:
        proc.terminate()
        proc.wait(10)


def test_make_run_launcher_starts_and_stops_everything(tmp_path):
    port, console = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(PORT=str(port), CONSOLE_PORT=str(console), WORKER_PROCESSES="1", WEB_CONCURRENCY="1",
               CONSOLE_CONCURRENCY="1", PUBLIC_BASE_URL=BASE_URL)
    proc = subprocess.Popen([sys.executable, "-m", "devtools.run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", timeout=30)
        _wait_for(f"http://127.0.0.1:{console}/staff/login", timeout=30)  # the console, in its own process
        assert requests.get(f"http://127.0.0.1:{port}/staff/login", timeout=5).status_code == 404
        run_env = dict(line.split("=", 1) for line in (ROOT / "var" / "run.env").read_text().splitlines())
        created = subprocess.run([str(BIN / "flask"), "staff", "create", "dev@center.org", "--role", "admin"],
                                 cwd=ROOT, env={**env, **run_env}, input="a long dev password\n" * 2,
                                 capture_output=True, text=True, timeout=30)
        assert "created dev@center.org (admin)" in created.stdout, created.stderr[-1000:]
        time.sleep(2.5)  # the "Ready." banner follows both processes' first answer by a second
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    assert "web" in output and "worker" in output and "clock" in output
    assert "sign in as admin@localhost" in output and f"http://localhost:{console}/staff/" in output
    assert "Ready." in output and (ROOT / "var" / "dev-login.txt").stat().st_mode & 0o777 == 0o600
    assert _no_process_left("redis-server", str(ROOT / "var" / "redis"))


def _no_process_left(name: str, marker: str) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return not any(name in line and marker in line for line in out.splitlines())


def stop_groups(procs, wait: float = 10) -> None:
    """Stop processes these tests started, their whole process groups: politely, then for sure."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(wait)


def _wait_for(url: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:  # refused, or accepted while the worker still boots
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up in {timeout}s")


def test_global_rate_cap_holds_across_worker_processes(env, fake, redis):
    from service.store import messages as outbound
    from service.store.messages import Kind
    env = {**env, "SEND_RATE_PER_SECOND": "10"}
    app = create_app(env)
    vault = svc_of(app).vault
    queue = queues.queue(redis, queues.ALERTS)
    pipe = redis.pipeline()
    for i in range(35):
        outbound.create(pipe, vault, f"rate{i}", f"+1617555{i:04d}", "rate test", Kind.ALERT, "", 0)
    pipe.execute()
    for i in range(35):
        queue.enqueue("workers.jobs.send_message", f"rate{i}", job_id=f"msg-rate{i}")
    workers = [subprocess.Popen(
        [str(BIN / "rq"), "worker", "--burst", "--url", env["REDIS_URL"], "--worker-class", "rq.worker.SimpleWorker",
         queues.named("", queues.ALERTS)], cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(3)]
    for w in workers:
        w.wait(timeout=60)
    arrivals = sorted(r.at for r in fake.sent())
    assert len(arrivals) == 35
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert busiest <= 10, busiest


def test_transient_twilio_error_is_retried_by_rq(env, fake, redis):
    from service.store import messages as outbound
    from service.store.messages import Kind
    from service.queues import RETRY
    app = create_app(env)
    pipe = redis.pipeline()
    outbound.create(pipe, svc_of(app).vault, "retry1", "+16175550199", "hi", Kind.ALERT, "", 0)
    pipe.execute()
    fake.fail("+16175550199", 503)
    job = queues.queue(redis, queues.ALERTS).enqueue("workers.jobs.send_message", "retry1", job_id="msg-retry1",
                                                      retry=RETRY)
    run_worker(env, "alerts")
    job.refresh()
    assert job.get_status() == "scheduled" and fake.sent() == []  # failed once, waiting for its retry
    scheduler = subprocess.Popen([sys.executable, "-m", "workers.scheduler"], cwd=ROOT, env={**os.environ, **env},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # its own process
    try:
        deadline = time.monotonic() + RETRY.intervals[0] + 10
        while queues.queue(redis, queues.ALERTS).count == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        scheduler.terminate()
        scheduler.wait(10)
    run_worker(env, "alerts")  # the scheduler re-enqueued it; this time Twilio answers 201
    assert len(fake.sent()) == 1
    assert outbound.load(redis, svc_of(app).vault, "retry1")["state"] == "sent"


def test_readyz_turns_ready_with_a_worker_and_the_clock(env, redis):
    app = create_app(env)
    client = app.test_client()
    full_env = {**os.environ, **env}
    procs = [subprocess.Popen([str(BIN / "rq"), "worker", "--url", env["REDIS_URL"], "--with-scheduler",
                               "--worker-class", "rq.worker.SimpleWorker", queues.named("", queues.SCHEDULE)], cwd=ROOT, env=full_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen([str(BIN / "rq"), "cron", "--url", env["REDIS_URL"], "workers/cron.py"], cwd=ROOT,
                              env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 20
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert client.get("/readyz").json == {"ready": True, "checks": {"redis": True, "worker": True, "clock": True,
                                                                       "keys": True}}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


def test_a_starting_worker_checks_the_twilio_account_first(env, fake):
    assert run_worker(env, "alerts").returncode == 0
    assert fake.account_fetches == 1 and fake.received == []


def test_a_worker_with_a_broken_configuration_fails_at_start_not_at_its_first_text(env):
    broken = {**env, "APP_ENV": "production", "SECRET_KEY": ""}
    result = run_worker(broken, "alerts", timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_conversation_branch_walks_through_the_workers_to_twilio(env, fake, redis):
    """SIGNS asks; no answer: its timeout step goes out through the clock and a worker; the person
    answers ME: the branch answers at once, and its next step (a day later) goes out the same way."""
    app = create_app(env)
    phone = Phone(app.test_client())
    pk = svc_of(app).vault.person_key(phone.number)
    first = phone.text("SIGNS")
    assert "Reply ME or OTHER" in first.get_data(as_text=True)
    full_env = {**os.environ, **env}
    procs = [subprocess.Popen([str(BIN / "rq"), "worker-pool", "-c", "workers.rq_settings", "-w",
                               "workers.worker.Worker", "-n", "2"],  # its program's queues, as in the Procfile
                              cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True),
             subprocess.Popen([str(BIN / "rq"), "cron", "-c", "workers.rq_settings", "workers/cron.py"], cwd=ROOT,
                              env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]

    def due_now_and_wait(step: str, needle: str) -> None:
        if step == "nudge":  # the question's timeout
            timeout_due_now(redis, pk, time.time() - 1)
        else:
            [fid] = [f for f in followups.pending_of(redis, pk) if f.split(":")[2] == step]
            redis.zadd(keys.of(redis).FOLLOWUPS_DUE, {fid: time.time() - 1})  # as if the wait were over
        deadline = time.monotonic() + 30
        while not any(needle in r.params["Body"] for r in fake.sent()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert any(needle in r.params["Body"] for r in fake.sent()), [r.params["Body"] for r in fake.sent()]
    try:
        due_now_and_wait("nudge", "Thinking of you after yesterday")  # the timeout: no answer in a day
        assert "Reply TREATMENT to learn more" in phone.text("me").get_data(as_text=True)  # still waiting: answered
        due_now_and_wait("self_checkin", "Questions about detox, medication or therapy?")  # next, after 1d
        assert all(r.params["To"] == phone.number for r in fake.sent())
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_a_spanish_follow_up_goes_through_a_worker_process_to_twilio(env, fake, redis):
    """SEÑALES: the person's language is Spanish; their question's timeout goes out in Spanish, through a
    real worker process and Twilio's own client, to the fake Twilio."""
    app = create_app(env)
    phone = Phone(app.test_client(), "+16175550133")
    assert "¿Es sobre usted" in phone.text("SEÑALES").get_data(as_text=True)
    timeout_due_now(redis, svc_of(app).vault.person_key(phone.number), time.time() - 1)
    queues.queue(redis, queues.SCHEDULE).enqueue("workers.jobs.dispatch_due")
    result = run_worker(env)
    assert result.returncode == 0, result.stderr[-2000:]
    [sent] = [r.params for r in fake.sent()]
    assert sent["To"] == phone.number
    assert sent["Body"].startswith("Pensamos en usted despues de ayer") and "Responda PARAR" in sent["Body"]
    assert not set("áíóú") & set(sent["Body"])  # plain Spanish: GSM-7
