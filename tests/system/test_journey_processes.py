"""A journey through real processes: the console (gunicorn) takes `PUT /api/v1/contacts/{number}`, the rq
cron clock ticks due events into RQ, the RQ worker pool sends them through Twilio's own client to the fake
Twilio, RQ's scheduler runs beside them. These processes read the real clock, so the appointment is set
relative to now: a journey added for the test (FLOWS_DIR: a copy of the definitions with one more
document) texts 1 minute before it, and SEND_HOURS keeps the window always open."""
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime

import pytest
import requests

from devtools.embedded_redis import free_port
from flows.loader import DEFINITIONS
from service.store import apitokens, journeys, keys, messages
from service.store.journeys import EventId
from tests.conftest import NY, make_app, make_env, svc_of
from tests.system.test_processes import BIN, ROOT, _wait_for, stop_groups
from workers.journey import message_id

pytestmark = pytest.mark.slow

NUMBER = "+16175550123"
LEAD = 60  # the journey's offset: -1m
SOON = """\
journey: soon
version: 1
field: appointment_at
events:
  - offset: -1m
    text: "{program}: your visit is {appointment_at}. Reply STOP to opt out."
"""
DISCLOSURE = "Roaring Brook Recovery texts. Msg&data rates may apply. Reply HELP for help, STOP to cancel."
EVIDENCE = {"source": "intake form, signed", "at": "2026-01-05T10:00:00-05:00"}


@pytest.fixture
def env(redis_url, redis, fake, tmp_path):
    flows = tmp_path / "flows"
    shutil.copytree(DEFINITIONS, flows)
    (flows / "soon.yaml").write_text(SOON)
    return make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                    SEND_RATE_PER_SECOND="50", SEND_HOURS="Mon-Sun 00:00-24:00", FLOWS_DIR=str(flows))


@pytest.fixture
def processes(env):
    """The console, the worker pool, the clock and the scheduler, as the Procfile runs them; stopped
    (their whole process groups, which these tests started) however the test ends."""
    port = free_port()
    full_env = {**os.environ, **env}
    commands = [
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", 'service:create_app(surface="console")'],
        [str(BIN / "rq"), "worker-pool", "-c", "workers.rq_settings", "-w", "workers.worker.Worker", "-n", "2"],
        [str(BIN / "rq"), "cron", "-c", "workers.rq_settings", "workers/cron.py"],
        [sys.executable, "-m", "workers.scheduler"],
    ]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) for cmd in commands]
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz", timeout=30)
        yield base
    finally:
        stop_groups(procs)


def put(base: str, token: str, appointment: float):
    value = datetime.fromtimestamp(appointment, NY).isoformat(timespec="seconds")
    return requests.put(f"{base}/api/v1/contacts/{NUMBER}", json={"fields": {"appointment_at": value},
                                                                   "consent": EVIDENCE},
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)


def texts_to(fake, number: str):
    return [r for r in fake.sent() if r.params["To"] == number]


def wait_for_texts(fake, number: str, count: int, until: float) -> list:
    while time.time() < until and len(texts_to(fake, number)) < count:
        time.sleep(0.1)
    return texts_to(fake, number)


def test_a_put_through_the_console_becomes_the_reminder_at_twilio_on_time(env, processes, fake, redis):
    token, _ = apitokens.create(redis, "ehr", "tests", time.time())
    appointment = int(time.time()) + LEAD + 5  # the text falls due about 5 s from now
    response = put(processes, token, appointment)
    assert response.status_code == 201, response.text
    vault = svc_of(make_app(env)).vault
    [eid] = journeys.planned_of(redis, vault.person_key(NUMBER))
    event = EventId.parse(eid)
    assert (event.journey, event.event, event.stamp) == ("soon", 0, appointment)
    due = appointment - LEAD
    assert redis.zscore(keys.of(redis).JOURNEYS_DUE, eid) == due  # the window is always open: no jitter

    [sent] = wait_for_texts(fake, NUMBER, 1, due + 30)
    assert sent.wall >= due - 0.5, (sent.wall, due)  # never before it is due...
    assert sent.wall <= due + 20, (sent.wall, due)  # ...and soon after (the clock ticks every second)
    said = datetime.fromtimestamp(appointment, NY)
    clock = said.strftime("%I:%M %p").lstrip("0")
    assert sent.params["Body"] == (f"Roaring Brook Recovery: your visit is {said.strftime('%A, %B')} {said.day} at "
                                   f"{clock}. Reply STOP to opt out.\n\n{DISCLOSURE}")
    assert sent.params["From"] == "+18555909944"
    deadline = time.time() + 10
    while messages.load(redis, vault, message_id(eid))["state"] != "sent" and time.time() < deadline:
        time.sleep(0.1)
    record = messages.load(redis, vault, message_id(eid))
    assert record["state"] == "sent" and record["provider_sid"] == sent.sid
    assert journeys.planned_of(redis, vault.person_key(NUMBER)) == () and redis.zcard(keys.of(redis).JOURNEYS_DUE) == 0
    time.sleep(2)
    assert len(texts_to(fake, NUMBER)) == 1  # once


def test_a_date_moved_before_its_text_went_is_only_texted_for_the_new_date(env, processes, fake, redis):
    token, _ = apitokens.create(redis, "ehr", "tests", time.time())
    first = int(time.time()) + LEAD + 6
    assert put(processes, token, first).status_code == 201
    pk = svc_of(make_app(env)).vault.person_key(NUMBER)
    [old] = journeys.planned_of(redis, pk)
    moved = first + 4  # moved by 4 s: the new date's text is due 4 s after the old one would have been
    assert put(processes, token, moved).status_code == 200
    [new] = journeys.planned_of(redis, pk)
    assert EventId.parse(new).stamp == moved and new != old
    assert redis.zscore(keys.of(redis).JOURNEYS_DUE, old) is None

    [sent] = wait_for_texts(fake, NUMBER, 1, moved - LEAD + 30)
    assert sent.wall >= moved - LEAD - 0.5
    time.sleep(3)  # nothing else comes
    assert len(texts_to(fake, NUMBER)) == 1
    assert redis.exists(keys.of(redis).message(message_id(new))) and not redis.exists(keys.of(redis).message(message_id(old)))

