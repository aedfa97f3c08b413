"""The simulator's clock: +1 hour, +1 day and Jump to next step move one fictional person's clock, so a
timeout or a journey event falls due in front of staff; each pending step says when it would go out for a
real person; the page refreshes its parts without a reload; a contact with fields and a broadcast preview."""
import json


from service import queues
from service.store import broadcasts, followups, journeys, outbox, simclock
from tests.conftest import svc_of
from tests.staff.test_flow_builder import admin_app  # noqa: F401 (fixture)
from tests.staff.test_staff import login
from workers.dispatch import dispatch_due
from workers.followup import send_followup
from workers.journey import send_event
from workers.runtime import make_runtime

NUMBER, QUOTED = "+16175550150", "%2B16175550150"
JSON = {"Accept": "application/json"}


def _advance(staff, by, number=QUOTED):
    return staff.post(f"/staff/simulator/advance?number={number}", data={"csrf_token": staff.token, "by": by},
                      headers=JSON)


def _text(staff, body):
    staff.post(f"/staff/simulator/send?number={QUOTED}", data={"csrf_token": staff.token, "body": body}, headers=JSON)


def _work(app, redis):
    """What the clock's tick and a worker do within a second."""
    rt = make_runtime(svc_of(app))
    handed = dispatch_due(rt)
    for job in queues.queue(redis, queues.FOLLOWUPS).jobs:
        (send_event if job.func_name.endswith("send_journey") else send_followup)(rt, job.args[0])
        job.delete()
    return handed


def _page(staff):
    return staff.get(f"/staff/simulator/?number={QUOTED}").get_data(as_text=True)


def test_their_clock_starts_at_the_real_time_in_their_zone(admin_app, redis):
    staff = login(admin_app, "staff")
    page = _page(staff)
    assert "Now on their clock: <strong>Wed Nov 25, 12:00 PM</strong> (America/New York)" in page
    assert "ahead of the real clock" not in page
    for label in ("+1 hour", "+1 day", "Jump to next step"):
        assert label in page


def test_plus_one_hour_moves_their_clock_and_keeps_each_step_at_its_time_on_it(admin_app, redis):
    staff = login(admin_app, "staff")
    _text(staff, "SIGNS")
    pk = svc_of(admin_app).vault.person_key(NUMBER)
    before = followups.timeout_of(redis, pk)
    answer = _advance(staff, "hour")
    assert answer.status_code == 200
    assert answer.json["note"] == "Their clock moved 1 hour ahead, to Wed Nov 25, 01:00 PM: nothing fell due." \
        .replace("01:00", "1:00")
    assert followups.timeout_of(redis, pk) == before - 3600 and simclock.ahead(redis, pk) == 3600
    page = _page(staff)
    assert "Wed Nov 25, 1:00 PM" in page and "1 hour ahead of the real clock" in page
    assert "signs/nudge, due Thu Nov 26, 12:00 PM if they don't answer" in page  # the same moment on their clock


def test_plus_one_day_fires_the_question_s_timeout_in_front_of_them(admin_app, redis, clock):
    staff = login(admin_app, "staff")
    _text(staff, "SIGNS")
    answer = _advance(staff, "day")
    assert "1 step due (signs/nudge)" in answer.json["note"]
    clock.advance(1)  # a timeout fires after its question was asked: a second later at the soonest
    assert _work(admin_app, redis) == 1
    assert "Thinking of you" in outbox.read(redis, svc_of(admin_app).vault)[-1]["body"]
    assert "Thinking of you" in _page(staff)  # on the phone


def test_jump_to_next_step_moves_exactly_to_the_soonest_step(admin_app, redis):
    staff = login(admin_app, "staff")
    _text(staff, "SIGNS")
    _text(staff, "other")
    pk = svc_of(admin_app).vault.person_key(NUMBER)
    [fid] = followups.pending_of(redis, pk)
    gap = followups.due_times(redis, (fid,))[fid] - svc_of(admin_app).now()
    answer = _advance(staff, "next")
    assert "1 step due (signs/other_checkin)" in answer.json["note"]
    assert simclock.ahead(redis, pk) == int(gap) and _work(admin_app, redis) == 1
    assert _advance(staff, "next").json["note"] == "Nothing is waiting to be sent to this number."


def test_a_step_outside_send_hours_says_when_it_would_really_go(admin_app, redis):
    staff = login(admin_app, "staff")
    _text(staff, "hello")  # a test person now (the menu: nothing pending)
    for _ in range(11):  # nothing pending: the clock still moves, to 11 PM their time
        _advance(staff, "hour")
    _text(staff, "SIGNS")  # its nudge: a day on, at 11 PM, outside send hours
    page = _page(staff)
    assert "Wed Nov 25, 11:00 PM" in page and "11 hours ahead" in page
    assert "signs/nudge, due Thu Nov 26, 11:00 PM if they don't answer <span class=\"meta\">(for a real person: " \
           "Fri Nov 27, 9:" in page


