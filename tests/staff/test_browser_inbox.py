"""The staff inbox in a real browser (Playwright + Debian's Chromium): a text appearing live, a reply
reaching the fake Twilio, take over and hand back checked through the real signed webhook, a crisis from
text to resolve, a call back from claim to release to close, accounts, and every page at 390 px."""
import re

import pytest

from service import queues
from service.store import accounts, callbacks
from tests.conftest import Phone, replies, svc_of
from tests.staff.browser import MARKS, browser, console, sign_in  # noqa: F401 (a fixture)
from workers.delivery import deliver
from workers.runtime import make_runtime

pytestmark = MARKS
TEXTER = "+16175550177"
LIVE = 5000  # ms: the page polls every second and a list is at most a second old


@pytest.fixture
def server(redis_url, redis, clock, fake):
    with console(redis_url, clock, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                 STAFF_ALERT_NUMBERS="+16175550100") as base:
        yield base


class ServerPhone(Phone):
    """A texter whose webhooks are signed for this server's public URL, as Twilio signs them."""

    def __init__(self, client, number, base):
        super().__init__(client, number)
        self.base = base

    def text(self, body, sid=None, **extra):
        from twilio.request_validator import RequestValidator
        from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, new_sid, post_signed
        params = {"MessageSid": sid or new_sid(), "AccountSid": ACCOUNT_SID, "From": self.number,
                  "To": "+18555909944", "NumMedia": "0", "Body": body, **extra}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(self.base + "/twilio/sms", params)
        return post_signed(self.client, "/twilio/sms", params, signature)


def texter(server, number=TEXTER) -> Phone:
    return ServerPhone(server.app.test_client(), number, str(server))


def later(clock, seconds=2):
    """Time passes on the server's clock (a list rendered a second ago is not reused after this)."""
    clock.advance(seconds)


def test_a_text_appears_live_and_a_reply_reaches_twilio(server, browser, clock, fake, redis):
    from playwright.sync_api import expect
    page = browser.new_page()
    sign_in(page, server, "staff@center.org")
    page.goto(server + "/staff/inbox/")
    expect(page.get_by_text("No one here")).to_be_visible()
    texter(server).text("Is anyone there? My son is using again")
    later(clock)
    row = page.locator("li.inbox-row", has_text="*******0177")
    expect(row).to_be_visible(timeout=LIVE)  # no reload
    expect(row).to_contain_text("1 unread")
    row.get_by_role("link").click()
    page.get_by_label("Reply by text").fill("Hi, this is Maria at the center. I'm here. Can you tell me more?")
    expect(page.locator("#reply-text + .count")).to_contain_text("GSM-7")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#holder")).to_contain_text("Held by staff@center.org")
    rt = make_runtime(svc_of(server.app))
    for job in queues.queue(redis, queues.REPLIES).jobs:  # the worker's part
        deliver(rt, *job.args)
    [sent] = fake.sent()
    assert sent.params["To"] == TEXTER and sent.params["Body"].startswith("Hi, this is Maria")
    texter(server).text("He won't talk to me")
    later(clock)
    expect(page.locator("#transcript")).to_contain_text("He won't talk to me", timeout=LIVE)


def test_take_over_and_hand_back_checked_through_the_signed_webhook(server, browser):
    from playwright.sync_api import expect
    phone = texter(server)
    phone.text("SIGNS")
    page = browser.new_page()
    sign_in(page, server, "staff@center.org")
    page.goto(server + f"/staff/inbox/{svc_of(server.app).vault.person_key(TEXTER)}")
    page.get_by_role("button", name="Take over").click()
    expect(page.locator("#holder")).to_contain_text("Held by staff@center.org")
    assert replies(phone.text("me")) == []  # the bot is quiet: staff answer
    assert replies(phone.text("HELP"))[0].startswith("Roaring Brook Recovery")  # compliance still answered
    page.get_by_role("button", name="Hand back to the bot").click()
    expect(page.locator("#holder")).to_contain_text("The bot is answering.")
    assert replies(phone.text("TREATMENT"))[0].startswith("Treatment works")


def test_a_crisis_from_the_text_to_resolved(server, browser, clock, redis):
    from playwright.sync_api import expect
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, server, "staff@center.org")
    page.goto(server + "/staff/inbox/")
    expect(page.locator("#crisis-count")).to_have_text("0 open crises")
    texter(server).text("my brother overdosed and isn't breathing")
    later(clock)
    expect(page.locator("#crisis-count")).to_have_text("1 open crisis", timeout=LIVE)
    cue = page.locator("#live-cue a")
    expect(cue).to_contain_text("New crisis message")
    cue.click()
    card = page.locator("li.card.crisis")
    expect(card).to_contain_text("my brother overdosed")
    expect(card).to_contain_text("call 911")  # what we answered
    card.get_by_role("button", name="Reveal number").click()
    expect(page.locator("a[href='tel:+16175550177']")).to_be_visible()
    page.get_by_label("We told them to call 911 (or called it)").check()
    page.get_by_label("Note for the resolution").fill("Stayed on the line until EMS arrived")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#crisis-count")).to_have_text("0 open crises")
    assert redis.zcard("sms:{main}:crisis:open") == 0
    assert [e["action"] for e in accounts.audit_log(redis)][:2] == ["resolve_crisis", "reveal_number"]


