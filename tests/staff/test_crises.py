"""Crises in the console, through Flask's client and the real signed webhook: one open crisis per person
(later texts update it), claim / release / resolve on the conversation page (owners, refusals, outcomes,
the audit log), the inbox's pinned crises, the simulator's people kept apart, the no-on-call banner and
reply, the audited reveal, and the crisis escalation worker (once, after 10 minutes, at any hour)."""
import html
import re
from datetime import datetime

import pytest

from service import queues
from service.store import accounts, callbacks, crises, keys, notes
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, NOON, NY, Phone, make_app, make_env, replies, svc_of
from tests.staff.test_staff import PASSWORD, login
from workers.escalation import CRISIS_UNCLAIMED_SECONDS, escalate
from workers.runtime import make_runtime

ON_CALL = "+16175550100"
TOLD = "We've told our on-call team"
OWNER, COLLEAGUE = "staff@center.org", "staff2@center.org"
SATURDAY_NIGHT = datetime(2026, 11, 28, 23, 30, tzinfo=NY).timestamp()


def _console(redis_url, redis, clock, **env):
    app = make_app(make_env(redis_url, **env), clock)
    for role in Role:
        accounts.create(redis, f"{role.value}@center.org", PASSWORD, role, now=NOON, method=CHEAP_HASH)
    accounts.create(redis, COLLEAGUE, PASSWORD, Role.STAFF, now=NOON, method=CHEAP_HASH)
    return app


@pytest.fixture
def app(redis_url, redis, clock):
    """No on-call numbers: a crisis pages no one."""
    return _console(redis_url, redis, clock)


@pytest.fixture
def paged(redis_url, redis, clock):
    """On-call numbers set."""
    return _console(redis_url, redis, clock, STAFF_ALERT_NUMBERS=ON_CALL)


def pk_of(app, number: str) -> str:
    return svc_of(app).vault.person_key(number)


def alert_keys(redis) -> set[str]:
    return {k.decode() for k in redis.keys("sms:{main}:out:alert_*")}


def text(page) -> str:
    return html.unescape(page.get_data(as_text=True))


def only_crisis(app):
    [crisis] = crises.open_crises(svc_of(app).redis, svc_of(app).vault)
    return crisis


def actions(redis) -> list[str]:
    return [e["action"] for e in accounts.audit_log(redis)]


# -- one crisis per person ---------------------------------------------------------------------------------

def test_a_crisis_text_opens_one_crisis_and_later_texts_update_it(paged, redis, clock):
    phone = Phone(paged.test_client())
    first = replies(phone.text("my friend overdosed"))
    assert len(first) == 1 and "911" in first[0] and TOLD in first[0]
    crisis = only_crisis(paged)
    assert redis.zrange(keys.of(redis).CRISIS_OPEN, 0, -1) == [crisis.id.encode()]
    assert redis.hget(keys.of(redis).contact(pk_of(paged, phone.number)), crises.FIELD) == crisis.id.encode()
    assert crisis.person == pk_of(paged, phone.number) and crisis.body == "my friend overdosed"
    assert crisis.texts == 1 and crisis.why == "words" and not crisis.claimed_by and not crisis.simulated
    assert alert_keys(redis) == {f"sms:{{main}}:out:alert_{crisis.id}_0"}  # one on-call number, one alert record
    clock.advance(120)
    later = replies(phone.text("he is still not breathing"))
    assert later and "911" in later[0]  # never silence
    clock.advance(120)
    assert replies(phone.text("what do I do"))
    again = only_crisis(paged)  # still the one crisis
    assert again.id == crisis.id and again.texts == 3 and again.last_at == pytest.approx(NOON + 240)
    assert again.body == "my friend overdosed"  # the text that opened it
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 1
    assert alert_keys(redis) == {f"sms:{{main}}:out:alert_{crisis.id}_0"}  # on-call told once, not per text


def test_two_people_in_crisis_are_two_crises(paged, redis):
    Phone(paged.test_client(), "+16175550111").text("my friend overdosed")
    Phone(paged.test_client(), "+16175550112").text("my son is not breathing")
    found = crises.open_crises(redis, svc_of(paged).vault)
    assert len(found) == 2 and len({c.person for c in found}) == 2
    assert len(alert_keys(redis)) == 2


