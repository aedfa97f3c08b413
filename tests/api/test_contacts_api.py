"""/api/v1/contacts/{number} through Flask's test client: PUT (create, update, unchanged), GET and DELETE;
bearer tokens (missing, wrong, revoked, stored only as a digest); JSON errors naming the field, never a
500; erasure; the audit of every call; and a STOP no API call can undo."""
import contextlib
import hashlib
from datetime import date, datetime, timedelta, timezone
import json
import re
import signal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flows.fields import FieldType, parse
from service.store import accounts, apitokens, contacts, journeys, keys
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, NOON, Phone, replies, svc_of

NUMBER = "+16175550123"
SHAPE = {"number", "channel", "language", "fields", "groups", "consent", "opted_out"}
CONSENT = {"source": "intake form", "at": "2026-11-20T10:00:00-05:00"}
FULL = {"language": "es", "fields": {"first_name": "Ana", "appointment_at": "2026-12-08T14:30:00-05:00",
                                     "discharged_on": "2026-11-24"},
        "groups": ["clinic-a", "aftercare"], "consent": CONSENT}


@pytest.fixture
def token(app):
    made, _ = apitokens.create(svc_of(app).redis, "EHR", "test", NOON)
    return made


@pytest.fixture
def api(client, token):
    """The test client with the token on every call."""
    class Api:
        def __init__(self):
            self.headers = {"Authorization": f"Bearer {token}"}

        def put(self, number=NUMBER, body=None, **kw):
            if "data" not in kw and "json" not in kw:
                kw["json"] = {} if body is None else body
            return client.put(f"/api/v1/contacts/{number}", headers=self.headers, **kw)

        def get(self, number=NUMBER):
            return client.get(f"/api/v1/contacts/{number}", headers=self.headers)

        def delete(self, number=NUMBER):
            return client.delete(f"/api/v1/contacts/{number}", headers=self.headers)
    return Api()


def pk_of(app, number=NUMBER) -> str:
    return svc_of(app).vault.person_key(number)


@contextlib.contextmanager
def within(seconds: float):
    """Fail (instead of hanging the suite) when the block takes longer than `seconds`."""
    def late(*_):
        raise TimeoutError(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, late)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- status codes and shapes

def test_create_is_201_update_200_and_an_unchanged_put_200(api):
    created = api.put(body=FULL)
    assert created.status_code == 201 and created.is_json
    assert set(created.json) == SHAPE
    assert created.json == {"number": NUMBER, "channel": "sms", "language": "es",
                            "fields": {"appointment_at": "2026-12-08T14:30:00-05:00", "discharged_on": "2026-11-24",
                                       "first_name": "Ana"},
                            "groups": ["aftercare", "clinic-a"], "consent": CONSENT, "opted_out": False}
    unchanged = api.put(body=FULL)
    assert unchanged.status_code == 200 and unchanged.json == created.json
    updated = api.put(body={"fields": {"first_name": "Ana María"}})
    assert updated.status_code == 200 and set(updated.json) == SHAPE
    assert updated.json["fields"]["first_name"] == "Ana María"
    got = api.get()
    assert got.status_code == 200 and got.json == updated.json and set(got.json) == SHAPE


def test_an_empty_body_creates_a_bare_contact_in_the_default_language(api):
    response = api.put(body={})
    assert response.status_code == 201
    assert response.json == {"number": NUMBER, "channel": "sms", "language": "en", "fields": {}, "groups": [], "consent": None,
                             "opted_out": False}
    assert api.put(body={}).status_code == 200


def test_an_unchanged_put_writes_nothing(app, api, clock, redis):
    api.put(body=FULL)
    clock.advance(3600)
    before = redis.hgetall(keys.of(redis).contact(pk_of(app)))
    assert api.put(body=FULL).status_code == 200
    assert redis.hgetall(keys.of(redis).contact(pk_of(app))) == before
    assert redis.zscore(keys.of(redis).CONTACTS, pk_of(app)) == NOON  # its data did not change since


