"""Insights: a scripted run of texts, follow-ups, deliveries, status callbacks, call backs and crises
across days (one with nothing, one the day the clocks go back), and the counts the page, insights.json
and insights.csv report for it; who may see them; bad input."""
import csv
import io
from datetime import datetime

import pytest

from service import handoff
from service.store import accounts, callbacks, crises, followups
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, ACCOUNT_SID, NY, Phone, make_app, make_env, post_signed, svc_of
from tests.staff.test_staff import PASSWORD, login
from workers.delivery import deliver
from workers.followup import Outcome, send_followup
from workers.runtime import make_runtime

OCT30 = datetime(2026, 10, 30, 12, 0, tzinfo=NY).timestamp()  # a Friday
NOV1_EARLY = datetime(2026, 11, 1, 0, 30, tzinfo=NY).timestamp()  # EDT, the day the clocks go back
NOV1_REPEAT = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY).timestamp()  # the repeated hour, now EST
NOV1_LATE = datetime(2026, 11, 1, 23, 30, tzinfo=NY).timestamp()  # 04:30 UTC on Nov 2
NOV2 = datetime(2026, 11, 2, 15, 0, tzinfo=NY).timestamp()


@pytest.fixture
def app(redis_url, redis, clock, fake):
    clock.set(OCT30)
    app = make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                            SEND_RATE_PER_SECOND="100", SEND_HOURS="Mon-Sun 09:00-20:00"), clock)
    for role in Role:
        accounts.create(redis, f"{role.value}@center.org", PASSWORD, role, now=OCT30, method=CHEAP_HASH)
    return app


def status(app, sid, value, code=None):
    params = {"MessageSid": sid, "MessageStatus": value, "AccountSid": ACCOUNT_SID, **({"ErrorCode": code} if code else {})}
    assert post_signed(app.test_client(), "/twilio/status", params).status_code == 204


def scripted_run(app, clock, redis, fake):
    """Oct 30: four people text; Oct 31: nothing; Nov 1 (clocks go back): three texts, follow-ups."""
    svc, client = svc_of(app), app.test_client()
    ana, bo, cy, di = (Phone(client, f"+161755502{i:02d}") for i in range(4))
    ana.text("TREATMENT")
    bo.text("SEÑALES")
    cy.text("CALL")
    di.text("my brother overdosed")
    di.text("STOP")
    bo.text("otro")
    crisis_id = crises.open_crises(redis, svc.vault)[0].id
    [cb] = callbacks.waiting(redis, svc.vault)
    clock.advance(12 * 60)
    callbacks.claim_callback(redis, cb.id, "staff@center.org", clock.now())
    callbacks.record_outcome(redis, svc.vault, cb.id, "staff@center.org", callbacks.CallbackState.REACHED, "ok",
                             clock.now(), 86400)
    crises.resolve(redis, crisis_id, "staff@center.org", clock.now(), 86400, crises.CrisisOutcome.ADVISED_911)
    mid = handoff.reply(svc, svc.vault.person_key(cy.number), "staff@center.org", "We tried to call you", "ab" * 8)
    rt = make_runtime(svc)
    assert deliver(rt, mid).value == "sent"
    status(app, fake.sent()[-1].sid, "undelivered", "30005")
    # Nov 1, the day the clocks go back
    clock.set(NOV1_EARLY)
    Phone(client, "+16175550210").text("SIGNS")
    clock.set(NOV1_REPEAT)
    Phone(client, "+16175550211").text("hello")
    ana_pk = svc.vault.person_key(ana.number)
    first = min(followups.pending_of(redis, ana_pk), key=lambda f: followups.due_times(redis, (f,))[f])
    assert send_followup(rt, first) is Outcome.DEFERRED  # 1:30 a.m.: outside the send hours
    clock.set(datetime(2026, 11, 1, 10, 0, tzinfo=NY).timestamp())
    assert send_followup(rt, first) is Outcome.SENT
    sid = fake.sent()[-1].sid
    for value in ("sent", "delivered", "sent", "delivered", "failed"):  # repeated, out of order: counted once
        status(app, sid, value)
    clock.set(NOV1_LATE)
    Phone(client, "+16175550212").text("SIGNS")
    clock.set(NOV2)


