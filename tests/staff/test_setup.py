"""First run: an admin is walked through the setup (program, hours, on-call numbers, a test text in the
simulator) and told what production still needs; the checklist can be set aside; staff never see it."""
import re

from service.store import setup
from tests.conftest import svc_of
from tests.staff.test_staff import login, staff_app  # noqa: F401 (fixture)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_new_admin_lands_on_the_checklist_and_it_fills_in_as_they_go(staff_app, redis):
    admin = login(staff_app, "admin")
    start = admin.get("/staff/")
    assert start.status_code == 302 and start.location.endswith("/staff/setup/")
    page = text(admin.get("/staff/setup/"))
    assert "3 of 3 left" in page and "Roaring Brook Recovery" in page
    assert "A Twilio sender" in page and "APP_ENV=production" in page  # what production still needs
    assert 'id="setup-banner"' in text(admin.get("/staff/inbox/"))
    admin.post("/staff/settings/", data={"csrf_token": admin.token, "STAFF_ALERT_NUMBERS": "+16172531000"})
    assert "1 of 3 left" in text(admin.get("/staff/setup/"))  # settings saved, on-call numbers set
    admin.post("/staff/simulator/send", data={"csrf_token": admin.token, "number": "+16175550111", "body": "SIGNS"})
    page = text(admin.get("/staff/setup/"))
    assert "0 of 3 left" in page and "Close this checklist" in page
    assert 'id="setup-banner"' not in text(admin.get("/staff/inbox/"))
    assert admin.get("/staff/").location.endswith("/staff/inbox/")


def test_set_aside_it_stays_aside(staff_app, redis):
    admin = login(staff_app, "admin")
    assert admin.post("/staff/setup/dismiss", data={"csrf_token": admin.token}).status_code == 302
    assert admin.get("/staff/").location.endswith("/staff/inbox/")
    assert 'id="setup-banner"' not in text(admin.get("/staff/inbox/"))
    assert "dismissed" in setup.done(redis)


def test_staff_and_ops_never_see_it(staff_app):
    staff = login(staff_app, "staff")
    assert staff.get("/staff/").location.endswith("/staff/inbox/")
    assert 'id="setup-banner"' not in text(staff.get("/staff/inbox/"))
    assert staff.get("/staff/setup/").status_code == 403
    assert login(staff_app, "ops").post("/staff/setup/dismiss").status_code in (400, 403)


def test_a_production_ready_config_has_nothing_missing(redis_url, redis, clock):
    from service import create_app
    from service.store import accounts
    from service.store.accounts import Role
    from tests.conftest import CHEAP_HASH, NOON, make_env
    from tests.staff.test_staff import PASSWORD
    app = create_app(make_env(redis_url, TWILIO_FROM_NUMBER="+18555909944", TWILIO_ACCOUNT_SID="AC" + "1" * 32,
                              STAFF_ALERT_NUMBERS="+16172531000", PUBLIC_BASE_URL="https://sms.example.org"), clock=clock)
    accounts.create(svc_of(app).redis, "admin@center.org", PASSWORD, Role.ADMIN, now=NOON, method=CHEAP_HASH)
    page = text(login(app, "admin").get("/staff/setup/"))
    assert "A Twilio sender" not in page and "On-call numbers (STAFF" not in page and "public https" not in page
