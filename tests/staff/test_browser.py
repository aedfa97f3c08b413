"""The staff console in a real browser: Playwright driving Debian's Chromium."""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from service.store import accounts
from service.store.accounts import Role
from devtools.embedded_redis import free_port
from tests.conftest import make_app, make_env, svc_of

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
if not HAVE_CHROMIUM and os.environ.get("CI"):
    raise RuntimeError("CI must run the browser tests: .ci/run installs Debian's chromium")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not HAVE_CHROMIUM, reason="no Chromium on this machine")]
PASSWORD = "correct horse battery"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def server(redis_url, redis):
    port = free_port()
    app = make_app(make_env(redis_url, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}"))
    r = svc_of(app).redis
    accounts.create(r, "admin@center.org", PASSWORD, Role.ADMIN, now=0)
    accounts.create(r, "staff@center.org", PASSWORD, Role.STAFF, now=0)
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def sign_in(page, base, email):
    page.goto(base + "/staff/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_edit_publish_and_see_the_new_reply_in_the_simulator(server, browser):
    page = browser.new_page()
    sign_in(page, server, "admin@center.org")
    page.click("text=Flows")
    reply = page.locator("textarea[name='flow.signs.yaml.reply']")
    reply.fill("Signs can include tiny pupils and sudden weight loss \u2014 reply CALL to talk.")
    page.wait_for_selector("text=Replace non-GSM characters")
    page.click("text=Replace non-GSM characters")
    assert "\u2014" not in reply.input_value()
    page.fill("input[name=note]", "shorter signs text")
    page.click("button[value=publish]")
    page.wait_for_selector("text=Published version 1")
    page.click("text=Simulator")
    page.fill("input[name=body]", "signs")
    page.click(".compose button")
    page.wait_for_selector("#transcript li.out")
    assert "tiny pupils and sudden weight loss - reply CALL" in page.inner_text("#transcript")


def test_call_lands_in_the_queue_and_can_be_claimed_on_a_phone_screen(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, server, "staff@center.org")
    page.click("text=Simulator")
    page.fill("input[name=body]", "CALL <b>please</b>")
    page.click(".compose button")
    page.wait_for_selector("text=call you back")
    page.click("nav >> text=Call backs")
    card = page.locator("[data-callback]")
    assert card.count() == 1 and "waiting 0 min" in card.inner_text()
    page.click("text=Claim")
    page.wait_for_selector("text=Claimed by staff@center.org")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(server + "/staff/simulator/")
    assert "<b>please</b>" in page.inner_text("#transcript")  # shown as text, not markup