def test_without_on_call_numbers_a_crisis_pages_no_one_and_says_nothing_of_it(app, redis):
    reply = replies(Phone(app.test_client()).text("my friend overdosed"))
    assert reply and "911" in reply[0] and TOLD not in reply[0] and "on-call" not in reply[0]
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 1  # it is open, on the console
    assert alert_keys(redis) == set() and redis.zcard(keys.of(redis).ALERTS_PENDING) == 0
    assert queues.queue(redis, queues.ALERTS).count == 0


# -- the banner --------------------------------------------------------------------------------------------

STAFF_PAGES = ("/staff/inbox/", "/staff/callbacks", "/staff/unmatched/", "/staff/simulator/", "/staff/insights",
               "/staff/people/")


def test_every_staff_page_says_when_no_on_call_number_is_set(app):
    Phone(app.test_client()).text("SIGNS")
    staff, admin = login(app), login(app, "admin")
    person = pk_of(app, "+16175550123")
    for path in (*STAFF_PAGES, f"/staff/inbox/{person}"):
        page = staff.get(path, follow_redirects=True)
        assert page.status_code == 200, path
        body = page.get_data(as_text=True)
        assert 'id="no-on-call"' in body and "Ask an admin to set them in Settings" in body, path
    for path in (*STAFF_PAGES, "/staff/flows/", "/staff/settings/"):
        body = admin.get(path, follow_redirects=True).get_data(as_text=True)
        assert 'id="no-on-call"' in body and 'href="/staff/settings/"' in body, path


def test_with_on_call_numbers_there_is_no_banner(paged):
    Phone(paged.test_client()).text("SIGNS")
    staff = login(paged)
    for path in (*STAFF_PAGES, f"/staff/inbox/{pk_of(paged, '+16175550123')}"):
        page = staff.get(path, follow_redirects=True)
        assert page.status_code == 200 and 'id="no-on-call"' not in page.get_data(as_text=True), path


def test_on_call_numbers_set_in_settings_end_the_banner_and_the_reply_says_so(app, redis):
    admin = login(app, "admin")
    assert 'id="no-on-call"' in admin.get("/staff/inbox/").get_data(as_text=True)
    saved = admin.post("/staff/settings/", data={"csrf_token": admin.token, "STAFF_ALERT_NUMBERS": "+1 617 555 0100"})
    assert saved.status_code == 302
    assert 'id="no-on-call"' not in admin.get("/staff/inbox/").get_data(as_text=True)
    assert TOLD in replies(Phone(app.test_client()).text("my friend overdosed"))[0]
    assert len(alert_keys(redis)) == 1


# -- claim, release, resolve -------------------------------------------------------------------------------

def test_claim_by_one_staff_member_and_a_colleague_is_refused_with_the_owner_named(app, redis):
    phone = Phone(app.test_client())
    phone.text("my friend overdosed")
    crisis, person = only_crisis(app), pk_of(app, phone.number)
    owner, colleague = login(app), login(app, "staff2")
    page = text(owner.get(f"/staff/inbox/{person}"))
    assert "Nobody owns this crisis yet." in page and f"/staff/crises/{crisis.id}/claim" in page
    assert "my friend overdosed" in page and "a crisis phrase in their text" in page
    claimed = owner.post(f"/staff/crises/{crisis.id}/claim", data={"csrf_token": owner.token})
    assert claimed.status_code == 302 and claimed.location.endswith(f"/staff/inbox/{person}#crisis")
    assert crises.get(redis, svc_of(app).vault, crisis.id).claimed_by == OWNER
    assert accounts.audit_log(redis)[0] | {"at": 0} == {"at": 0, "who": OWNER, "action": "claim_crisis",
                                                       "detail": crisis.id}
    assert "Owner: you" in text(owner.get(f"/staff/inbox/{person}"))
    refused = colleague.post(f"/staff/crises/{crisis.id}/claim", data={"csrf_token": colleague.token})
    body = text(refused)
    assert refused.status_code == 409
    assert f"Not claimed: {OWNER} owns it" in body and f"Owner: {OWNER}" in body
    assert crises.get(redis, svc_of(app).vault, crisis.id).claimed_by == OWNER
    seen = text(colleague.get(f"/staff/inbox/{person}"))
    assert f"Owner: {OWNER}" in seen and f"/staff/crises/{crisis.id}/claim" not in seen
    assert f"/staff/crises/{crisis.id}/resolve" not in seen  # not theirs to resolve
    assert actions(redis).count("claim_crisis") == 1  # a refused claim changes nothing


