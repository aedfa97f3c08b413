"""What the browser tests share: Debian's Chromium, the console served on a real port, signing in."""
import functools
import os
import shutil
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from devtools.embedded_redis import free_port
from service.store import accounts
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, make_app, make_env, svc_of
from tests.staff.test_staff import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
if not HAVE_CHROMIUM and os.environ.get("CI"):
    raise RuntimeError("CI must run the browser tests: .ci/run installs Debian's chromium")
MARKS = [pytest.mark.slow, pytest.mark.skipif(not HAVE_CHROMIUM, reason="no Chromium on this machine")]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


class Server(str):
    """The console's base URL, with the app behind it (tests play the workers' part in-process)."""
    app = None


@contextmanager
def console(redis_url, clock, roles=tuple(Role), **env):
    """The console on a free port, signed for that address, with an account per role (role@center.org)."""
    port = free_port()
    app = make_app(make_env(redis_url, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", **env), clock)
    for role in roles:
        accounts.create(svc_of(app).redis, f"{role.value}@center.org", PASSWORD, role, now=0, method=CHEAP_HASH)
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    base = Server(f"http://127.0.0.1:{port}")
    base.app = app
    try:
        yield base
    finally:
        httpd.shutdown()


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


AXE_RUN = "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of these impacts on the page as it is now, short enough to read in an assertion
    message. The page's context needs bypass_csp=True: the console's policy refuses inline script."""
    page.add_script_tag(content=_axe_source())
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": _targets(v["nodes"])}
            for v in page.evaluate(AXE_RUN) if v["impact"] in impacts]


def _targets(nodes: list[dict], shown: int = 3) -> list[str]:
    """The first few elements' selectors (a list each: one per shadow root crossed)."""
    targets = [" >>> ".join(map(str, n["target"])) for n in nodes[:shown]]
    return targets + ([f"({len(nodes)} in all)"] if len(nodes) > shown else [])


@functools.cache
def _axe_source() -> str:
    from importlib.resources import files
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


@pytest.fixture
def browser():
    """Debian's Chromium, one per test (import it, as a fixture, where it is used)."""
    with chromium() as b:
        yield b


@pytest.fixture
def server(redis_url, redis, clock):
    """The console on a real port, with an account per role (modules that need the fake Twilio behind it
    define their own)."""
    with console(redis_url, clock) as base:
        yield base


def sign_in(page, base, email):
    page.goto(base + "/staff/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