def _json(app, days=1):
    accounts.create(svc_of(app).redis, "staff@center.org", PASSWORD, Role.STAFF, now=OCT30, method=CHEAP_HASH)
    return login(app).get(f"/staff/insights.json?days={days}").json


def day(data, date):
    return next(d for d in data["days"] if d["date"] == date)


def test_counts_match_the_scripted_run(app, clock, redis, fake):
    scripted_run(app, clock, redis, fake)
    data = login(app, "staff").get("/staff/insights.json?days=5").json
    assert data["zone"] == "America/New_York"
    assert [d["date"] for d in data["days"]] == ["2026-10-29", "2026-10-30", "2026-10-31", "2026-11-01",
                                                 "2026-11-02"]
    oct30 = day(data, "2026-10-30")
    assert {k: oct30[k] for k in ("new_people", "people", "inbound", "opt_outs", "callbacks_requested",
                                  "crisis_flags", "staff_replies", "undelivered", "carrier_opt_outs")} == {
        "new_people": 4, "people": 4, "inbound": 6, "opt_outs": 1, "callbacks_requested": 1, "crisis_flags": 1,
        "staff_replies": 1, "undelivered": 1, "carrier_opt_outs": 0}
    assert oct30["flow_starts"] == {"treatment": 1, "signs": 1, "call": 1}  # the crisis text started nothing
    assert oct30["outbound"] == 1 + 2 + 1 + 1 + 1 + 1  # treatment; signs + ask; call; crisis; stop; other
    assert oct30["texted"] == 4 and oct30["sent"] == 1
    assert oct30["callbacks_reached"] == 1 and oct30["callbacks_reached_in_time"] == 1
    assert oct30["callback_first_attempt_minutes"] == {"15": 1}  # 12 minutes: the 10-15 bucket
    assert oct30["crisis_resolve_minutes"] == {"15": 1}
    empty = day(data, "2026-10-31")
    assert empty["inbound"] == 0 and empty["people"] == 0 and empty["flow_starts"] == {} and empty["failed"] == {}
    assert empty["followups_held"] == {"send_hours": 0, "weekly_cap": 0, "horizon": 0, "opted_out": 0, "channel_window": 0}
    nov1 = day(data, "2026-11-01")  # 25 hours long: the three texts and the follow-up are all on it
    assert (nov1["inbound"], nov1["new_people"], nov1["people"]) == (3, 3, 3)
    assert nov1["flow_starts"] == {"signs": 2} and nov1["followups_sent"] == 1
    assert nov1["followups_held"]["send_hours"] == 1
    assert (nov1["sent"], nov1["delivered"], nov1["failed"]) == (1, 1, {})  # its furthest status, once
    assert day(data, "2026-11-02")["inbound"] == 0


def test_failed_messages_are_counted_by_error_code_once(app, clock, redis, fake):
    svc = svc_of(app)
    Phone(app.test_client(), "+16175550220").text("hello")
    mid = handoff.reply(svc, svc.vault.person_key("+16175550220"), "staff@center.org", "Hi", "cd" * 8)
    deliver(make_runtime(svc), mid)
    sid = fake.sent()[-1].sid
    status(app, sid, "failed", "30003")
    status(app, sid, "failed", "30003")
    status(app, sid, "delivered")  # a stage no further: ignored
    today = login(app).get("/staff/insights.json?days=1").json["days"][0]
    assert today["failed"] == {"30003": 1} and today["delivered"] == 0


def test_a_status_callback_before_the_send_is_recorded_counts_once(app, clock, redis, fake):
    from service.store import messages
    svc = svc_of(app)
    Phone(app.test_client(), "+16175550221").text("hello")
    mid = handoff.reply(svc, svc.vault.person_key("+16175550221"), "staff@center.org", "Hi", "ef" * 8)
    status(app, "SMearly", "delivered")  # Twilio was faster than our bookkeeping
    messages.claim(redis, mid, clock.now())
    messages.finish(redis, mid, messages.OutState.SENT, 86400, "SMearly")
    status(app, "SMearly", "delivered")
    assert login(app).get("/staff/insights.json?days=1").json["days"][0]["delivered"] == 1