def test_only_the_owner_releases_and_then_anyone_may_claim(app, redis):
    Phone(app.test_client()).text("my friend overdosed")
    crisis = only_crisis(app)
    owner, colleague = login(app), login(app, "staff2")
    owner.post(f"/staff/crises/{crisis.id}/claim", data={"csrf_token": owner.token})
    refused = colleague.post(f"/staff/crises/{crisis.id}/release", data={"csrf_token": colleague.token})
    assert refused.status_code == 409 and "Not released" in text(refused)
    assert crises.get(redis, svc_of(app).vault, crisis.id).claimed_by == OWNER
    released = owner.post(f"/staff/crises/{crisis.id}/release", data={"csrf_token": owner.token})
    assert released.status_code == 302
    assert crises.get(redis, svc_of(app).vault, crisis.id).claimed_by == ""
    assert accounts.audit_log(redis)[0]["action"] == "release_crisis"
    assert accounts.audit_log(redis)[0]["who"] == OWNER
    again = owner.post(f"/staff/crises/{crisis.id}/release", data={"csrf_token": owner.token})
    assert again.status_code == 409  # not theirs any more
    assert colleague.post(f"/staff/crises/{crisis.id}/claim", data={"csrf_token": colleague.token}).status_code == 302
    assert crises.get(redis, svc_of(app).vault, crisis.id).claimed_by == COLLEAGUE
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 1  # still open throughout


@pytest.mark.parametrize("form, says", [
    ({}, "pick how the crisis ended"),
    ({"outcome": "fine"}, "pick how the crisis ended"),
    ({"outcome": "other"}, "say what happened in the note"),
    ({"outcome": "other", "note": "   "}, "say what happened in the note"),
])
def test_resolving_needs_an_outcome_and_other_needs_a_note(app, redis, form, says):
    Phone(app.test_client()).text("my friend overdosed")
    crisis = only_crisis(app)
    staff = login(app)
    refused = staff.post(f"/staff/crises/{crisis.id}/resolve", data={"csrf_token": staff.token, **form})
    assert refused.status_code == 422 and f"Not resolved: {says}" in text(refused)
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 1 and not crises.get(redis, svc_of(app).vault, crisis.id).resolved_at
    assert "resolve_crisis" not in actions(redis)


def test_a_colleague_cannot_resolve_a_crisis_someone_owns(app, redis):
    Phone(app.test_client()).text("my friend overdosed")
    crisis = only_crisis(app)
    owner, colleague = login(app), login(app, "staff2")
    owner.post(f"/staff/crises/{crisis.id}/claim", data={"csrf_token": owner.token})
    refused = colleague.post(f"/staff/crises/{crisis.id}/resolve",
                             data={"csrf_token": colleague.token, "outcome": "reached_safe"})
    assert refused.status_code == 409 and f"{OWNER} owns it" in text(refused)
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 1 and "resolve_crisis" not in actions(redis)


def test_anyone_may_resolve_a_crisis_nobody_owns(app, redis):
    Phone(app.test_client()).text("my friend overdosed")
    crisis = only_crisis(app)
    colleague = login(app, "staff2")
    done = colleague.post(f"/staff/crises/{crisis.id}/resolve",
                          data={"csrf_token": colleague.token, "outcome": "no_answer"})
    assert done.status_code == 302 and redis.zcard(keys.of(redis).CRISIS_OPEN) == 0
    resolved = crises.get(redis, svc_of(app).vault, crisis.id)
    assert (resolved.resolved_by, resolved.outcome, resolved.resolved_at) == (COLLEAGUE, "no_answer", NOON)


