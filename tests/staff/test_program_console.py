"""One console for several programs: started without PROGRAM, it asks at sign-in which program the staff
member works in; the account, its role, its session and everything it sees are that program's (an account
may be in several, with a role in each, and switches by signing in again); API tokens route to their own
program; ops see every program's health and queues."""
import re

import pytest

from service import create_app
from service.store import accounts, apitokens, keys
from tests.conftest import CHEAP_HASH, NOON, ManualClock, svc_of
from tests.sms.test_programs import (A_NUMBER, B_NUMBER, NUMBER, PASSWORD, env, flows_dir, redis,  # noqa: F401
                                     redis_b, second_redis, text)

OTHER = "+16175550124"
SIMULATED = "+16175550100"  # the simulator's default fictional number


@pytest.fixture
def web(env):  # noqa: F811 - the fixture
    return create_app({k: v for k, v in env.items() if k != "PROGRAM"}, clock=ManualClock(NOON), surface="twilio")


@pytest.fixture
def console(env):  # noqa: F811 - the fixture
    return create_app({k: v for k, v in env.items() if k != "PROGRAM"}, clock=ManualClock(NOON), surface="console")


def program(console, name):
    from service.programs import CONSOLE
    return console.extensions[CONSOLE][name]


def account(console, name: str, email: str, role=accounts.Role.STAFF) -> None:
    svc = program(console, name)
    accounts.create(svc.redis, email, PASSWORD, role, now=NOON, method=CHEAP_HASH)


def _login_token(client, query: str = "") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login" + query).get_data(as_text=True)).group(1)


def sign_in(client, name: str, email: str):
    return client.post("/staff/login", data={"email": email, "password": PASSWORD, "program": name,
                                             "csrf_token": _login_token(client)})


@pytest.fixture
def people(web):
    """One person texting Brook, another texting Harbor Light."""
    phone = web.test_client()
    text(phone, A_NUMBER, "SIGNS")
    text(phone, B_NUMBER, "SIGNS", number=OTHER)


def test_sign_in_asks_for_the_program_by_its_name(console):
    page = console.test_client().get("/staff/login").get_data(as_text=True)
    assert '<option value="brook">Roaring Brook Recovery</option>' in page
    assert '<option value="harbor">Harbor Light Center</option>' in page
    chosen = console.test_client().get("/staff/login?program=harbor").get_data(as_text=True)
    assert '<option value="harbor" selected>' in chosen


def test_an_account_signs_in_only_to_its_own_program(console):
    account(console, "brook", "dana@brook.org")
    client = console.test_client()
    assert sign_in(client, "harbor", "dana@brook.org").status_code == 401
    assert sign_in(client, "", "dana@brook.org").status_code == 400  # no program chosen: nothing tried
    assert sign_in(client, "elsewhere", "dana@brook.org").status_code == 400
    assert sign_in(client, "brook", "dana@brook.org").status_code == 302
    assert 'id="program-name">Roaring Brook Recovery<' in client.get("/staff/inbox/").get_data(as_text=True)


def test_staff_see_only_the_program_signed_in_to_and_get_404_for_the_others_people(console, people):
    account(console, "brook", "dana@brook.org")
    client = console.test_client()
    sign_in(client, "brook", "dana@brook.org")
    inbox = client.get("/staff/inbox/").get_data(as_text=True)
    assert "*******0123" in inbox and "*******0124" not in inbox
    harbor_person = program(console, "harbor").vault.person_key(OTHER)
    for path in (f"/staff/inbox/{harbor_person}", f"/staff/contacts/{harbor_person}"):
        assert client.get(path).status_code == 404, path
    brook_person = program(console, "brook").vault.person_key(NUMBER)
    assert client.get(f"/staff/inbox/{brook_person}").status_code == 200


