"""The simulator's clock in a real browser: texts and their answers appear without a reload, +1 day fires
a question's timeout and Jump to next step a journey event in front of the user, while a worker thread
plays the clock's tick and a worker, on a wide screen and on a phone."""
import threading

import pytest

from service import queues
from tests.conftest import svc_of
from tests.staff.browser import MARKS, browser, server, sign_in  # noqa: F401 (fixtures)

pytestmark = MARKS
VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})


@pytest.fixture
def workers(server, redis, clock):
    """The tick and a worker, every 50 ms, in-process (the clock steps a second per pass, so a timeout
    handed over "now" is past its question's second)."""
    from workers.dispatch import dispatch_due
    from workers.followup import send_followup
    from workers.journey import send_event
    from workers.runtime import make_runtime
    stop = threading.Event()
    rt = make_runtime(svc_of(server.app))

    def run():
        while not stop.wait(0.05):
            if dispatch_due(rt):
                for job in queues.queue(redis, queues.FOLLOWUPS).jobs:
                    (send_event if job.func_name.endswith("send_journey") else send_followup)(rt, job.args[0])
                    job.delete()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["1280", "390"])
def test_the_clock_fires_a_timeout_and_a_journey_event_live(server, browser, workers, clock, viewport):
    from playwright.sync_api import expect
    page = browser.new_page(viewport=viewport)
    sign_in(page, server, "staff@center.org")
    page.goto(server + "/staff/simulator/?number=%2B16175550160")
    page.fill("#sim-body", "SIGNS")
    page.click(".compose button")
    expect(page.locator("#transcript")).to_contain_text("Reply ME or OTHER")  # live, no reload
    expect(page.locator("#pending")).to_contain_text("signs/nudge, due Thu Nov 26, 12:00 PM")
    url = page.url
    clock.advance(1)
    page.get_by_role("button", name="+1 day").click()
    expect(page.locator("#sim-note")).to_contain_text("1 step due (signs/nudge)")
    expect(page.locator("#transcript")).to_contain_text("Thinking of you")  # the worker sent it; it shows up
    expect(page.locator("#their-clock")).to_contain_text("Thu Nov 26, 12:00 PM")
    page.get_by_text("Play a contact").click()
    page.fill("#field-appointment_at", "2026-11-28T14:30")  # the picker: their local time
    page.get_by_role("button", name="Save contact").click()
    expect(page.locator("#sim-note")).to_contain_text("Contact updated.")  # they texted first: already a person
    expect(page.locator("#pending")).to_contain_text("journey appointment, event 1, due Fri Nov 27, 10:00 AM")
    page.get_by_role("button", name="Jump to next step").click()
    expect(page.locator("#transcript")).to_contain_text("Reminder from")
    expect(page.locator("#their-clock")).to_contain_text("Fri Nov 27, 10:00 AM")
    assert page.url == url  # never reloaded
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    stamp = page.locator("#transcript li.in .meta").first
    colors = stamp.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e.parentElement).backgroundColor]")
    assert colors == ["rgb(242, 247, 249)", "rgb(31, 78, 95)"]  # light on the dark bubble: contrast ~8.9:1
