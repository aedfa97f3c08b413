"""/api/v1/broadcasts through Flask's test client: POST (201, the answer's exact shape), GET (the funnel's
exact shape), cancel, resend-failed; a bearer token on every call; refusals are JSON naming the field
(422, as every API refusal here: README "The API"), 404 for an unknown id, 401 without a valid token,
never a 500. The sends themselves are tests/workers/test_broadcasts.py's; here the workers' part is
played by workers.broadcast against the fake Twilio where a funnel needs outcomes."""
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service.store import accounts, apitokens, keys
from tests.conftest import ACCOUNT_SID, NOON, make_env, post_signed, svc_of
from workers import broadcast
from workers.runtime import make_runtime

EVIDENCE = {"source": "intake form", "at": "2026-11-20T10:00:00-05:00"}
CREATED = {"id", "status", "recipients", "queued", "sent", "delivered", "undelivered", "failed", "held", "send_at"}
HELD = {"opted_out": 0, "no_consent": 0, "held_by_staff": 0, "weekly_cap": 0, "channel_window": 0}
TEXT = {"en": "Free naloxone Saturday, 10-2.", "es": "Naloxona gratis el sabado, de 10 a 2."}
NUMBERS = ("+16175550131", "+16175550132", "+16175550133")


@pytest.fixture
def env(redis_url, redis, fake):
    return make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944")


@pytest.fixture
def token(app):
    made, _ = apitokens.create(svc_of(app).redis, "EHR", "test", NOON)
    return made


class Api:
    def __init__(self, client, token):
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def create(self, body=None, **kw):
        if "data" not in kw and "json" not in kw:
            kw["json"] = body
        return self.client.post("/api/v1/broadcasts", headers=self.headers, **kw)

    def get(self, bid):
        return self.client.get(f"/api/v1/broadcasts/{bid}", headers=self.headers)

    def cancel(self, bid):
        return self.client.post(f"/api/v1/broadcasts/{bid}/cancel", headers=self.headers)

    def resend(self, bid):
        return self.client.post(f"/api/v1/broadcasts/{bid}/resend-failed", headers=self.headers)

    def contact(self, number, **body):
        response = self.client.put(f"/api/v1/contacts/{number}", json=body, headers=self.headers)
        assert response.status_code in (200, 201), response.json
        return response


@pytest.fixture
def api(client, token):
    return Api(client, token)


@pytest.fixture
def clinic(api):
    """Three contacts in the group `clinic`: two with consent, one without."""
    api.contact(NUMBERS[0], groups=["clinic"], consent=EVIDENCE)
    api.contact(NUMBERS[1], groups=["clinic"], consent=EVIDENCE, language="es")
    api.contact(NUMBERS[2], groups=["clinic"])
    return NUMBERS


def run_workers(app, rounds: int = 2) -> None:
    """The clock's tick and the send jobs it queued, in-process."""
    from rq import Queue
    from service import queues
    rt = make_runtime(svc_of(app))
    for _ in range(rounds):
        broadcast.dispatch(rt)
        queue = queues.queue(rt.svc.redis, queues.BULK)
        for job in queue.jobs:
            queue.remove(job.id)
            broadcast.send(rt, job.args[0])
            job.delete()
    broadcast.dispatch(rt)


# -- status codes and shapes ---------------------------------------------------------------------------

def test_post_is_201_with_the_plan_and_get_reads_the_same(api, clinic, redis):
    created = api.create({"text": TEXT, "group": "clinic"})
    assert created.status_code == 201 and created.is_json
    body = created.json
    assert set(body) == CREATED
    assert body["id"].startswith("b") and body["status"] == "sending"
    assert body["recipients"] == 2 and body["queued"] == 2
    assert body["held"] == {**HELD, "no_consent": 1}
    assert (body["sent"], body["delivered"], body["undelivered"], body["failed"]) == (0, 0, 0, {})
    assert body["send_at"] == "2026-11-25T12:00:00-05:00"
    got = api.get(body["id"])
    assert got.status_code == 200 and got.json == body
    assert redis.sismember(keys.of(redis).BROADCASTS_ACTIVE, body["id"])


def test_a_scheduled_broadcast_with_an_expiry(api, clinic):
    created = api.create({"text": {"en": "Hi."}, "group": "clinic", "send_at": "2026-11-26T10:00:00-05:00",
                          "expires_at": "2026-11-26T18:00:00-05:00"})
    assert created.status_code == 201
    assert set(created.json) == CREATED | {"expires_at"}
    assert created.json["status"] == "scheduled"
    assert created.json["send_at"] == "2026-11-26T10:00:00-05:00"
    assert created.json["expires_at"] == "2026-11-26T18:00:00-05:00"
    utc = api.create({"text": {"en": "Hi."}, "all": True, "send_at": "2026-11-26T15:00:00Z"})
    assert utc.status_code == 201 and utc.json["send_at"] == "2026-11-26T10:00:00-05:00"  # the center's zone