def test_the_simulator_is_not_counted(app, redis):
    staff = login(app)
    staff.post("/staff/simulator/send?number=%2B16175550155", data={"csrf_token": staff.token, "body": "SIGNS"})
    today = staff.get("/staff/insights.json?days=1").json["days"][0]
    assert today["inbound"] == 0 and today["people"] == 0



def test_the_simulator_walks_no_step_into_the_funnels(app, redis):
    from service.store import conversations, flowdocs
    staff = login(app)
    staff.post("/staff/simulator/send?number=%2B16175550155", data={"csrf_token": staff.token, "body": "SIGNS"})
    results = conversations.results(redis, flowdocs.published_version(redis) or 0, "signs", ["signs", "ask"])
    assert not any(results.values())


def test_a_send_twilio_refuses_counts_as_failed_by_its_code(app, redis, fake):
    svc = svc_of(app)
    Phone(app.test_client(), "+16175550222").text("hello")
    fake.fail("+16175550222", 400, 21614)  # not a mobile number
    mid = handoff.reply(svc, svc.vault.person_key("+16175550222"), "staff@center.org", "Hi", "aa" * 8)
    deliver(make_runtime(svc), mid)
    today = login(app).get("/staff/insights.json?days=1").json["days"][0]
    assert today["failed"] == {"21614": 1} and today["sent"] == 0


def test_a_staff_reply_is_not_an_automatic_text(app, clock, redis, fake):
    svc = svc_of(app)
    Phone(app.test_client(), "+16175550223").text("hello")
    clock.advance(86400)  # the next day: only a staff reply
    mid = handoff.reply(svc, svc.vault.person_key("+16175550223"), "staff@center.org", "Hi", "bb" * 8)
    deliver(make_runtime(svc), mid)
    today = login(app).get("/staff/insights.json?days=1").json["days"][0]
    assert today["staff_replies"] == 1 and today["sent"] == 1 and today["texted"] == 0


def test_follow_ups_an_opt_out_cancels_and_ones_past_the_horizon_are_held_back(redis_url, redis, clock, fake):
    clock.set(OCT30)
    app = make_app(make_env(redis_url, FOLLOWUP_HORIZON_DAYS="2"), clock)
    phone = Phone(app.test_client(), "+16175550224")
    phone.text("TREATMENT")  # its follow-ups: the later one lies past a 2-day horizon
    pending = len(followups.pending_of(redis, svc_of(app).vault.person_key(phone.number)))
    phone.text("STOP")
    held = day(_json(app), "2026-10-30")["followups_held"]
    assert held["horizon"] >= 1 and held["opted_out"] == pending >= 1

def test_csv_is_the_same_series_one_row_a_day(app, clock, redis, fake):
    scripted_run(app, clock, redis, fake)
    staff = login(app)
    data = staff.get("/staff/insights.json?days=5").json
    response = staff.get("/staff/insights.csv?days=5")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["date"] for r in rows] == [d["date"] for d in data["days"]]
    for row, d in zip(rows, data["days"]):
        assert int(row["inbound"]) == d["inbound"] and int(row["flow_starts.signs"]) == d["flow_starts"].get("signs", 0)
        assert int(row["followups_held.send_hours"]) == d["followups_held"]["send_hours"]
        assert int(row["callback_first_attempt_minutes.15"]) == d["callback_first_attempt_minutes"].get("15", 0)
        assert int(row["crisis_resolve_minutes.15"]) == d["crisis_resolve_minutes"].get("15", 0)


@pytest.mark.parametrize("role", ["staff", "admin", "ops"])
def test_staff_admins_and_ops_see_insights(app, role):
    client = login(app, role)
    page = client.get("/staff/insights?days=7")
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
    assert client.get("/staff/insights.json?days=90").status_code == 200