@pytest.mark.parametrize("path", ["+16175550123", "%2B16175550123", "6175550123", "(617)%20555-0123",
                                  "%2B1%20617%20555%200123", "1-617-555-0123"])
def test_the_number_may_be_written_any_way_a_person_would(api, path):
    assert api.put(body={"groups": ["a"]}).status_code == 201
    again = api.put(path, {"groups": ["a"]})
    assert again.status_code == 200 and again.json["number"] == NUMBER  # the same contact, unchanged
    assert api.get(path).json["number"] == NUMBER


def test_fields_merge_and_null_or_empty_clears_one(api):
    api.put(body={"fields": {"first_name": "Ana", "discharged_on": "2026-11-24"}})
    merged = api.put(body={"fields": {"appointment_at": "2026-12-08T14:30:00-05:00"}})
    assert merged.json["fields"] == {"appointment_at": "2026-12-08T14:30:00-05:00", "discharged_on": "2026-11-24",
                                     "first_name": "Ana"}
    cleared = api.put(body={"fields": {"first_name": None}})
    assert cleared.status_code == 200
    assert cleared.json["fields"] == {"appointment_at": "2026-12-08T14:30:00-05:00", "discharged_on": "2026-11-24"}
    emptied = api.put(body={"fields": {"discharged_on": ""}})
    assert emptied.json["fields"] == {"appointment_at": "2026-12-08T14:30:00-05:00"}
    assert api.put(body={"fields": {"discharged_on": None}}).status_code == 200  # clearing nothing is fine
    assert api.get().json["fields"] == {"appointment_at": "2026-12-08T14:30:00-05:00"}


def test_values_are_stored_in_their_canonical_form(api):
    response = api.put(body={"fields": {"first_name": "  Ana   María ", "appointment_at": "2026-12-08 14:30Z"}})
    assert response.json["fields"] == {"first_name": "Ana María", "appointment_at": "2026-12-08T14:30:00+00:00"}


def test_groups_replace_the_set_and_follow_in_the_group_index(app, api, redis):
    api.put(body={"groups": ["Clinic-A", "aftercare", "aftercare"]})
    assert api.get().json["groups"] == ["aftercare", "clinic-a"]  # lower case, once each, sorted
    pk = pk_of(app)
    assert contacts.members(redis, "clinic-a") == {pk} and contacts.members(redis, "aftercare") == {pk}
    replaced = api.put(body={"groups": ["alumni"]})
    assert replaced.json["groups"] == ["alumni"]
    assert contacts.members(redis, "clinic-a") == set() and contacts.members(redis, "alumni") == {pk}
    assert contacts.group_sizes(redis) == {"alumni": 1}
    assert api.put(body={"fields": {"first_name": "Ana"}}).json["groups"] == ["alumni"]  # no "groups": kept
    assert api.put(body={"groups": []}).json["groups"] == []
    assert contacts.members(redis, "alumni") == set() and contacts.group_sizes(redis) == {}


def test_groups_may_be_one_semicolon_separated_text(api):
    assert api.put(body={"groups": "a; B;;c "}).json["groups"] == ["a", "b", "c"]


def test_consent_evidence_is_kept_until_other_evidence_replaces_it(api):
    api.put(body={"consent": {"source": "  signed   intake form ", "at": "2026-11-20T10:00:00-05:00"}})
    kept = {"source": "signed intake form", "at": "2026-11-20T10:00:00-05:00"}
    assert api.get().json["consent"] == kept
    assert api.put(body={"fields": {"first_name": "Ana"}}).json["consent"] == kept
    assert api.put(body={"consent": None}).json["consent"] == kept  # null takes nothing away
    other = {"source": "verbal, by phone", "at": "2026-11-24T09:15:00-05:00"}
    assert api.put(body={"consent": other}).json["consent"] == other


def test_language_is_kept_and_changed(api):
    assert api.put(body={"language": "es"}).json["language"] == "es"
    assert api.put(body={"groups": ["a"]}).json["language"] == "es"
    assert api.put(body={"language": "en"}).json["language"] == "en"