def test_resolving_lets_the_bot_answer_as_usual_and_the_page_keeps_the_history(app, redis, clock):
    phone = Phone(app.test_client())
    phone.text("my friend overdosed")
    crisis, person = only_crisis(app), pk_of(app, phone.number)
    during = replies(phone.text("SIGNS"))  # asked for during the crisis: its information, no question waiting
    assert len(during) == 1 and "constricted" in during[0] and redis.hget(keys.of(redis).contact(pk_of(app, phone.number)),
                                                                           "conv") is None
    staff = login(app)
    staff.post(f"/staff/crises/{crisis.id}/claim", data={"csrf_token": staff.token})
    clock.advance(25 * 60)
    done = staff.post(f"/staff/crises/{crisis.id}/resolve",
                      data={"csrf_token": staff.token, "outcome": "reached_safe", "note": "Spoke with her, all okay"})
    assert done.status_code == 302 and done.location.endswith(f"/staff/inbox/{person}#crisis")
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 0
    assert redis.hget(keys.of(redis).contact(person), crises.FIELD) is None  # their open crisis is cleared
    assert accounts.audit_log(redis)[0] | {"at": 0} == {"at": 0, "who": OWNER, "action": "resolve_crisis",
                                                       "detail": f"{crisis.id} reached_safe"}
    assert notes.of(redis, svc_of(app).vault, person)[-1]["text"] == "Spoke with her, all okay"
    page = text(staff.get(f"/staff/inbox/{person}"))
    resolved = page.split("Resolved crises", 1)[1]
    assert "my friend overdosed" in resolved and "we reached them and they are safe" in resolved
    assert f"by {OWNER}" in resolved and "reached_safe" not in page  # the code is shown as words
    assert "Crisis open since" not in page and f"/staff/crises/{crisis.id}/claim" not in page
    assert "Crisis resolved: We reached them and they are safe" in page  # the flash
    after = replies(phone.text("SIGNS"))
    assert after and "constricted" in after[0]  # the signs text again
    again = staff.post(f"/staff/crises/{crisis.id}/resolve",
                       data={"csrf_token": staff.token, "outcome": "advised_911"})
    assert again.status_code == 409 and f"{OWNER} resolved it already" in text(again)
    assert crises.get(redis, svc_of(app).vault, crisis.id).outcome == "reached_safe"


def test_a_new_crisis_after_one_was_resolved_is_a_new_one(app, redis):
    phone = Phone(app.test_client())
    phone.text("my friend overdosed")
    first = only_crisis(app)
    staff = login(app)
    staff.post(f"/staff/crises/{first.id}/resolve", data={"csrf_token": staff.token, "outcome": "advised_911"})
    phone.text("she overdosed again and is not breathing")
    second = only_crisis(app)
    assert second.id != first.id and second.texts == 1
    page = text(staff.get(f"/staff/inbox/{pk_of(app, phone.number)}"))
    assert "Crisis open since" in page and "Resolved crises" in page
    assert "we told them to call 911 (or called it)" in page


@pytest.mark.parametrize("action", ["claim", "release", "resolve"])
def test_an_unknown_crisis_is_not_found(app, action):
    staff = login(app)
    answer = staff.post(f"/staff/crises/nope/{action}", data={"csrf_token": staff.token, "outcome": "reached_safe"})
    assert answer.status_code == 404


def test_crisis_actions_need_a_staff_sign_in_and_csrf(app, redis):
    Phone(app.test_client()).text("my friend overdosed")
    crisis = only_crisis(app)
    anonymous = app.test_client().post(f"/staff/crises/{crisis.id}/claim")
    assert anonymous.status_code == 400
    ops = login(app, "ops")
    assert ops.post(f"/staff/crises/{crisis.id}/claim", data={"csrf_token": ops.token}).status_code == 403
    staff = login(app)
    assert staff.post(f"/staff/crises/{crisis.id}/claim").status_code == 400  # no CSRF token
    assert crises.get(redis, svc_of(app).vault, crisis.id).claimed_by == ""