def test_all_is_everyone_with_consent(api, clinic):
    api.contact("+16175550134", consent=EVIDENCE)  # in no group
    created = api.create({"text": "One text for everyone.", "all": True})  # a string: the default language's
    assert created.status_code == 201
    assert created.json["recipients"] == 3 and created.json["held"] == {**HELD, "no_consent": 1}


def test_the_funnel_as_get_reports_it(app, api, clinic, fake, client):
    fake.fail(NUMBERS[0], 400, 21611)
    api.contact("+16175550135", groups=["clinic"], consent=EVIDENCE)
    api.contact("+16175550136", groups=["clinic"], consent=EVIDENCE)
    bid = api.create({"text": TEXT, "group": "clinic"}).json["id"]
    run_workers(app)
    sids = {x.params["To"]: x.sid for x in fake.sent()}
    for to, status, code in ((NUMBERS[1], "delivered", None), ("+16175550135", "undelivered", "30003"),
                             ("+16175550136", "failed", "30007")):
        params = {"MessageSid": sids[to], "MessageStatus": status, "AccountSid": ACCOUNT_SID,
                  **({"ErrorCode": code} if code else {})}
        assert post_signed(client, "/twilio/status", params).status_code == 204
    got = api.get(bid)
    assert got.status_code == 200
    assert got.json == {"id": bid, "status": "sent", "recipients": 4, "queued": 0, "sent": 3, "delivered": 1,
                        "undelivered": 1, "failed": {"21611": 1, "30007": 1}, "held": {**HELD, "no_consent": 1},
                        "send_at": "2026-11-25T12:00:00-05:00"}

    again = api.resend(bid)
    assert again.status_code == 201
    assert set(again.json) == CREATED | {"resend_of"}
    assert again.json["resend_of"] == bid and again.json["id"] != bid
    assert again.json["recipients"] == 3 and again.json["status"] == "sending"  # 21611, 30003, 30007
    assert api.get(again.json["id"]).json == again.json
    fake.received.clear()
    run_workers(app)
    assert sorted(x.params["To"] for x in fake.sent()) == sorted([NUMBERS[0], "+16175550135", "+16175550136"])


def test_cancel_is_200_canceled_and_nothing_more_goes(app, api, clinic, fake):
    created = api.create({"text": TEXT, "group": "clinic"}).json
    canceled = api.cancel(created["id"])
    assert canceled.status_code == 200 and set(canceled.json) == CREATED
    assert canceled.json["status"] == "canceled" and canceled.json["queued"] == 0
    assert canceled.json["recipients"] == 2
    run_workers(app)
    assert fake.received == []
    assert api.get(created["id"]).json == canceled.json
    assert api.cancel(created["id"]).status_code == 200  # again: still canceled
    assert api.cancel(created["id"]).json["status"] == "canceled"


def test_a_finished_broadcast_stays_sent_when_canceled(app, api, clinic):
    bid = api.create({"text": TEXT, "group": "clinic"}).json["id"]
    run_workers(app)
    response = api.cancel(bid)
    assert response.status_code == 200 and response.json["status"] == "sent"


@pytest.mark.parametrize("call", ["get", "cancel", "resend"])
@pytest.mark.parametrize("bid", ["bnope", "b0000000000", "x", "b1234567890%00", "%F0%9F%98%80"])
def test_an_unknown_id_is_404_json(api, call, bid):
    response = getattr(api, call)(bid)
    assert response.status_code == 404 and response.is_json
    assert response.json["error"].startswith("id: ")


def test_every_call_is_audited(api, clinic, redis):
    bid = api.create({"text": TEXT, "group": "clinic"}).json["id"]
    api.get(bid)
    api.cancel(bid)
    api.resend(bid)
    api.create({"text": TEXT})
    actions = [e["action"] for e in accounts.audit_log(redis)]
    assert actions[:5] == ["api_refused_422", "api_resend_failed", "api_cancel_broadcast", "api_get_broadcast",
                           "api_create_broadcast"]
    assert all(e["who"] == "api:EHR" for e in accounts.audit_log(redis)[:5])


# -- tokens --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer sk_nope", "Basic dXNlcjpwYXNz", "{token}",
                                    "Bearer {token}x"])
