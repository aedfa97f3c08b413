"""Two programs through real processes: one `web` gunicorn serving both (each text routed by its To), one
console gunicorn serving both (staff choose at sign-in, API tokens route to their program), and one
program's worker pool, clock and scheduler (PROGRAM=harbor), each program on a Redis server of its own. Harbor's reminder leaves from Harbor's number, and nothing of Harbor's reaches Brook's Redis."""
import os
import subprocess
import sys
import time
from datetime import datetime

import pytest
import requests
from redis import Redis

from devtools.embedded_redis import EmbeddedRedis, free_port
from service.store import apitokens, keys
from twilio.request_validator import RequestValidator

from tests.conftest import AUTH_TOKEN, NY, make_env
from tests.sms.test_programs import A_NUMBER, B_NUMBER, _program, kept
from tests.system.test_journey_processes import EVIDENCE, LEAD, SOON
from tests.system.test_processes import BIN, ROOT, _wait_for, stop_groups

pytestmark = pytest.mark.slow
NUMBER = "+16175550123"


@pytest.fixture
def harbor_redis(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis-harbor").start()
    yield server.url
    server.stop()


@pytest.fixture
def env(redis_url, redis, harbor_redis, fake, tmp_path):
    root = tmp_path / "flows"
    _program(root / "brook", "Roaring Brook Recovery", [A_NUMBER])
    _program(root / "harbor", "Harbor Light Center", [B_NUMBER])
    (root / "harbor" / "soon.yaml").write_text(SOON)
    return make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18005550000",
                    SEND_RATE_PER_SECOND="50", SEND_HOURS="Mon-Sun 00:00-24:00", FLOWS_DIR=str(root),
                    REDIS_URL_BROOK=redis_url, REDIS_URL_HARBOR=harbor_redis)


@pytest.fixture
def processes(env):
    web, console = free_port(), free_port()
    full = {**os.environ, **env}
    harbor = {**full, "PROGRAM": "harbor"}
    commands = [
        ([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{web}", "--workers", "1", 'service:create_app(surface="twilio")'],
         {**full, "PUBLIC_BASE_URL": f"http://127.0.0.1:{web}"}),
        ([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{console}", "--workers", "1",
          'service:create_app(surface="console")'], full),  # no PROGRAM: staff choose at sign-in, tokens route
        ([str(BIN / "rq"), "worker-pool", "-c", "workers.rq_settings", "-w", "workers.worker.Worker", "-n", "1"], harbor),
        ([str(BIN / "rq"), "cron", "-c", "workers.rq_settings", "workers/cron.py"], harbor),
        ([sys.executable, "-m", "workers.scheduler"], harbor),
    ]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) for cmd, e in commands]
    try:
        _wait_for(f"http://127.0.0.1:{web}/healthz", timeout=30)
        _wait_for(f"http://127.0.0.1:{console}/healthz", timeout=30)
        yield f"http://127.0.0.1:{web}", f"http://127.0.0.1:{console}"
    finally:
        stop_groups(procs)


def test_each_program_answers_from_its_own_redis_and_its_worker_texts_from_its_own_number(
        processes, fake, redis, harbor_redis):
    web, console = processes
    harbor = Redis.from_url(harbor_redis, client_name=keys.client_name("harbor"))  # as the service names it
    params = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": NUMBER, "To": B_NUMBER,
              "Body": "HELP", "NumMedia": "0"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(web + "/twilio/sms", params)
    answer = requests.post(web + "/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert answer.status_code == 200 and "Harbor Light Center" in answer.text
    assert kept(redis) == 0 and kept(harbor) > 0

    token, _ = apitokens.create(harbor, "ehr", "tests", time.time())
    appointment = int(time.time()) + LEAD + 4
    value = datetime.fromtimestamp(appointment, NY).isoformat(timespec="seconds")
    other = "+16175550124"
    put = requests.put(f"{console}/api/v1/contacts/{other}", json={"fields": {"appointment_at": value},
                                                                    "consent": EVIDENCE},
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert put.status_code == 201, put.text  # the console serves both programs: the token names Harbor Light
    login = requests.get(f"{console}/staff/login", timeout=10).text
    assert 'value="brook">Roaring Brook Recovery<' in login and 'value="harbor">Harbor Light Center<' in login
    deadline = time.time() + LEAD + 40
    while time.time() < deadline and not [r for r in fake.sent() if r.params["To"] == other]:
        time.sleep(0.2)
    [sent] = [r for r in fake.sent() if r.params["To"] == other]
    assert sent.params["From"] == B_NUMBER and sent.params["Body"].startswith("Harbor Light Center: your visit is")
    assert kept(redis) == 0  # nothing of Harbor's in Brook's Redis, the queues included