def test_crisis_outcomes_are_counted_in_the_insights(app, redis, clock):
    Phone(app.test_client(), "+16175550111").text("my friend overdosed")
    Phone(app.test_client(), "+16175550112").text("my son is not breathing")
    staff = login(app)
    before = staff.get("/staff/insights.json?days=1").json["days"][-1]
    assert before["crisis_flags"] == 2
    assert before["crisis_outcomes"] == {"reached_safe": 0, "advised_911": 0, "no_answer": 0, "other": 0}
    first, second = crises.open_crises(redis, svc_of(app).vault)
    clock.advance(600)
    staff.post(f"/staff/crises/{first.id}/resolve", data={"csrf_token": staff.token, "outcome": "advised_911"})
    staff.post(f"/staff/crises/{second.id}/resolve",
               data={"csrf_token": staff.token, "outcome": "other", "note": "Their sister drove them in"})
    day = staff.get("/staff/insights.json?days=1").json["days"][-1]
    assert day["crisis_outcomes"] == {"reached_safe": 0, "advised_911": 1, "no_answer": 0, "other": 1}
    assert day["crisis_resolve_minutes"] == {"10": 2}
    csv = staff.get("/staff/insights.csv?days=1").get_data(as_text=True).splitlines()
    row = dict(zip(csv[0].split(","), csv[-1].split(",")))
    assert row["crisis_outcomes.advised_911"] == "1" and row["crisis_outcomes.other"] == "1"


# -- the inbox -----------------------------------------------------------------------------------------------

def test_the_inbox_pins_open_crises_oldest_first_with_their_words(app, redis, clock):
    calm, first, second = (Phone(app.test_client(), f"+1617555013{i}") for i in range(3))
    calm.text("SIGNS")
    clock.advance(60)
    first.text("my son overdosed <b>help</b>")
    clock.advance(60)
    second.text("she took too many pills and won't wake up")
    clock.advance(60)
    calm.text("TREATMENT")  # the latest message of all
    clock.advance(60)
    first.text("please hurry")  # the oldest crisis stays first
    staff = login(app)
    raw = staff.get("/staff/inbox/").get_data(as_text=True)
    page = html.unescape(raw)
    assert "<b>help</b>" not in raw  # their words are escaped
    pinned, rest = page.split("Everyone else", 1)
    assert "Open crises" in pinned
    assert pinned.index("*******0131") < pinned.index("*******0132")
    assert "*******0130" not in pinned and "*******0130" in rest
    assert "*******0131" not in rest and "*******0132" not in rest  # pinned, not listed twice
    assert "They wrote: please hurry" in pinned and "They wrote: she took too many pills" in pinned
    assert "2 texts" in pinned and "Nobody owns it yet" in pinned
    assert "2 open crises" in page
    only = html.unescape(staff.get("/staff/inbox/?filter=crisis").get_data(as_text=True))
    assert "*******0131" in only and "*******0132" in only and "*******0130" not in only
    crisis = crises.open_crises(redis, svc_of(app).vault)[0]
    staff.post(f"/staff/crises/{crisis.id}/claim", data={"csrf_token": staff.token})
    assert f"Owner: {OWNER}" in html.unescape(staff.get("/staff/inbox/").get_data(as_text=True))
    assert staff.get("/staff/inbox/changes").json["crisis"] == 2


def test_the_simulators_people_are_marked_test_and_never_enter_the_real_queues(redis_url, redis, clock):
    app = _console(redis_url, redis, clock, STAFF_ALERT_NUMBERS="+16175559999")
    staff = login(app)
    sent = staff.post("/staff/simulator/send", data={"csrf_token": staff.token, "number": "+16175550177",
                                                     "body": "my friend overdosed"})
    assert sent.status_code == 302
    staff.post("/staff/simulator/send", data={"csrf_token": staff.token, "number": "+16175550178", "body": "CALL"})
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 0 and redis.zcard(keys.of(redis).CRISIS_OPEN_TEST) == 1
    assert redis.zcard(keys.of(redis).CALLBACKS_WAITING) == 0 and redis.zcard(keys.of(redis).CALLBACKS_WAITING_TEST) == 1
    assert crises.open_crises(redis, svc_of(app).vault) == []
    assert callbacks.waiting(redis, svc_of(app).vault) == []
    [simulated] = crises.open_crises(redis, svc_of(app).vault, simulated=True)
    assert simulated.simulated
    page = staff.get("/staff/inbox/").get_data(as_text=True)
    assert "0 open crises" in page and 'data-count="0"' in page
    assert 'class="pinned"' not in page and "Open crises" not in page
    assert page.count('<span class="badge test">TEST</span>') == 2
    assert staff.get("/staff/inbox/changes").json["crisis"] == 0
    assert staff.get("/staff/inbox/?fragment=1").headers["X-Crisis-Count"] == "0"
    conversation = staff.get(f"/staff/inbox/{pk_of(app, '+16175550177')}").get_data(as_text=True)
    assert "TEST</span> a simulator number" in conversation
    Phone(app.test_client()).text("SIGNS")  # a real person beside them is not marked
    page = staff.get("/staff/inbox/").get_data(as_text=True)
    assert page.count('<span class="badge test">TEST</span>') == 2 and "*******0123" in page
    practice = staff.get("/staff/callbacks").get_data(as_text=True)  # practised apart, marked TEST
    real, _, test = practice.partition("From the simulator")
    assert "No open crisis and no one waiting" in real and test.count('<span class="badge test">TEST</span>') == 3
    assert "my friend overdosed" in test and "data-callback=" in test
    clock.advance(30 * 60)
    assert escalate(make_runtime(svc_of(app))) == []  # the simulator's crisis pages nobody again
    assert {k for k in alert_keys(redis) if "crisis_esc" in k} == set()