def test_without_a_valid_token_every_call_is_401(client, api, clinic, token, redis, header):
    bid = api.create({"text": TEXT, "group": "clinic"}).json["id"]
    before = redis.hgetall(keys.of(redis).broadcast(bid))
    headers = {} if header is None else {"Authorization": header.format(token=token)}
    for response in (client.post("/api/v1/broadcasts", json={"text": TEXT, "group": "clinic"}, headers=headers),
                     client.get(f"/api/v1/broadcasts/{bid}", headers=headers),
                     client.get("/api/v1/broadcasts/bnope", headers=headers),
                     client.post(f"/api/v1/broadcasts/{bid}/cancel", headers=headers),
                     client.post(f"/api/v1/broadcasts/{bid}/resend-failed", headers=headers)):
        assert response.status_code == 401 and response.is_json and "Bearer token" in response.json["error"]
    assert redis.zcard(keys.of(redis).BROADCASTS) == 1 and redis.hgetall(keys.of(redis).broadcast(bid)) == before


def test_a_revoked_token_opens_nothing(api, clinic, redis):
    [record] = apitokens.all_tokens(redis)
    apitokens.disable(redis, record.id)
    assert api.create({"text": TEXT, "group": "clinic"}).status_code == 401
    assert redis.zcard(keys.of(redis).BROADCASTS) == 0


# -- refusals: 422 naming the field, never a 500 -----------------------------------------------------------

def assert_refused(response, field: str, says: str = ""):
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.is_json and set(response.json) <= {"error", "field"}
    assert response.json["error"].startswith(f"{field}: "), response.json
    assert says in response.json["error"]
    if "field" in response.json:
        assert response.json["field"] == field


BAD = [
    pytest.param({"json": {"group": "clinic"}}, "text", "a text per language", id="missing-text"),
    pytest.param({"json": {"text": ["hi"], "group": "clinic"}}, "text", "", id="text-list"),
    pytest.param({"json": {"text": 42, "group": "clinic"}}, "text", "", id="text-number"),
    pytest.param({"json": {"text": None, "group": "clinic"}}, "text", "", id="text-null"),
    pytest.param({"json": {"text": {}, "group": "clinic"}}, "text", "", id="text-empty-object"),
    pytest.param({"json": {"text": {"fr": "Bonjour", "en": "Hi"}, "group": "clinic"}}, "text.fr",
                 "is not one of the program's languages (en, es)", id="unknown-language"),
    pytest.param({"json": {"text": {"EN": "Hi"}, "group": "clinic"}}, "text.EN", "", id="language-case"),
    pytest.param({"json": {"text": {"en": ""}, "group": "clinic"}}, "text.en", "must not be empty", id="empty-text"),
    pytest.param({"json": {"text": {"en": " \n "}, "group": "clinic"}}, "text.en", "must not be empty",
                 id="blank-text"),
    pytest.param({"json": {"text": {"en": "Hi", "es": ""}, "group": "clinic"}}, "text.es", "must not be empty",
                 id="empty-translation"),
    pytest.param({"json": {"text": {"en": None}, "group": "clinic"}}, "text.en", "", id="null-text"),
    pytest.param({"json": {"text": {"es": "Hola"}, "group": "clinic"}}, "text.en", "default language",
                 id="no-default-language"),
    pytest.param({"json": {"text": {"en": "word " * 400}, "group": "clinic"}}, "text.en", "segments",
                 id="too-long"),
    pytest.param({"json": {"text": TEXT}}, "group", "one group", id="neither-group-nor-all"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "all": True}}, "group", "", id="both"),
    pytest.param({"json": {"text": TEXT, "all": False}}, "group", "", id="all-false-alone"),
    pytest.param({"json": {"text": TEXT, "all": "true"}}, "group", "", id="all-a-string"),
    pytest.param({"json": {"text": TEXT, "group": ""}}, "group", "", id="empty-group"),
    pytest.param({"json": {"text": TEXT, "group": "nobody-here"}}, "group", "no contact", id="unknown-group"),
    pytest.param({"json": {"text": TEXT, "group": "bad name"}}, "group", "must be a group name", id="bad-group-name"),
    pytest.param({"json": {"text": TEXT, "group": ["clinic"]}}, "group", "must be a group name", id="group-list"),
    pytest.param({"json": {"text": TEXT, "group": 7}}, "group", "must be a group name", id="group-number"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "send_at": "2026-11-26T10:00:00"}}, "send_at",
                 "UTC offset", id="send-at-without-offset"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "send_at": "tomorrow at ten"}}, "send_at", "ISO 8601",
                 id="send-at-unparseable"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "send_at": 1796745600}}, "send_at", "",
                 id="send-at-epoch"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "send_at": "2026-11-26"}}, "send_at", "offset",
                 id="send-at-a-date"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "expires_at": "soon"}}, "expires_at", "",
                 id="expires-at-unparseable"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "send_at": "9999-12-31T23:59:59-14:00"}}, "send_at",
                 "between the years", id="send-at-year-9999"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "expires_at": "9999-12-31T23:59:59-14:00"}},
                 "expires_at", "between the years", id="expires-at-year-9999"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "send_at": "3026-11-26T10:00:00-05:00"}}, "send_at",
                 "between the years", id="send-at-a-typo-millennium"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "send_at": "2026-11-26T10:00:00-05:00",
                           "expires_at": "2026-11-26T09:00:00-05:00"}}, "expires_at", "after",
                 id="expires-before-send-at"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "send_at": "2026-11-26T10:00:00-05:00",
                           "expires_at": "2026-11-26T10:00:00-05:00"}}, "expires_at", "after",
                 id="expires-at-send-at"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "expires_at": "2026-11-25T11:00:00-05:00"}},
                 "expires_at", "after", id="expires-in-the-past"),
    pytest.param({"json": {"text": TEXT, "group": "clinic", "priority": "high"}}, "priority",
                 "is not part of a broadcast", id="unknown-key"),
    pytest.param({"data": "{bad json", "content_type": "application/json"}, "body", "not valid JSON", id="bad-json"),
    pytest.param({"data": "", "content_type": "application/json"}, "body", "", id="empty-body"),
    pytest.param({"data": json.dumps({"text": TEXT, "group": "clinic"}), "content_type": "text/plain"}, "body",
                 "must be JSON", id="not-json-content-type"),
    pytest.param({"data": "text=hi&group=clinic", "content_type": "application/x-www-form-urlencoded"}, "body",
                 "must be JSON", id="form"),
    pytest.param({"json": [1, 2]}, "body", "must be a JSON object", id="list"),
    pytest.param({"json": "hello"}, "body", "must be a JSON object", id="string"),
    pytest.param({"data": "null", "content_type": "application/json"}, "body", "", id="null"),
]