def test_a_journey_event_fires_when_their_clock_reaches_it(admin_app, redis, clock):
    """Played as a contact with an appointment, the day-before reminder is pending at 10:00 their time (two
    days on); Jump to next step brings it, and the worker sends it to the outbox."""
    staff = login(admin_app, "staff")
    saved = staff.post(f"/staff/simulator/contact?number={QUOTED}", headers=JSON, data={
        "csrf_token": staff.token, "field.appointment_at": "2026-11-28T14:30:00-05:00", "groups": "patients",
        "consent": "1"})
    assert saved.json == {"note": "Contact created.", "error": False}
    page = _page(staff)
    assert "journey appointment, event 1, due Fri Nov 27, 10:00 AM" in page
    assert "journey appointment, event 2, due Sat Nov 28, 12:30 PM" in page
    answer = _advance(staff, "next")
    assert "1 step due (journey appointment, event 1)" in answer.json["note"]
    assert _work(admin_app, redis) == 1
    assert "Reminder from" in outbox.read(redis, svc_of(admin_app).vault)[-1]["body"]
    assert "Reminder from" in _page(staff)


def test_a_contact_set_while_their_clock_is_ahead_is_planned_from_their_now(admin_app, redis):
    staff = login(admin_app, "staff")
    staff.post(f"/staff/simulator/contact?number={QUOTED}", headers=JSON, data={"csrf_token": staff.token,
                                                                                "consent": "1"})
    _advance(staff, "day")  # nothing pending: the clock still moves (Thu Nov 26, noon)
    _advance(staff, "day")  # Fri Nov 27, noon: tomorrow's 10:00 reminder is in their past
    pk = svc_of(admin_app).vault.person_key(NUMBER)
    assert simclock.ahead(redis, pk) == 2 * 86400
    staff.post(f"/staff/simulator/contact?number={QUOTED}", headers=JSON, data={
        "csrf_token": staff.token, "field.appointment_at": "2026-11-28T14:30:00-05:00", "consent": "1"})
    page = _page(staff)
    assert "event 1" not in page  # its moment had passed on their clock
    assert "journey appointment, event 2, due Sat Nov 28, 12:30 PM" in page
    [eid] = journeys.planned_of(redis, pk)
    due = journeys.due_times(redis, (eid,))[eid]
    assert due + 2 * 86400 == svc_of(admin_app).now() + 3 * 86400 + 1800  # Sat 12:30 on their clock: 2 days sooner


def test_a_bad_contact_value_is_named_and_nothing_is_saved(admin_app, redis):
    staff = login(admin_app, "staff")
    answer = staff.post(f"/staff/simulator/contact?number={QUOTED}", headers=JSON, data={
        "csrf_token": staff.token, "field.appointment_at": "next tuesday", "consent": "1"})
    assert answer.status_code == 422 and answer.json["note"].startswith("fields.appointment_at:")
    assert journeys.planned_of(redis, svc_of(admin_app).vault.person_key(NUMBER)) == ()


def test_a_bad_step_or_a_real_number_is_refused(admin_app, redis):
    staff = login(admin_app, "staff")
    answer = _advance(staff, "week")
    assert answer.status_code == 422 and answer.json["note"].startswith("by:")
    assert _advance(staff, "hour", number="%2B16175551234").status_code == 400  # not a fictional number


def test_without_script_the_forms_still_work(admin_app, redis):
    staff = login(admin_app, "staff")
    _text(staff, "hello")
    response = staff.post(f"/staff/simulator/advance?number={QUOTED}", data={"csrf_token": staff.token, "by": "day"})
    assert response.status_code == 302
    assert "Their clock moved 1 day ahead" in _page(staff)  # the note as a flash