def test_a_simulated_crisis_is_not_counted_in_the_insights_even_when_resolved(app, redis):
    staff = login(app)
    staff.post("/staff/simulator/send", data={"csrf_token": staff.token, "body": "my friend overdosed"})
    [simulated] = crises.open_crises(redis, svc_of(app).vault, simulated=True)
    done = staff.post(f"/staff/crises/{simulated.id}/resolve", data={"csrf_token": staff.token,
                                                                     "outcome": "reached_safe"})
    assert done.status_code == 302 and redis.zcard(keys.of(redis).CRISIS_OPEN_TEST) == 0
    day = staff.get("/staff/insights.json?days=1").json["days"][-1]
    assert day["crisis_flags"] == 0 and sum(day["crisis_outcomes"].values()) == 0


# -- reveal --------------------------------------------------------------------------------------------------

def test_reveal_on_the_conversation_page_is_audited_and_offers_a_tel_link(app, redis):
    phone = Phone(app.test_client())
    phone.text("my friend overdosed")
    person = pk_of(app, phone.number)
    staff = login(app)
    masked = staff.get(f"/staff/inbox/{person}").get_data(as_text=True)
    assert phone.number not in masked and "*******0123" in masked and f"/staff/inbox/{person}/reveal" in masked
    revealed = staff.post(f"/staff/inbox/{person}/reveal", data={"csrf_token": staff.token})
    body = revealed.get_data(as_text=True)
    assert revealed.status_code == 200 and f'<a href="tel:{phone.number}">{phone.number}</a>' in body
    assert accounts.audit_log(redis)[0] | {"at": 0} == {"at": 0, "who": OWNER, "action": "reveal_number",
                                                       "detail": person}
    assert phone.number not in staff.get(f"/staff/inbox/{person}").get_data(as_text=True)  # masked again
    assert staff.post("/staff/inbox/nobody/reveal", data={"csrf_token": staff.token}).status_code == 404
    ops = login(app, "ops")
    assert ops.post(f"/staff/inbox/{person}/reveal", data={"csrf_token": ops.token}).status_code == 403


# -- escalation ----------------------------------------------------------------------------------------------

def test_an_unclaimed_crisis_pages_on_call_again_once_after_ten_minutes_at_any_hour(paged, redis, clock):
    clock.set(SATURDAY_NIGHT)  # nobody is in the office; a crisis escalates anyway
    Phone(paged.test_client()).text("my friend overdosed")
    crisis = only_crisis(paged)
    rt = make_runtime(svc_of(paged))
    alerts = queues.queue(redis, queues.ALERTS)
    before, alerts_before = alerts.count, alert_keys(redis)
    clock.advance(CRISIS_UNCLAIMED_SECONDS - 1)
    assert escalate(rt) == []  # not yet
    clock.advance(1)
    assert escalate(rt) == [crisis.id]
    assert alert_keys(redis) - alerts_before == {f"sms:{{main}}:out:alert_crisis_esc_{crisis.id}_0"}
    assert alerts.count == before + 1
    clock.advance(60)
    assert escalate(rt) == []  # never twice
    clock.advance(3600)
    assert escalate(rt) == [] and alerts.count == before + 1
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 1  # escalation resolves nothing