# -- tokens

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer sk_nope", "Bearer not-a-token",
                                    "Basic dXNlcjpwYXNz", "Token {token}", "Bearer {token}x", "{token}"])
def test_without_a_valid_token_every_call_is_401(app, client, redis, token, header):
    headers = {} if header is None else {"Authorization": header.format(token=token)}
    api_base = f"/api/v1/contacts/{NUMBER}"
    for response in (client.put(api_base, json=FULL, headers=headers), client.get(api_base, headers=headers),
                     client.delete(api_base, headers=headers)):
        assert response.status_code == 401 and response.is_json and "Bearer token" in response.json["error"]
    assert not redis.exists(keys.of(redis).contact(pk_of(app)))
    assert accounts.audit_log(redis) == []


def test_the_scheme_is_case_insensitive(client, token):
    response = client.put(f"/api/v1/contacts/{NUMBER}", json={}, headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 201


def test_a_disabled_token_opens_nothing(app, api, redis, token):
    assert api.put(body={}).status_code == 201
    [record] = apitokens.all_tokens(redis)
    assert apitokens.disable(redis, record.id) and not apitokens.disable(redis, record.id)
    assert api.get().status_code == 401 and api.put(body=FULL).status_code == 401
    assert api.delete().status_code == 401 and redis.exists(keys.of(redis).contact(pk_of(app)))


def test_a_token_revoked_on_the_accounts_page_opens_nothing(app, api, redis, token):
    from tests.staff.test_staff import PASSWORD, login
    for role in Role:
        accounts.create(redis, f"{role.value}@center.org", PASSWORD, role, now=NOON, method=CHEAP_HASH)
    [record] = apitokens.all_tokens(redis)
    staff = login(app, "staff")
    assert staff.post(f"/staff/accounts/api-tokens/{record.id}/revoke",
                      data={"csrf_token": staff.token}).status_code == 403
    assert api.put(body={}).status_code == 201  # staff can't revoke it
    admin = login(app, "admin")
    page = admin.get("/staff/accounts/").get_data(as_text=True)
    assert f"/staff/accounts/api-tokens/{record.id}/revoke" in page and token not in page
    revoked = admin.post(f"/staff/accounts/api-tokens/{record.id}/revoke", data={"csrf_token": admin.token})
    assert revoked.status_code == 302
    assert api.get().status_code == 401 and api.put(body=FULL).status_code == 401
    assert apitokens.get(redis, record.id).disabled
    assert accounts.audit_log(redis)[0]["action"] == "revoke_api_token"
    assert accounts.audit_log(redis)[0]["who"] == "admin@center.org"


def test_a_token_made_on_the_accounts_page_is_shown_once_and_works(app, client, redis):
    from tests.staff.test_staff import PASSWORD, login
    accounts.create(redis, "admin@center.org", PASSWORD, Role.ADMIN, now=NOON, method=CHEAP_HASH)
    admin = login(app, "admin")
    made = admin.post("/staff/accounts/api-tokens", data={"csrf_token": admin.token, "name": "Scheduling"})
    assert made.status_code == 200
    [token] = re.findall(r"<code>(sk_[^<]+)</code>", made.get_data(as_text=True))
    assert token not in admin.get("/staff/accounts/").get_data(as_text=True)
    response = client.put(f"/api/v1/contacts/{NUMBER}", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    assert accounts.audit_log(redis)[0]["who"] == "api:Scheduling"
    assert admin.post("/staff/accounts/api-tokens", data={"csrf_token": admin.token, "name": " "}).status_code == 422


def test_only_a_digest_of_the_token_is_stored(app, api, redis, token):
    api.put(body=FULL)
    api.get()
    secret = token.encode()
    stored = []
    for key in redis.scan_iter():
        kind = redis.type(key)
        stored.append(key)
        if kind == b"string":
            stored.append(redis.get(key))
        elif kind == b"hash":
            stored += [x for pair in redis.hgetall(key).items() for x in pair]
        elif kind == b"list":
            stored += redis.lrange(key, 0, -1)
        elif kind == b"set":
            stored += list(redis.smembers(key))
        elif kind == b"zset":
            stored += redis.zrange(key, 0, -1)
    assert stored and not any(secret in value for value in stored)
    assert redis.exists(keys.of(redis).api_token(hashlib.sha256(secret).hexdigest()))
    [record] = apitokens.all_tokens(redis)
    assert record.name == "EHR" and token.startswith(f"sk_{record.id}_")
    assert record.last_used == NOON  # the use is noted


def test_two_tokens_are_told_apart_in_the_audit(app, client, redis, token):
    other, _ = apitokens.create(redis, "Scheduling", "test", NOON)
    client.put(f"/api/v1/contacts/{NUMBER}", json={}, headers={"Authorization": f"Bearer {token}"})
    client.get(f"/api/v1/contacts/{NUMBER}", headers={"Authorization": f"Bearer {other}"})
    assert [e["who"] for e in accounts.audit_log(redis)] == ["api:Scheduling", "api:EHR"]


# -- refusals: 422 naming the field, never a 500

def assert_refused(response, field: str, says: str = ""):
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.is_json and set(response.json) <= {"error", "field"}
    assert response.json["error"].startswith(f"{field}: "), response.json
    assert says in response.json["error"]
    if "field" in response.json:
        assert response.json["field"] == field


BAD_BODIES = [
    pytest.param({"data": "{bad json", "content_type": "application/json"}, "body", "not valid JSON", id="bad-json"),
    pytest.param({"data": "", "content_type": "application/json"}, "body", "", id="empty-json"),
    pytest.param({"data": '{"a": 1', "content_type": "application/json"}, "body", "", id="truncated-json"),
    pytest.param({"data": "{}", "content_type": "text/plain"}, "body", "must be JSON", id="not-json-content-type"),
    pytest.param({"data": "language=es", "content_type": "application/x-www-form-urlencoded"}, "body", "must be JSON",
                 id="form"),
    pytest.param({"json": [1, 2]}, "body", "must be a JSON object", id="list"),
    pytest.param({"json": "hello"}, "body", "must be a JSON object", id="string"),
    pytest.param({"json": 42}, "body", "must be a JSON object", id="number"),
    pytest.param({"json": True}, "body", "must be a JSON object", id="true"),
    pytest.param({"data": "null", "content_type": "application/json"}, "body", "", id="null"),
    pytest.param({"json": {"phone": "+16175550123"}}, "phone", "is not something a contact has", id="unknown-key"),
    pytest.param({"json": {"fields": {"first_name": "Ana"}, "opted_out": False}}, "opted_out", "",
                 id="opted-out-is-not-settable"),
    pytest.param({"json": {"fields": {"ssn": "123-45-6789"}}}, "fields.ssn", "is not a declared field",
                 id="undeclared-field"),
    pytest.param({"json": {"fields": ["first_name"]}}, "fields", "must be an object", id="fields-list"),
    pytest.param({"json": {"fields": None}}, "fields", "must be an object", id="fields-null"),
    pytest.param({"json": {"fields": {"discharged_on": "12/08/2026"}}}, "fields.discharged_on",
                 "must be a date like 2026-12-08", id="bad-date"),
    pytest.param({"json": {"fields": {"discharged_on": "2026-02-30"}}}, "fields.discharged_on", "must be a date",
                 id="no-such-day"),
    pytest.param({"json": {"fields": {"appointment_at": "2026-12-08T14:30:00"}}}, "fields.appointment_at",
                 "UTC offset", id="datetime-without-offset"),
    pytest.param({"json": {"fields": {"appointment_at": 1796745600}}}, "fields.appointment_at", "with its offset",
                 id="datetime-as-epoch"),
    pytest.param({"json": {"fields": {"first_name": "x" * 201}}}, "fields.first_name", "at most 200",
                 id="long-text"),
    pytest.param({"json": {"fields": {"first_name": 7}}}, "fields.first_name", "must be text", id="text-number"),
    pytest.param({"json": {"fields": {"first_name": {"a": 1}}}}, "fields.first_name", "must be text",
                 id="text-object"),
    pytest.param({"json": {"language": "fr"}}, "language", "must be one of en, es", id="bad-language"),
    pytest.param({"json": {"language": "EN"}}, "language", "must be one of", id="language-case"),
    pytest.param({"json": {"language": None}}, "language", "must be one of", id="language-null"),
    pytest.param({"json": {"language": ["en"]}}, "language", "must be one of", id="language-list"),
    pytest.param({"json": {"language": {"en": 1}}}, "language", "must be one of", id="language-object"),
    pytest.param({"json": {"groups": ["clinic a"]}}, "groups", "is not a group name", id="group-with-space"),
    pytest.param({"json": {"groups": ["-a"]}}, "groups", "is not a group name", id="group-dash-first"),
    pytest.param({"json": {"groups": ["a" * 41]}}, "groups", "is not a group name", id="group-too-long"),
    pytest.param({"json": {"groups": [1]}}, "groups", "must be a list of group names", id="group-number"),
    pytest.param({"json": {"groups": {"a": True}}}, "groups", "must be a list", id="groups-object"),
    pytest.param({"json": {"groups": None}}, "groups", "must be a list", id="groups-null"),
    pytest.param({"json": {"groups": [f"g{i}" for i in range(21)]}}, "groups", "at most 20", id="too-many-groups"),
    pytest.param({"json": {"consent": "yes"}}, "consent", "", id="consent-text"),
    pytest.param({"json": {"consent": {"at": "2026-11-20T10:00:00-05:00"}}}, "consent", "", id="consent-no-source"),
    pytest.param({"json": {"consent": {"source": " ", "at": "2026-11-20T10:00:00-05:00"}}}, "consent", "",
                 id="consent-blank-source"),
    pytest.param({"json": {"consent": {"source": "form"}}}, "consent.at", "", id="consent-no-time"),
    pytest.param({"json": {"consent": {"source": "form", "at": "2026-11-20T10:00:00"}}}, "consent.at", "offset",
                 id="consent-naive-time"),
    pytest.param({"json": {"consent": {"source": "form", "at": "last week"}}}, "consent.at", "", id="consent-words"),
]


@pytest.mark.parametrize("request_kw, field, says", BAD_BODIES)
def test_a_bad_body_is_422_naming_the_field_and_writes_nothing(app, api, redis, request_kw, field, says):
    assert_refused(api.put(**request_kw), field, says)
    assert not redis.exists(keys.of(redis).contact(pk_of(app)))
    assert api.get().status_code == 404


@pytest.mark.parametrize("request_kw, field, says", BAD_BODIES)
def test_a_bad_body_leaves_a_contact_as_it_was(app, api, request_kw, field, says):
    before = api.put(body=FULL).json
    assert_refused(api.put(**request_kw), field, says)
    assert api.get().json == before


def test_one_bad_field_refuses_the_whole_put(api):
    api.put(body={"fields": {"first_name": "Ana"}})
    response = api.put(body={"fields": {"first_name": "Bea", "discharged_on": "soon"}, "groups": ["a"]})
    assert_refused(response, "fields.discharged_on")
    assert api.get().json["fields"] == {"first_name": "Ana"} and api.get().json["groups"] == []


@pytest.mark.parametrize("number", ["abc", "+1", "12345", "%2B1617555012", "%2B161755501234567", "%00", "+",
                                    "1" * 300, "+16175550123x0x0%2B"])
def test_a_bad_number_is_422_on_every_method(api, number):
    for response in (api.put(number, FULL), api.get(number), api.delete(number)):
        assert_refused(response, "number", "must be a phone number")


def test_a_body_over_the_limit_is_refused_as_json(api):
    response = api.put(data=json.dumps({"fields": {"first_name": "x" * 70_000}}), content_type="application/json")
    assert response.status_code == 413 and response.is_json


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | \
    st.text(max_size=30)
JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) |
                    st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
PLANNABLE = st.dates(date(1971, 1, 1), date(9998, 1, 1)).map(date.isoformat) | \
    st.dates(date(2026, 10, 1), date(2027, 4, 1)).map(date.isoformat) | \
    st.datetimes(datetime(2026, 10, 1), datetime(2027, 4, 1), timezones=OFFSETS).map(datetime.isoformat) | \
    st.datetimes(datetime(1971, 1, 1), datetime(9998, 1, 1), timezones=OFFSETS).map(datetime.isoformat)
FIELD_VALUES = JSON | PLANNABLE | st.sampled_from(["2026-12-08", "2026-12-08T14:30:00-05:00", "2026-12-08T14:30:00",
                                                  "Ana", "", "  ", "2026-02-30", "12/08/2026",
                                                  "2027-03-14T02:30:00-05:00"])
CONTACT_LIKE = st.fixed_dictionaries({}, optional={
    "language": JSON | st.sampled_from(["en", "es", "fr", ""]),
    "fields": JSON | st.dictionaries(st.sampled_from(["first_name", "discharged_on", "appointment_at", "other"]),
                                     FIELD_VALUES, max_size=3),
    "groups": JSON | st.lists(st.sampled_from(["a", "B", "clinic-a", " x ", "bad name", "", "-"]), max_size=4),
    "consent": st.just(CONSENT) | JSON | st.fixed_dictionaries({}, optional={"source": JSON | st.just("intake"),
                                                          "at": JSON | st.just("2026-11-20T10:00:00-05:00")}),
})


def outside_plannable_years(body) -> bool:
    """A date the xfailed tests below show planning can't take yet (before 1970: a hang; year 9999: a 500);
    the fuzzing steps around them, so it finds what is not known already."""
    given_fields = body.get("fields") if isinstance(body, dict) else None
    for name, kind in (("discharged_on", FieldType.DATE), ("appointment_at", FieldType.DATETIME)):
        try:
            year = int(parse(kind, given_fields[name])[:4])
        except (TypeError, KeyError, ValueError):
            continue
        if not 1970 < year < 9999:
            return True
    return False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON | CONTACT_LIKE, number=st.sampled_from([NUMBER, "%2B16175550124", "6175550125"]))