def test_anonymous_visitors_see_nothing(app):
    assert app.test_client().get("/staff/insights.json?days=7").status_code == 302


@pytest.mark.parametrize("days", ["0", "401", "abc", "-3", "7.5"])
def test_bad_periods_are_refused_clearly(app, days):
    response = login(app).get(f"/staff/insights.json?days={days}")
    assert response.status_code == 400 and "days must be a whole number from 1 to 400" in response.json["detail"]


def test_every_chart_has_its_numbers_as_a_table(app, clock, redis, fake):
    scripted_run(app, clock, redis, fake)
    page = login(app).get("/staff/insights?days=7").get_data(as_text=True)
    assert page.count('<svg class="chart"') == page.count("the numbers</summary>") >= 8
    assert "#0072B2" in page and 'role="img"' in page
    assert "people who reached each step" in page  # the SIGNS funnel


def test_more_series_than_colours_fold_into_other_and_every_bar_is_outlined():
    from service.staff import charts
    series = [(f"Failed {30000 + k}", [k, 1]) for k in range(10)]
    svg = str(charts.bars("Delivery", ["2026-11-01", "2026-11-02"], series))
    legend = [name for name, _ in series if f">{name}</text>" in svg]
    assert len(legend) == len(charts.PALETTE) - 1 and ">Other</text>" in svg
    assert svg.count("<rect") == svg.count('stroke="#333"')


def test_when_call_backs_and_crises_come_in_and_how_they_end(app, clock, redis, fake):
    """By local hour and weekday (to staff the phones), call back attempts by outcome, keyword totals."""
    scripted_run(app, clock, redis, fake)
    data = _json(app, days=5)
    oct30 = day(data, "2026-10-30")
    hour = str(datetime.fromtimestamp(OCT30, NY).hour)
    assert oct30["callback_hours"][hour] == 1 and sum(oct30["callback_hours"].values()) == 1
    assert oct30["crisis_hours"][hour] == 1 and len(oct30["crisis_hours"]) == 24
    assert oct30["callback_outcomes"] == {"reached": 1, "no_answer": 0, "wrong_number": 0}
    page = login(app).get("/staff/insights?days=7").get_data(as_text=True)
    weekday = datetime.fromtimestamp(OCT30, NY).strftime("%a")  # a Friday
    assert f'<tr><th scope="row">{weekday}</th><td>1</td><td>1</td></tr>' in page  # by weekday: 1 call back, 1 crisis
    assert "By hour of day" in page and "By weekday" in page
    assert '<tr><th scope="row">signs</th><td>3</td></tr>' in page  # keywords at a glance, most texted first
    assert '<tr><th scope="row">reached</th><td>1</td></tr>' in page
    header = login(app).get("/staff/insights.csv?days=5").get_data(as_text=True).splitlines()[0].split(",")
    assert f"callback_hours.{hour}" in header and "callback_outcomes.reached" in header


def test_one_is_singular(app, clock, redis, fake):
    Phone(app.test_client(), "+16175550250").text("STOP")
    page = login(app).get("/staff/insights?days=7").get_data(as_text=True)
    assert "<strong>1</strong> opt-out (" in page and "1</strong> opt-outs" not in page
    assert "<strong>1</strong> new person<" in page and "<strong>0</strong> call backs" in page


def test_each_questions_answers_as_counts_and_shares_with_other(app, clock, redis, fake):
    phones = [Phone(app.test_client(), f"+161755503{i:02d}") for i in range(4)]
    for p, answer in zip(phones, ("ME", "OTHER", "ME", "what do you mean")):
        p.text("SIGNS")
        p.text(answer)
    page = login(app).get("/staff/insights?days=7").get_data(as_text=True)
    section = page[page.index("Questions and their answers"):]
    assert "signs, step ask: 4 replies" in section
    assert '<th scope="row">ME / MYSELF / MINE</th><td>2</td><td>50.0%</td>' in section
    assert '<th scope="row">Other (matched no answer)</th><td>1</td><td>25.0%</td>' in section