def test_a_claimed_crisis_never_escalates(paged, redis, clock):
    clock.set(SATURDAY_NIGHT)
    Phone(paged.test_client()).text("my friend overdosed")
    crisis = only_crisis(paged)
    staff = login(paged)
    clock.advance(5 * 60)
    staff.post(f"/staff/crises/{crisis.id}/claim", data={"csrf_token": staff.token})
    rt = make_runtime(svc_of(paged))
    before = alert_keys(redis)
    for _ in range(3):
        clock.advance(CRISIS_UNCLAIMED_SECONDS)
        assert escalate(rt) == []
    assert alert_keys(redis) == before


def test_a_resolved_crisis_never_escalates(paged, redis, clock):
    Phone(paged.test_client()).text("my friend overdosed")
    crisis = only_crisis(paged)
    staff = login(paged)
    staff.post(f"/staff/crises/{crisis.id}/resolve", data={"csrf_token": staff.token, "outcome": "reached_safe"})
    clock.advance(CRISIS_UNCLAIMED_SECONDS * 2)
    assert escalate(make_runtime(svc_of(paged))) == []


def test_later_texts_do_not_restart_the_escalation_clock_or_page_again(paged, redis, clock):
    phone = Phone(paged.test_client())
    phone.text("my friend overdosed")
    crisis = only_crisis(paged)
    rt = make_runtime(svc_of(paged))
    clock.advance(CRISIS_UNCLAIMED_SECONDS - 60)
    phone.text("please answer")
    clock.advance(60)
    assert escalate(rt) == [crisis.id]  # ten minutes from when it opened
    clock.advance(60)
    phone.text("is anyone there")
    clock.advance(CRISIS_UNCLAIMED_SECONDS)
    assert escalate(rt) == []
    assert {k for k in alert_keys(redis)} == {f"sms:{{main}}:out:alert_{crisis.id}_0",
                                                f"sms:{{main}}:out:alert_crisis_esc_{crisis.id}_0"}


def test_the_conversation_page_shows_how_many_texts_came_since(app, clock):
    phone = Phone(app.test_client())
    phone.text("my friend overdosed")
    clock.advance(60)
    phone.text("please hurry")
    clock.advance(60)
    phone.text("he is blue")
    page = text(login(app).get(f"/staff/inbox/{pk_of(app, phone.number)}"))
    assert re.search(r"and 2 more texts since, the latest (just now|\d+ min ago)", page)
    assert "Crisis open since 2 min ago" in page


def test_a_crisis_opened_with_words_of_suicide_keeps_its_kind_until_resolved(app, redis):
    phone = Phone(app.test_client())
    first = replies(phone.text("i want to end my life"))[0]
    assert first.startswith("I'm really glad you texted") and first.index("988") < first.index("911")
    person = pk_of(app, phone.number)
    assert redis.hget(keys.of(redis).contact(person), crises.KIND) == b"self_harm"
    later = replies(phone.text("i have nothing left"))[0]  # no crisis words: the crisis's kind answers
    assert later.startswith("We're here with you. If you took something")
    staff = login(app)
    staff.post(f"/staff/crises/{only_crisis(app).id}/resolve", data={"csrf_token": staff.token, "outcome": "reached_safe"})
    assert redis.hmget(keys.of(redis).contact(person), crises.FIELD, crises.KIND) == [None, None]
    assert replies(phone.text("my friend overdosed"))[0].startswith("If someone may have overdosed")  # a new crisis


def test_words_of_suicide_later_in_an_open_crisis_are_kept_as_its_kind(app, redis):
    phone = Phone(app.test_client())
    phone.text("my brother overdosed")
    person = pk_of(app, phone.number)
    assert redis.hget(keys.of(redis).contact(person), crises.KIND) == b"overdose"
    phone.text("and i want to die too")
    assert redis.hget(keys.of(redis).contact(person), crises.KIND) == b"self_harm"
    assert "988" in replies(phone.text("please"))[0].split("911")[0]  # 988 before 911 from now on
