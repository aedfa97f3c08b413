"""axe-core on every console page, with data on them, at 1280 and 390 px: no serious or critical violation.
Signed in as an admin (every page), plus the sign-in page signed out and the page that turns staff away; then
the states a page reaches by use: a refused sign-in, the More menu open, a broadcast's preview, a contacts
file's preview, refused changes, a page not found."""
import pytest

from tests.staff.browser import MARKS, axe_violations, sign_in
from tests.staff.test_browser_inbox import PAGES, TEXTER, browser, server, texter  # noqa: F401 (fixtures)
from tests.staff.test_contacts_pages import put
from tests.staff.test_flow_builder import press, publish
from tests.staff.test_staff import login
from tests.conftest import svc_of

pytestmark = MARKS
VIEWPORTS = [pytest.param({"width": 1280, "height": 800}, id="1280x800"),
             pytest.param({"width": 390, "height": 844}, id="390x844")]
CONTACT = "+16175550140"


def some_of_everything(server) -> list[str]:
    """A call back, a crisis, a contact with planned reminders, a broadcast, two published flow versions;
    the pages only these have."""
    texter(server).text("CALL")
    texter(server, "+16175550178").text("my brother overdosed and isn't breathing")
    texter(server, "+16175550179").text("what time do you open on sundays")  # not understood
    app = server.app
    put(app, CONTACT, {"groups": ["patients"], "consent": {"source": "intake form", "at": "2026-11-20T10:00:00-05:00"},
                       "fields": {"appointment_at": "2026-12-02T14:30:00-05:00", "first_name": "Ana"}})
    admin = login(app, "admin")
    for text in ("Treatment text one. Reply CALL.", "Treatment text two. Reply CALL."):
        press(admin, "treatment", "save", **{"step.0.text.en": text})
        assert publish(admin).status_code == 302
    sent = admin.post("/staff/broadcasts/new", data={
        "csrf_token": admin.token, "text.en": "Open house Friday at 5.", "text.es": "", "audience": "patients",
        "send_at": "", "expires_at": "", "action": "send"})
    assert sent.status_code == 302, sent.get_data(as_text=True)
    vault = svc_of(app).vault
    return [f"/staff/inbox/{vault.person_key(TEXTER)}", f"/staff/inbox/{vault.person_key('+16175550178')}",
            f"/staff/contacts/{vault.person_key(CONTACT)}", sent.location, "/staff/journeys/appointment",
            "/staff/flows/import", "/staff/flows/diff/1/2"]


def serious(page, url=None) -> list[dict]:
    """The page's violations with every disclosure in it open (tables behind charts, help; the nav's menu
    stays shut: open, it covers the page and axe could not judge what is under it)."""
    if url:
        page.goto(url)
    page.wait_for_load_state("networkidle")
    page.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")
    return axe_violations(page)


def report(found: dict) -> str:
    return "\n".join(f"{where}: {v}" for where, vs in found.items() for v in vs)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_serious_or_critical_axe_violation_on_any_page(server, browser, viewport):  # noqa: F811
    paths = PAGES + some_of_everything(server)
    found = {}
    outside = browser.new_context(viewport=viewport, bypass_csp=True).new_page()  # axe is an inline script
    found["/staff/login (signed out)"] = serious(outside, server + "/staff/login")
    staff = browser.new_context(viewport=viewport, bypass_csp=True).new_page()
    sign_in(staff, server, "staff@center.org")
    found["/staff/accounts/ (staff: not for them)"] = serious(staff, server + "/staff/accounts/")
    admin = browser.new_context(viewport=viewport, bypass_csp=True).new_page()
    sign_in(admin, server, "admin@center.org")
    for path in paths:
        found[path] = serious(admin, server + path)
    found = {where: v for where, v in found.items() if v}
    assert not found, report(found)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_serious_or_critical_axe_violation_after_using_a_page(server, browser, viewport, tmp_path):  # noqa: F811
    some_of_everything(server)
    found = {}
    page = browser.new_context(viewport=viewport, bypass_csp=True).new_page()
    page.goto(server + "/staff/login")
    page.fill("input[name=email]", "admin@center.org")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    found["a refused sign-in"] = serious(page)
    sign_in(page, server, "admin@center.org")
    page.goto(server + "/staff/inbox/")
    page.locator("details.more summary").click()
    found["the More menu open"] = axe_violations(page)
    page.goto(server + "/staff/broadcasts/new")
    page.get_by_label("Text in English").fill("Open house Friday at 5.")
    page.get_by_label("To").select_option("patients")
    page.get_by_role("button", name="Preview", exact=True).click()
    found["a broadcast's preview"] = serious(page)
    csv = tmp_path / "contacts.csv"
    csv.write_text("number,language,groups,consent_source,consent_at\n+16175550150,en,patients,intake form,"
                   "2026-11-20T10:00:00-05:00\nnot a number,xx,patients,,\n")
    page.goto(server + "/staff/contacts/import")
    page.set_input_files("#file", str(csv))
    page.get_by_role("button", name="Preview").click()
    found["a contacts file's preview"] = serious(page)
    page.goto(server + f"/staff/contacts/{svc_of(server.app).vault.person_key(CONTACT)}")
    page.fill("#field-appointment_at", "next tuesday")
    page.get_by_role("button", name="Save").click()
    found["a contact's refused change"] = serious(page)
    page.goto(server + "/staff/flows/edit/signs")
    page.evaluate("document.querySelector('#aliases-en').closest('details')?.setAttribute('open', '')")
    page.fill("#aliases-en", "SIGN, STOP")
    page.get_by_role("button", name="Save draft").click()
    found["a flow's refused change"] = serious(page)
    page.goto(server + "/staff/settings/")
    page.get_by_label("Program name").fill("")
    page.evaluate("document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))")
    page.get_by_role("button", name="Save settings").click()
    found["refused settings"] = serious(page)
    found["a page not found"] = serious(page, server + "/staff/contacts/nobody")
    found = {where: v for where, v in found.items() if v}
    assert not found, report(found)