def test_any_json_is_answered_200_201_or_422_never_500(api, body, number):
    assume(not outside_plannable_years(body))
    with within(10):
        response = api.put(number, data=json.dumps(body), content_type="application/json")
    assert response.status_code in {200, 201, 422}, response.get_data(as_text=True)
    assert response.is_json
    if response.status_code == 422:
        field = response.json.get("field", "body")
        assert response.json["error"].startswith(f"{field}: ")
        assert field in {"body", "language", "groups", "consent", "consent.at", "fields", "number"} or \
            field.startswith("fields.") or field in body  # an unknown key, named as sent
    else:
        assert set(response.json) == SHAPE


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_answered_200_201_or_422_never_500(api, raw):
    response = api.put(data=raw, content_type="application/json")
    assert response.status_code in {200, 201, 422}


@pytest.mark.parametrize("fields", [{"discharged_on": "9999-12-30"},
                                    {"appointment_at": "9999-12-31T23:59:59-23:59"}])
def test_a_far_future_date_is_never_a_500(api, fields):
    response = api.put(body={"fields": fields, "consent": CONSENT})
    assert response.status_code in {200, 201, 422}


@pytest.mark.parametrize("fields", [{"discharged_on": "1969-12-31"},
                                    {"appointment_at": "1965-06-01T10:00:00-05:00"}])
