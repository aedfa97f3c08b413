"""Hypothesis fuzzing of the webhook and the flow loader: never a 500, nothing stored on a refusal."""
import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.loader import DEFINITIONS, FlowError, load_documents
from tests.conftest import make_env, post_signed, make_app

FIELDS = ["MessageSid", "From", "To", "Body", "NumMedia", "AccountSid", "MediaUrl0", "SmsStatus"]
values = st.one_of(st.text(max_size=300), st.sampled_from(["+16175550123", "SIGNS", "STOP", "", "0", "SM1234abcd"]),
                   st.text(alphabet=string.digits + "+()- ", max_size=20))


def person_keys(redis) -> set:
    return {k for k in redis.keys("*") if not k.startswith(b"sms:{main}:metrics:")}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=8), st.booleans())
def test_webhook_never_500(redis_url, redis, params, signed):
    redis.flushdb()
    client = make_app(make_env(redis_url, REPLIES_PER_HOUR="1000")).test_client()
    response = post_signed(client, "/twilio/sms", params, signature=None if signed else "forged")
    assert response.status_code < 500
    if response.status_code >= 400:
        assert person_keys(redis) == set()
        assert response.is_json and response.json["detail"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_webhook_raw_bodies_never_500(redis_url, redis, raw):
    redis.flushdb()
    client = make_app(make_env(redis_url)).test_client()
    response = client.post("/twilio/sms", data=raw, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": "x"})
    assert response.status_code in (400, 403, 413) and person_keys(redis) == set()


SEED = {p.name: p.read_text() for p in DEFINITIONS.glob("*.yaml")}
yaml_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=40)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                           max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SEED)), st.sampled_from(["flow", "keyword", "aliases", "reply", "followups", "action",
                                                        "version", "program", "messages", "extra"]), yaml_values)
def test_loader_refuses_cleanly(filename, key, value):
    doc = yaml.safe_load(SEED[filename])
    doc[key] = value
    try:
        load_documents({**SEED, filename: yaml.safe_dump(doc)})
    except FlowError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SEED)), st.text(max_size=400))
def test_loader_survives_arbitrary_text(filename, text):
    try:
        load_documents({**SEED, filename: text})
    except FlowError as exc:
        assert exc.problems
