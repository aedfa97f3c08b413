"""Closures in Settings: the federal holidays offered to accept or edit, one-off days, and the promises
that honour them (a CALL on Thanksgiving, escalation of overdue call backs)."""
from service.store import settings
from tests.conftest import Phone, replies, svc_of
from tests.staff.test_staff import login, staff_app  # noqa: F401 (fixture)
from workers.escalation import escalate_callbacks
from workers.runtime import make_runtime

THURSDAY_10AM = 22 * 3600  # NOON is Wednesday 2026-11-25 12:00 in New York: Thanksgiving 10:00 is 22 h later


def test_adding_the_federal_holidays_fills_the_list_and_saves_nothing(staff_app, redis):
    admin = login(staff_app, "admin")
    page = admin.post("/staff/settings/", data={"csrf_token": admin.token, "CLOSURES": "2026-12-28 Staff retreat",
                                                "add_holidays": "1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Remove any the center keeps open" in html
    assert "2026-11-26 Thanksgiving Day" in html and "2027-11-25 Thanksgiving Day" in html
    assert "2026-12-28 Staff retreat" in html  # what was typed stays
    assert "CLOSURES" not in settings.overrides(redis)


def test_a_bad_closure_is_refused_with_its_line(staff_app, redis):
    admin = login(staff_app, "admin")
    bad = admin.post("/staff/settings/", data={"csrf_token": admin.token, "CLOSURES": "Christmas"})
    assert bad.status_code == 422 and "CLOSURES: cannot read closure &#39;Christmas&#39;" in bad.get_data(as_text=True)
    assert "CLOSURES" not in settings.overrides(redis)


def test_only_admins_change_closures(staff_app, redis):
    staff = login(staff_app, "staff")
    assert staff.post("/staff/settings/", data={"csrf_token": staff.token, "CLOSURES": "2026-11-26"}).status_code == 403


def test_call_on_thanksgiving_is_promised_for_the_next_day_open(staff_app, redis, clock):
    clock.advance(THURSDAY_10AM)
    before = replies(Phone(staff_app.test_client(), "+16175550190").text("CALL"))[0]
    assert "within about 30 minutes" in before  # without closures the center would be "open"
    admin = login(staff_app, "admin")
    admin.post("/staff/settings/", data={"csrf_token": admin.token, "CLOSURES": "2026-11-26 Thanksgiving Day"})
    after = replies(Phone(staff_app.test_client(), "+16175550191").text("CALL"))[0]
    assert "after 9:00 AM EST tomorrow" in after and "30 minutes" not in after


def test_overdue_call_backs_do_not_page_on_a_closed_day(staff_app, redis, clock):
    admin = login(staff_app, "admin")
    admin.post("/staff/settings/", data={"csrf_token": admin.token, "CLOSURES": "2026-11-26 Thanksgiving Day",
                                         "STAFF_ALERT_NUMBERS": "+16172531000"})
    clock.advance(THURSDAY_10AM)
    Phone(staff_app.test_client(), "+16175550192").text("CALL")
    clock.advance(3600)
    rt = make_runtime(svc_of(staff_app))
    assert escalate_callbacks(rt) == []  # closed: nobody is paged about an "overdue" call back
    clock.advance(23 * 3600)  # Friday 10:00 (open): now it is overdue
    assert len(escalate_callbacks(rt)) == 1