def test_the_live_parts_come_as_json_and_304_when_nothing_changed(admin_app, redis):
    staff = login(admin_app, "staff")
    first = staff.get(f"/staff/simulator/?number={QUOTED}&fragment=1")
    parts = json.loads(first.data)
    assert set(parts) == {"sim-transcript", "sim-state", "sim-outbox"}
    again = staff.get(f"/staff/simulator/?number={QUOTED}&fragment=1", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-Crisis-Count"] == "0"
    _text(staff, "SIGNS")
    changed = staff.get(f"/staff/simulator/?number={QUOTED}&fragment=1", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "SIGNS" in json.loads(changed.data)["sim-transcript"]


def test_a_broadcast_previewed_for_one_person(admin_app, redis, clock):
    staff = login(admin_app, "staff")
    svc = svc_of(admin_app)
    b = broadcasts.Broadcast("b1", {"en": "Our office is closed Friday.", "es": "Nuestra oficina cierra el viernes."},
                             "patients", False, svc.now() + 86400, None, broadcasts.Status.SCHEDULED, svc.now(),
                             "staff@center.org")
    pipe = redis.pipeline()
    broadcasts.create(pipe, b, {}, {})  # no recipients: only its texts matter here
    pipe.execute()
    page = _page(staff)
    assert "Preview a broadcast for this person" in page and "Our office is closed Friday." in page
    answer = staff.post(f"/staff/simulator/broadcast?number={QUOTED}", headers=JSON,
                        data={"csrf_token": staff.token, "broadcast": "b1"})
    assert answer.json["note"].startswith("This person would not get it: +16175550150 is not a contact yet.")
    staff.post(f"/staff/simulator/contact?number={QUOTED}", headers=JSON, data={
        "csrf_token": staff.token, "groups": "patients", "consent": "1", "language": "es"})
    answer = staff.post(f"/staff/simulator/broadcast?number={QUOTED}", headers=JSON,
                        data={"csrf_token": staff.token, "broadcast": "b1"})
    assert answer.json["note"].startswith("This person would get, in Spanish (es): Nuestra oficina cierra el viernes. Responda PARAR")
    assert outbox.read(redis, svc.vault) == []  # a preview sends nothing
    missing = staff.post(f"/staff/simulator/broadcast?number={QUOTED}", headers=JSON,
                         data={"csrf_token": staff.token, "broadcast": "nope"})
    assert missing.status_code == 422 and missing.json["note"].startswith("broadcast:")


def test_a_date_and_time_from_the_picker_is_their_local_time(admin_app, redis):
    staff = login(admin_app, "staff")
    staff.post(f"/staff/simulator/contact?number={QUOTED}", headers=JSON, data={
        "csrf_token": staff.token, "field.appointment_at": "2026-11-28T14:30", "consent": "1"})
    page = _page(staff)
    assert "journey appointment, event 2, due Sat Nov 28, 12:30 PM" in page
    assert 'type="datetime-local" value="2026-11-28T14:30"' in page



def test_an_imported_contact_on_a_fictional_number_is_never_moved(admin_app, redis):
    """Only a person the simulator made has a clock: an API or CSV contact on a 555-01xx number is real
    data, and what it is sent goes through the real sender."""
    from service import contacts as rules
    svc = svc_of(admin_app)
    rules.apply(svc, NUMBER, rules.change_from({"fields": {"appointment_at": "2026-11-28T14:30:00-05:00"},
                                                "consent": {"source": "intake", "at": "2026-11-20T10:00:00-05:00"}},
                                               svc.flows().program.fields, ("en", "es")), svc.now())
    pk = svc.vault.person_key(NUMBER)
    before = journeys.due_times(redis, journeys.planned_of(redis, pk))
    staff = login(admin_app, "staff")
    answer = _advance(staff, "next")
    assert answer.status_code == 422 and answer.json["note"].startswith("number: only a test person has a clock")
    assert journeys.due_times(redis, journeys.planned_of(redis, pk)) == before and simclock.ahead(redis, pk) == 0


def test_the_weekly_cap_counts_on_their_clock(admin_app, redis, clock):
    """Sends recede as their clock moves: a week on, the cap has room again."""
    staff = login(admin_app, "staff")
    _text(staff, "SIGNS")
    pk = svc_of(admin_app).vault.person_key(NUMBER)
    redis.hset(f"sms:{{main}}:p:{pk}", "followups_sent", " ".join(str(int(svc_of(admin_app).now()) - i) for i in range(3)))
    _advance(staff, "day")
    sent = [int(t) for t in redis.hget(f"sms:{{main}}:p:{pk}", "followups_sent").split()]
    assert all(t <= svc_of(admin_app).now() - 86400 for t in sent)


def test_a_replan_keeps_a_test_person_on_their_clock(admin_app, redis):
    """STOP then START replans their journeys: from their now, not the real one."""
    staff = login(admin_app, "staff")
    staff.post(f"/staff/simulator/contact?number={QUOTED}", headers=JSON, data={"csrf_token": staff.token,
                                                                                "consent": "1"})
    _advance(staff, "day")
    _advance(staff, "day")  # Fri Nov 27, noon on their clock
    staff.post(f"/staff/simulator/contact?number={QUOTED}", headers=JSON, data={
        "csrf_token": staff.token, "field.appointment_at": "2026-11-28T14:30:00-05:00", "consent": "1"})
    _text(staff, "STOP")
    _text(staff, "START")
    from workers.journey import replan
    replan(make_runtime(svc_of(admin_app)), svc_of(admin_app).vault.person_key(NUMBER))
    page = _page(staff)
    assert "event 1" not in page and "journey appointment, event 2, due Sat Nov 28, 12:30 PM" in page