def test_a_date_before_1970_is_answered_at_once(api, fields):
    with within(2):
        response = api.put(body={"fields": fields, "consent": CONSENT})
    assert response.status_code in {200, 201, 422}


def test_a_date_before_1970_without_consent_is_simply_kept(api):
    """No journey is planned without consent to outreach, so the value is only stored."""
    with within(5):
        response = api.put(body={"fields": {"discharged_on": "1969-12-31"}})
    assert response.status_code == 201 and response.json["fields"] == {"discharged_on": "1969-12-31"}


# -- GET, DELETE, erasure

def test_get_an_unknown_number_is_404(api):
    response = api.get("+16175550199")
    assert response.status_code == 404 and response.json["error"].startswith("number:")
    assert api.delete("+16175550199").status_code == 404


def test_a_texter_is_no_contact_until_the_center_sets_something(app, api):
    """Someone who only texted has a record, but GET finds them (their data is the center's to read)."""
    Phone(app.test_client()).text("hello")
    response = api.get()
    assert response.status_code == 200 and response.json["fields"] == {} and response.json["consent"] is None
    assert api.put(body={"groups": ["walk-in"]}).status_code == 200  # they existed: updated, not created


def test_delete_is_204_then_everything_of_theirs_is_gone(app, api, redis):
    assert api.put(body=FULL).status_code == 201
    other = api.put("+16175550124", {"groups": ["clinic-a"], "fields": {"discharged_on": "2026-11-24"},
                                     "consent": CONSENT})
    assert other.status_code == 201
    pk, other_pk = pk_of(app), pk_of(app, "+16175550124")
    planned = journeys.planned_of(redis, pk)
    assert planned and all(redis.zscore(keys.of(redis).JOURNEYS_DUE, eid) for eid in planned)
    assert pk in contacts.members(redis, "clinic-a")

    response = api.delete()
    assert response.status_code == 204 and response.data == b""
    assert api.get().status_code == 404
    assert not redis.exists(keys.of(redis).contact(pk))
    assert pk not in contacts.members(redis, "clinic-a") and pk not in contacts.members(redis, "aftercare")
    assert contacts.group_sizes(redis) == {"clinic-a": 1}
    assert not [m for m in redis.zrange(keys.of(redis).JOURNEYS_DUE, 0, -1) if m.decode().startswith(pk + ":")]
    assert redis.zscore(keys.of(redis).CONTACTS, pk) is None
    left = {k.decode() for k in redis.scan_iter(f"*{pk}*")}  # besides the work of erasing Twilio's copies:
    assert {k for k in left if not k.startswith(("sms:{main}:erasure:", "rq:job:main-erase-at-provider-"))} == \
        {keys.of(redis).tombstone(pk)}
    # the other contact is untouched
    assert api.get("+16175550124").json == other.json and other_pk in contacts.members(redis, "clinic-a")
    assert journeys.planned_of(redis, other_pk)
    assert api.delete().status_code == 404


