"""Contacts and journeys in Debian's Chromium, at desktop and phone widths: a CSV imported through its
preview, a contact's page with its planned reminders, a date changed there replanning them, the journeys
page; nothing scrolls sideways at 390 px."""
import re

import pytest

from tests.staff.browser import MARKS as BROWSER, chromium, console as serve, sign_in

VIEWPORTS = [pytest.param({"width": 1280, "height": 800}, id="1280x800"),
             pytest.param({"width": 390, "height": 844}, id="390x844")]
CSV = ("number,language,groups,consent_source,consent_at,appointment_at,first_name\n"
       "+16175550140,en,patients,intake form,2026-11-20T10:00:00-05:00,2026-12-02T14:30:00-05:00,Ana\n"
       "+16175550141,es,patients;alumni,intake form,2026-11-20T10:00:00-05:00,,Bea\n"
       "not a number,en,patients,intake form,2026-11-20T10:00:00-05:00,,Cy\n")


def fits(page, where):
    wide, room = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= room + 1, f"{where}: {wide} px wide in a {room} px window"


@BROWSER[0]
@BROWSER[1]
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_import_a_csv_see_a_contacts_reminders_and_move_the_date(redis_url, redis, clock, tmp_path, viewport):
    from playwright.sync_api import expect

    path = tmp_path / "patients.csv"
    path.write_text(CSV)
    with serve(redis_url, clock) as server, chromium() as browser:
        page = browser.new_context(viewport=viewport).new_page()
        page.on("dialog", lambda d: d.accept())
        sign_in(page, server, "admin@center.org")
        page.goto(server + "/staff/contacts/")
        fits(page, "the empty list")
        page.goto(server + "/staff/contacts/import")
        page.set_input_files("#file", str(path))
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#preview")).to_contain_text("3 rows: 2 good (2 would be created, 0 updated, 0 unchanged) "
                                                         "and 1 bad")
        expect(page.locator("#bad-rows")).to_contain_text("row 4: ")
        fits(page, "the preview")
        page.get_by_role("button", name="Import").click()
        expect(page.locator("#import-done")).to_contain_text("2 created, 0 updated, 0 unchanged")

        page.goto(server + "/staff/contacts/?group=patients")
        rows = page.locator("main li, main tr").filter(has_text="0140")
        expect(rows.first).to_be_visible()
        fits(page, "the list")
        page.get_by_role("link", name=re.compile("0140")).first.click()
        expect(page.get_by_role("heading", name=re.compile("^Contact"))).to_be_visible()
        planned = page.locator("section[aria-labelledby=planned-h]")
        expect(planned).to_contain_text("appointment, event 1")  # the day before at 10:00
        expect(page.get_by_text("May be texted first: consent given by intake form")).to_be_visible()
        fits(page, "a contact's page")

        page.fill("#field-appointment_at", "2026-12-09T09:00:00-05:00")  # the appointment moves a week
        page.get_by_role("button", name="Save").click()
        expect(planned).to_contain_text("Dec 8")  # the new day before; nothing of the old date is left
        expect(planned).not_to_contain_text("Dec 1,")
        page.fill("#field-appointment_at", "next tuesday")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#contact-error")).to_be_visible()
        expect(page.locator("#field-appointment_at")).to_have_attribute("aria-invalid", "true")
        fits(page, "a refused change")

        page.goto(server + "/staff/journeys/")
        expect(page.locator("main")).to_contain_text("appointment")
        expect(page.locator("main")).to_contain_text("aftercare")
        fits(page, "the journeys")