@pytest.mark.parametrize("request_kw, field, says", BAD)
def test_a_bad_request_is_422_naming_the_field_and_makes_nothing(api, clinic, redis, request_kw, field, says):
    assert_refused(api.create(**request_kw), field, says)
    assert redis.zcard(keys.of(redis).BROADCASTS) == 0 and redis.scard(keys.of(redis).BROADCASTS_ACTIVE) == 0


def test_a_body_over_the_limit_is_refused_as_json(api, clinic):
    response = api.create(data=json.dumps({"text": {"en": "x" * 70_000}, "group": "clinic"}),
                          content_type="application/json")
    assert response.status_code == 413 and response.is_json


def test_wrong_methods_are_json_too(client, token):
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/broadcasts", headers=headers).status_code == 405
    assert client.delete("/api/v1/broadcasts/bnope", headers=headers).status_code == 405
    assert client.get("/api/v1/broadcasts/bnope/cancel", headers=headers).status_code == 405


MOMENTS = st.sampled_from(["2026-11-26T10:00:00-05:00", "2026-11-25T11:00:00-05:00", "2026-11-26T10:00:00",
                           "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-02-30T10:00:00Z",
                           "2026-11-26", "", "now", "2027-01-01T00:00:00+23:59"]) | \
    st.datetimes().map(lambda d: d.isoformat() + "+00:00") | st.none() | st.integers() | st.text(max_size=12)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) |
                    st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
TEXTS = st.dictionaries(st.sampled_from(["en", "es", "fr", ""]), st.text(max_size=200) | SCALARS, max_size=3) | JSON
BODIES = st.fixed_dictionaries({"text": st.just(TEXT) | TEXTS}, optional={
    "group": st.sampled_from(["clinic", "Clinic", " clinic ", "", "nobody", "-x"]) | SCALARS,
    "all": st.just(True) | SCALARS, "send_at": MOMENTS, "expires_at": MOMENTS}) | JSON


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
@example(body={"text": TEXT, "group": "clinic", "send_at": "9999-12-31T23:59:59-14:00"})
@example(body={"text": TEXT, "all": True, "expires_at": "9999-12-31T23:59:59-14:00"})
def test_any_json_is_answered_201_or_422_never_500(api, clinic, body):
    response = api.create(body)
    assert response.status_code in (201, 422), (body, response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json
    if response.status_code == 201:
        got = api.get(response.json["id"])
        assert got.status_code == 200 and got.json == response.json