def test_delete_of_a_texter_hands_their_texts_to_the_erasure_worker(app, api, redis):
    Phone(app.test_client()).text("SIGNS")
    pk = pk_of(app)
    assert redis.exists(keys.of(redis).transcript(pk))
    assert api.delete().status_code == 204
    assert not redis.exists(keys.of(redis).transcript(pk)) and api.get().status_code == 404
    assert [k.decode() for k in redis.keys("sms:{main}:erasure:*")]  # Twilio's copies: a worker's job


def test_a_contact_can_be_set_again_after_deletion(api):
    api.put(body=FULL)
    api.delete()
    again = api.put(body={"groups": ["a"]})
    assert again.status_code == 201 and again.json["fields"] == {} and again.json["consent"] is None


# -- the audit

def test_every_call_is_audited_under_the_tokens_name(app, api, redis, clock):
    pk = pk_of(app)
    api.put(body=FULL)
    clock.advance(60)
    api.put(body=FULL)
    api.put(body={"groups": ["a"]})
    api.get()
    api.get("+16175550199")
    api.delete()
    api.delete()
    log = list(reversed(accounts.audit_log(redis)))
    assert {e["who"] for e in log} == {"api:EHR"}
    assert [(e["action"], e["detail"]) for e in log] == [
        ("api_put_contact", f"{pk} created"), ("api_put_contact", f"{pk} unchanged"),
        ("api_put_contact", f"{pk} updated"), ("api_get_contact", pk),
        ("api_get_contact", pk_of(app, "+16175550199")), ("api_delete_contact", pk),
        ("api_delete_contact", f"{pk} absent")]
    assert [e["at"] for e in log] == [NOON] + [NOON + 60] * 6
    assert NUMBER not in json.dumps(log)  # person keys, never the number