def test_a_call_back_from_claim_to_release_to_close(server, browser, redis):
    from playwright.sync_api import expect
    texter(server).text("CALL")
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, server, "staff@center.org")
    page.goto(server + "/staff/callbacks")
    expect(page.get_by_text(re.compile("Promised by"))).to_be_visible()
    page.get_by_role("button", name="Claim").click()
    page.get_by_role("button", name="Release").click()
    assert callbacks.waiting(redis, svc_of(server.app).vault)[0].state.value == "waiting"
    page.get_by_role("button", name="Claim").click()
    expect(page.get_by_label("Reached them")).not_to_be_checked()  # nothing picked for them
    page.get_by_label("Reached them").check()
    page.get_by_label("Note about the call").fill("Intake booked for Monday 10 AM")
    page.get_by_role("button", name="Save outcome").click()
    today = page.locator("ul.closed").first
    expect(today).to_contain_text("reached")
    expect(today).to_contain_text("Intake booked for Monday 10 AM")


def test_an_admin_creates_and_disables_an_account(server, browser):
    from playwright.sync_api import expect
    admin = browser.new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    sign_in(admin, server, "admin@center.org")
    admin.goto(server + "/staff/accounts/")
    admin.get_by_label("Email").fill("jo@center.org")
    admin.get_by_role("radio", name=re.compile("Staff:")).check()
    admin.get_by_role("button", name="Create account").click()
    password = admin.locator("#temporary code").inner_text()
    newcomer = browser.new_context().new_page()
    newcomer.goto(server + "/staff/")
    newcomer.fill("input[name=email]", "jo@center.org")
    newcomer.fill("input[name=password]", password)
    newcomer.click("button[type=submit]")
    expect(newcomer.get_by_role("heading", name=re.compile("Inbox"))).to_be_visible()
    row = admin.locator("tr", has_text="jo@center.org")
    row.get_by_role("button", name="Disable").click()
    expect(admin.locator("tr", has_text="jo@center.org")).to_contain_text("disabled")
    newcomer.reload()
    expect(newcomer.locator("input[name=password]")).to_be_visible()  # signed out


PAGES = ["/staff/inbox/", "/staff/callbacks", "/staff/simulator/", "/staff/flows/", "/staff/flows/edit/signs",
         "/staff/flows/program", "/staff/flows/history", "/staff/settings/", "/staff/accounts/", "/staff/ops",
         "/staff/accounts/me", "/staff/contacts/", "/staff/contacts/import", "/staff/journeys/", "/staff/broadcasts/",
         "/staff/broadcasts/new", "/staff/unmatched/", "/staff/insights", "/staff/setup/"]


def test_every_console_page_fits_a_390px_phone(server, browser, clock):
    texter(server).text("CALL my friend overdosed, please call, this is a long message " * 3)
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(phone, server, "admin@center.org")
    person = svc_of(server.app).vault.person_key(TEXTER)
    for path in PAGES + [f"/staff/inbox/{person}"]:
        phone.goto(server + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path
        nav = phone.locator("nav.console-nav").bounding_box()
        assert nav["height"] <= 64, (path, nav)  # one or two lines
    phone.goto(server + "/staff/rq/")
    assert phone.get_by_text("Back to the console").is_visible()
    staff = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(staff, server, "staff@center.org")
    staff.goto(server + "/staff/accounts/")
    assert staff.get_by_role("heading", name="Not for your account").is_visible()
    assert staff.evaluate("document.documentElement.scrollWidth") <= 390
    staff.get_by_role("link", name="Go to the console's start page").click()
    assert staff.url.endswith("/staff/inbox/")


def test_focus_is_visible_and_the_skip_link_works(server, browser):
    page = browser.new_page()
    sign_in(page, server, "staff@center.org")
    page.goto(server + "/staff/inbox/")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert skip.evaluate("e => e === document.activeElement")
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


def test_insights_in_the_browser_and_on_a_phone(server, browser, clock):
    from playwright.sync_api import expect
    for body in ("SIGNS", "TREATMENT", "CALL", "STOP"):
        texter(server, f"+1617555022{len(body)}").text(body)
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        page = browser.new_page(viewport=viewport)
        sign_in(page, server, "ops@center.org")
        page.goto(server + "/staff/insights?days=7")
        expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
        assert page.locator("svg.chart").count() >= 8
        assert page.get_by_role("img", name="Flow starts").is_visible()
        page.get_by_text("Flow starts: the numbers").click()
        table = page.locator("figure", has_text="Flow starts").locator("table")
        expect(table).to_contain_text("signs")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        smallest = page.evaluate("""Math.min(...[...document.querySelectorAll('svg.chart text')].map(t =>
            t.getBoundingClientRect().height))""")
        assert smallest >= 10, f"chart text renders {smallest:.1f} px high"  # readable, scrolled sideways if need be
        page.get_by_role("link", name="30 days").click()
        expect(page.get_by_role("heading", name=re.compile("last 30 days"))).to_be_visible()