def test_an_account_in_two_programs_has_a_role_in_each_and_switches_by_signing_in_again(console, people):
    account(console, "brook", "sam@center.org", accounts.Role.ADMIN)
    account(console, "harbor", "sam@center.org", accounts.Role.STAFF)
    client = console.test_client()
    sign_in(client, "brook", "sam@center.org")
    assert client.get("/staff/settings/").status_code == 200  # an admin at Brook
    page = client.get("/staff/inbox/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert "Switch program" in page
    switched = client.post("/staff/logout", data={"csrf_token": token, "switch": "1"})
    assert switched.status_code == 302 and switched.location.endswith("/staff/login")
    assert client.get("/staff/inbox/").status_code == 302  # signed out of Brook
    sign_in(client, "harbor", "sam@center.org")
    assert client.get("/staff/settings/").status_code == 403  # staff, not admin, at Harbor Light
    inbox = client.get("/staff/inbox/").get_data(as_text=True)
    assert "*******0124" in inbox and "*******0123" not in inbox
    assert 'id="program-name">Harbor Light Center<' in inbox


@pytest.fixture
def in_both(console):
    """A member of both programs, signed in to Brook."""
    account(console, "brook", "dana@brook.org")
    account(console, "harbor", "dana@brook.org")
    client = console.test_client()
    sign_in(client, "brook", "dana@brook.org")
    return client


def test_a_session_opens_only_in_the_redis_its_cookie_names(in_both):
    client = in_both
    value = client.get_cookie("session").value
    assert value.startswith("brook.")
    client.set_cookie("session", "harbor." + value.split(".", 1)[1])  # Brook's token, said to be Harbor's
    assert client.get("/staff/inbox/").status_code == 302  # nobody: Harbor's Redis never issued it
    client.set_cookie("session", value.split(".", 1)[1])  # no program at all
    assert client.get("/staff/inbox/").status_code == 302


def test_signing_in_to_another_program_ends_the_first_session(console, in_both):
    client = in_both
    first = client.get_cookie("session").value
    sign_in(client, "harbor", "dana@brook.org")
    copy = console.test_client()
    copy.set_cookie("session", first)
    assert copy.get("/staff/inbox/").status_code == 302  # the Brook session ended in Brook's Redis


def test_an_api_token_reaches_its_own_program_only(console, people):
    token, _ = apitokens.create(program(console, "harbor").redis, "ehr", "tests", NOON)
    api = console.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get(f"/api/v1/contacts/{OTHER}", headers=headers).status_code in (200, 404)
    assert api.get(f"/api/v1/contacts/{NUMBER}", headers=headers).status_code == 404  # Brook's texter
    made = api.put(f"/api/v1/contacts/{NUMBER}", json={"consent": {"source": "intake form", "at": "2026-12-01T10:00:00-05:00"}}, headers=headers)
    assert made.status_code in (200, 201), made.get_data(as_text=True)
    harbor = program(console, "harbor")
    assert harbor.redis.exists(keys.of(harbor.redis).contact(harbor.vault.person_key(NUMBER)))
    brook = program(console, "brook")
    assert accounts.audit_log(brook.redis) == [] or all(e["who"] != "api:ehr" for e in accounts.audit_log(brook.redis))
    assert api.get(f"/api/v1/contacts/{NUMBER}", headers={"Authorization": "Bearer sk_nope"}).status_code == 401


def test_ops_see_every_programs_health_and_queues(console):
    account(console, "harbor", "ops@center.org", accounts.Role.OPS)
    client = console.test_client()
    sign_in(client, "harbor", "ops@center.org")
    page = client.get("/staff/ops").get_data(as_text=True)
    table = page.split('id="every-program"')[1].split("</table>")[0]
    assert "Roaring Brook Recovery" in table and "Harbor Light Center" in table
    assert client.get("/staff/rq/0/data/queues.json").status_code == 200
    assert client.get("/staff/rq/1/data/queues.json").status_code == 200  # both programs' RQ


def test_a_console_given_program_serves_that_program_alone(env):  # noqa: F811 - the fixture
    one = create_app(env, clock=ManualClock(NOON), surface="console")  # PROGRAM=brook
    assert 'name="program"' not in one.test_client().get("/staff/login").get_data(as_text=True)
    accounts.create(svc_of(one).redis, "dana@brook.org", PASSWORD, accounts.Role.STAFF, now=NOON, method=CHEAP_HASH)
    client = one.test_client()
    assert client.post("/staff/login", data={"email": "dana@brook.org", "password": PASSWORD,
                                             "csrf_token": _login_token(client)}).status_code == 302
    assert not client.get_cookie("session").value.startswith("brook.")


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_in_a_browser_a_member_of_two_programs_signs_in_to_one_and_switches(console, people, width):
    import threading

    from werkzeug.serving import make_server

    from devtools.embedded_redis import free_port
    from tests.staff.browser import HAVE_CHROMIUM, axe_violations, chromium
    if not HAVE_CHROMIUM:
        pytest.skip("no Chromium on this machine")
    account(console, "brook", "sam@center.org")
    account(console, "harbor", "sam@center.org")
    port = free_port()
    httpd = make_server("127.0.0.1", port, console, threaded=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        with chromium() as browser:
            page = browser.new_context(viewport={"width": width, "height": 844}, bypass_csp=True).new_page()
            page.goto(f"http://127.0.0.1:{port}/staff/")
            assert axe_violations(page) == []  # the program chooser is labelled and reachable
            page.select_option("select[name=program]", label="Harbor Light Center")
            page.fill("input[name=email]", "sam@center.org")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#program-name")
            assert page.inner_text("#program-name") == "Harbor Light Center"
            assert "*******0124" in page.inner_text("main") and "*******0123" not in page.inner_text("main")
            assert axe_violations(page) == []
            page.click("nav summary")
            page.click("text=Switch program")
            page.select_option("select[name=program]", label="Roaring Brook Recovery")
            page.fill("input[name=email]", "sam@center.org")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#program-name >> text=Roaring Brook Recovery")
            assert "*******0123" in page.inner_text("main") and "*******0124" not in page.inner_text("main")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        httpd.shutdown()


def test_an_api_token_decides_the_program_even_beside_another_programs_session(console, people, in_both):
    token, _ = apitokens.create(program(console, "harbor").redis, "ehr", "tests", NOON)
    client = in_both  # signed in to Brook in the same client
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/contacts/{NUMBER}", headers=headers).status_code == 404  # Brook's texter, not Harbor's
    made = client.put(f"/api/v1/contacts/{NUMBER}", json={"consent": {"source": "intake form",
                                                                       "at": "2026-12-01T10:00:00-05:00"}},
                      headers=headers)
    assert made.status_code == 201
    harbor, brook = program(console, "harbor"), program(console, "brook")
    assert [e["who"] for e in accounts.audit_log(harbor.redis)][:1] == ["api:ehr"]
    assert all(e["who"] != "api:ehr" for e in accounts.audit_log(brook.redis))


def test_the_live_inbox_and_the_simulator_are_each_programs_own(console, people):
    account(console, "brook", "dana@brook.org")
    account(console, "harbor", "lee@harbor.org")
    brook, harbor = console.test_client(), console.test_client()
    sign_in(brook, "brook", "dana@brook.org")
    sign_in(harbor, "harbor", "lee@harbor.org")
    assert "*******0123" in brook.get("/staff/inbox/?fragment=1").get_data(as_text=True)
    rows = harbor.get("/staff/inbox/?fragment=1").get_data(as_text=True)  # within the same second
    assert "*******0124" in rows and "*******0123" not in rows
    for client, name, title in ((brook, "brook", "Roaring Brook Recovery"), (harbor, "harbor", "Harbor Light Center")):
        page = client.get("/staff/simulator/").get_data(as_text=True)  # each program's simulator, its own program
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/staff/simulator/send", data={"csrf_token": token, "body": "HELP"}).status_code == 302
        assert title in client.get("/staff/simulator/").get_data(as_text=True)
        svc = program(console, name)
        assert svc.redis.exists(keys.of(svc.redis).transcript(svc.vault.person_key(SIMULATED)))


def test_one_programs_outage_leaves_the_others_api_sign_in_and_ops_working(env, redis):  # noqa: F811 - the fixture
    from devtools.embedded_redis import free_port
    down = {k: v for k, v in env.items() if k != "PROGRAM"}
    down["REDIS_URL_BROOK"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there; Brook is looked at first
    down["REDIS_URL_HARBOR"] = env["REDIS_URL_BROOK"]
    console = create_app(down, clock=ManualClock(NOON), surface="console")
    harbor = program(console, "harbor")
    token, _ = apitokens.create(harbor.redis, "ehr", "tests", NOON)
    api = console.test_client()
    assert api.get(f"/api/v1/contacts/{NUMBER}", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    unknown = api.get(f"/api/v1/contacts/{NUMBER}", headers={"Authorization": "Bearer sk_x_y"})
    assert unknown.status_code == 503 and unknown.json["error"].startswith("Authorization:")  # maybe Brook's: retry
    account(console, "harbor", "ops@center.org", accounts.Role.OPS)
    client = console.test_client()
    client.set_cookie("session", "brook.a-token-of-the-program-that-is-down")
    assert client.get("/staff/login").status_code == 200  # not a 500: sign in to another program meanwhile
    assert sign_in(client, "harbor", "ops@center.org").status_code == 302
    page = client.get("/staff/ops").get_data(as_text=True)
    assert "its Redis does not answer" in page and "Harbor Light Center" in page
    ready = client.get("/readyz")  # Brook's Redis down, and no worker runs for either here
    assert ready.status_code == 503 and ready.json["not_ready"] == ["brook", "harbor"]
    assert ready.json["programs"]["brook"]["redis"] is False and ready.json["programs"]["harbor"]["redis"] is True


class Silent:
    """A TCP port that takes connections and never answers: a hung Redis. Counts the connections."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port, self.accepted, self.held = self.sock.getsockname()[1], 0, []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


def test_a_hung_programs_redis_is_not_waited_on_again_at_once(env, redis):  # noqa: F811 - the fixture
    hung = Silent()
    try:
        config = {k: v for k, v in env.items() if k != "PROGRAM"}
        config.update(REDIS_URL_BROOK=f"redis://127.0.0.1:{hung.port}/0", REDIS_URL_HARBOR=env["REDIS_URL_BROOK"])
        console = create_app(config, clock=ManualClock(NOON), surface="console")
        token, _ = apitokens.create(program(console, "harbor").redis, "ehr", "tests", NOON)
        api, headers = console.test_client(), {"Authorization": f"Bearer {token}"}
        assert api.get(f"/api/v1/contacts/{NUMBER}", headers=headers).status_code == 404  # waited out Brook once
        tried = hung.accepted
        assert tried >= 1
        assert api.get(f"/api/v1/contacts/{NUMBER}", headers=headers).status_code == 404
        assert api.get("/readyz").json["programs"]["brook"]["redis"] is False
        assert hung.accepted == tried  # Brook was skipped: no new connection, no second wait
    finally:
        hung.close()


def test_choosing_another_program_buys_an_address_no_more_sign_in_tries(console):
    account(console, "harbor", "lee@harbor.org")
    client = console.test_client()
    tries = []
    for i in range(8):  # wrong passwords, alternating the program chosen
        tries.append(client.post("/staff/login", data={"email": "lee@harbor.org", "password": "wrong password!",
                                                       "program": ("brook", "harbor")[i % 2],
                                                       "csrf_token": _login_token(client)}).status_code)
    assert tries[:5] == [401] * 5 and 429 in tries[5:]  # five free tries in all, not five per program