def test_a_refused_call_is_audited_too(api, redis):
    api.put(body={"language": "fr"})
    api.get("abc")
    assert [e["who"] for e in accounts.audit_log(redis)] == ["api:EHR", "api:EHR"]


# -- STOP: only the person's own texts change their consent

def test_a_number_that_sent_stop_stays_opted_out_whatever_put_says(app, api, redis):
    phone = Phone(app.test_client())
    assert "unsubscribed" in replies(phone.text("STOP"))[0]
    pk = pk_of(app)
    response = api.put(body={**FULL, "consent": {"source": "signed form", "at": "2026-11-25T11:00:00-05:00"}})
    assert response.status_code == 200 and response.json["opted_out"] is True
    assert journeys.planned_of(redis, pk) == ()  # nothing planned for them
    assert_refused(api.put(body={"opted_out": False}), "opted_out")
    assert api.put(body={"consent": CONSENT, "language": "en"}).json["opted_out"] is True
    assert api.get().json["opted_out"] is True
    assert redis.hget(keys.of(redis).contact(pk), "consent") == b"opted_out"


def test_only_their_own_start_resubscribes_them(app, api, redis):
    from workers.journey import replan
    from workers.runtime import make_runtime
    phone = Phone(app.test_client())
    phone.text("STOP")
    api.put(body=FULL)
    assert api.get().json["opted_out"] is True
    other = Phone(app.test_client(), "+16175550124")
    other.text("START")  # someone else's START changes nothing for them
    assert api.get().json["opted_out"] is True
    assert replies(phone.text("START"))  # in Spanish: FULL set their language
    assert api.get().json["opted_out"] is False
    replan(make_runtime(svc_of(app)), pk_of(app))  # the job a START enqueues
    assert journeys.planned_of(redis, pk_of(app))
    phone.text("STOP")
    assert api.get().json["opted_out"] is True and journeys.planned_of(redis, pk_of(app)) == ()


def test_a_stop_after_the_put_cancels_their_journeys(app, api, redis):
    api.put(body=FULL)
    pk = pk_of(app)
    assert journeys.planned_of(redis, pk)
    Phone(app.test_client()).text("STOP")
    assert journeys.planned_of(redis, pk) == () and api.get().json["opted_out"] is True
    assert api.put(body={"fields": {"discharged_on": "2026-11-23"}}).json["opted_out"] is True
    assert journeys.planned_of(redis, pk) == ()


def test_a_stop_survives_deletion_and_a_new_put(app, api, redis):
    Phone(app.test_client()).text("STOP")
    assert api.delete().status_code == 204
    response = api.put(body={"fields": {"discharged_on": "2026-11-24"}, "consent": CONSENT})
    assert api.get().json["opted_out"] is True  # what is stored is right
    assert response.json["opted_out"] is True
    assert journeys.planned_of(redis, pk_of(app)) == ()


# -- journeys follow what the API sets

def test_consent_and_a_date_plan_the_journeys_and_a_new_date_replans_them(app, api, redis):
    pk = pk_of(app)
    api.put(body={"fields": {"appointment_at": "2026-12-08T14:30:00-05:00"}})
    assert journeys.planned_of(redis, pk) == ()  # no consent to outreach yet
    api.put(body={"consent": CONSENT})
    first = journeys.planned_of(redis, pk)
    assert sorted(journeys.EventId.parse(e).journey for e in first) == ["appointment", "appointment"]
    api.put(body={"fields": {"appointment_at": "2026-12-10T15:00:00-05:00"}})
    second = journeys.planned_of(redis, pk)
    assert len(second) == 2 and not set(first) & set(second)
    assert not any(redis.zscore(keys.of(redis).JOURNEYS_DUE, e) for e in first)
    api.put(body={"fields": {"appointment_at": None}})
    assert journeys.planned_of(redis, pk) == () and redis.zcard(keys.of(redis).JOURNEYS_DUE) == 0
