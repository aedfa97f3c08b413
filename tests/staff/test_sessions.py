"""Sessions kept server-side, sign-in throttling without a lock attackers control, security headers,
the console apart from Twilio's endpoints, and a read-only RQ dashboard."""
import pytest
from rq.registry import FailedJobRegistry

from service import create_app, queues
from service.store import accounts, logins
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, NOON, make_env
from tests.staff.test_staff import PASSWORD, csrf, login


@pytest.fixture
def console(redis_url, redis, clock):
    app = create_app(make_env(redis_url), clock=clock)
    for role in Role:
        accounts.create(redis, f"{role.value}@center.org", PASSWORD, role, now=NOON, method=CHEAP_HASH)
    return app


def sign_in(client, email, password=PASSWORD, address="10.0.0.1"):
    return client.post("/staff/login", data={"email": email, "password": password, "csrf_token": csrf(client)},
                       environ_base={"REMOTE_ADDR": address})


# -- sessions -------------------------------------------------------------------------------------------

def test_a_cookie_copied_before_logout_opens_nothing_after_it(console):
    staff = login(console, "admin")
    cookie = staff.get_cookie("session").value
    assert staff.get("/staff/settings/").status_code == 200
    staff.post("/staff/logout", data={"csrf_token": staff.token})
    thief = console.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/staff/settings/").status_code == 302  # to the sign-in page


def test_the_cookie_holds_a_random_token_and_redis_only_its_digest(console, redis):
    staff = login(console)
    token = staff.get_cookie("session").value
    assert "staff@center.org" not in token and len(token) >= 40
    assert not any(token.encode() in k for k in redis.keys("sms:{main}:session:*"))


def test_sign_in_gets_a_new_token(console):
    client = console.test_client()
    sign_in(client, "staff@center.org")
    before = client.get_cookie("session").value
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/simulator/")})
    client.set_cookie("session", "planted-by-an-attacker-0123456789abcdef0123")  # session fixation
    sign_in(client, "staff@center.org")
    assert client.get_cookie("session").value not in ("planted-by-an-attacker-0123456789abcdef0123", before)


def test_an_anonymous_visit_to_the_sign_in_page_stores_no_session(console, redis):
    before = set(redis.keys("sms:{main}:session:*"))
    client = console.test_client()
    for _ in range(5):
        assert client.get("/staff/login").status_code == 200
    assert client.get_cookie("session") is None and set(redis.keys("sms:{main}:session:*")) == before
    assert client.get_cookie("login_csrf", path="/staff/login") is not None  # the form's token, in a cookie


def test_the_sign_in_form_needs_its_own_token_from_the_same_browser(console):
    page = console.test_client().get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    other = console.test_client()  # a forged form: the token without the cookie that goes with it
    forged = other.post("/staff/login", data={"email": "staff@center.org", "password": PASSWORD, "csrf_token": token})
    assert forged.status_code == 400 and other.get_cookie("session") is None


@pytest.mark.parametrize("change", ["password", "disable", "reset"])
def test_password_change_disable_and_reset_end_every_session(console, redis, change):
    phone_a, phone_b = login(console), login(console)
    if change == "password":
        accounts.set_password(redis, "staff@center.org", "another long password")
    elif change == "disable":
        accounts.set_disabled(redis, "staff@center.org", True)
    else:
        console.test_cli_runner().invoke(args=["staff", "create", "staff@center.org", "--role", "staff"],
                                         input="another long password\nanother long password\n")
    for client in (phone_a, phone_b):
        assert client.get("/staff/callbacks").status_code == 302


def test_idle_and_absolute_timeouts(console, clock):
    staff = login(console)
    clock.advance(29 * 60)
    assert staff.get("/staff/callbacks").status_code == 200  # activity keeps it alive
    clock.advance(29 * 60)
    assert staff.get("/staff/callbacks").status_code == 200
    clock.advance(31 * 60)
    assert staff.get("/staff/callbacks").status_code == 302  # idle over 30 minutes
    busy = login(console)
    for _ in range(12 * 4):
        clock.advance(15 * 60)
        status = busy.get("/staff/callbacks").status_code
    assert status == 302  # 12 hours after sign-in, however busy


def test_timeouts_are_configurable(redis_url, redis, clock):
    app = create_app(make_env(redis_url, SESSION_IDLE_MINUTES="5", SESSION_MAX_HOURS="1"), clock=clock)
    accounts.create(redis, "staff@center.org", PASSWORD, Role.STAFF, now=NOON, method=CHEAP_HASH)
    staff = login(app)
    clock.advance(6 * 60)
    assert staff.get("/staff/callbacks").status_code == 302


# -- sign-in throttling -----------------------------------------------------------------------------------

@pytest.mark.parametrize("email", ["staff@center.org", "nobody@center.org"])
def test_failures_count_for_known_and_unknown_emails_alike(console, email):
    client = console.test_client()
    answers = [sign_in(client, email, "wrong password!").status_code for _ in range(logins.FREE_TRIES + 1)]
    assert answers == [401] * logins.FREE_TRIES + [429]


def test_throttled_guesses_are_refused_before_hashing_and_the_wait_grows(console, clock, monkeypatch):
    client = console.test_client()
    for _ in range(logins.FREE_TRIES):
        sign_in(client, "staff@center.org", "wrong password!")
    hashed = []
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: hashed.append(1) or False)
    assert sign_in(client, "staff@center.org", "wrong password!").status_code == 429 and hashed == []
    clock.advance(2)
    assert sign_in(client, "staff@center.org", "wrong password!").status_code == 401
    page = sign_in(client, "staff@center.org", "wrong password!")
    assert page.status_code == 429 and "Try again in 4 seconds" in page.get_data(as_text=True)


def test_an_attacker_cannot_lock_the_real_user_out(console, clock):
    attacker = console.test_client()
    for _ in range(40):
        sign_in(attacker, "staff@center.org", "guess guess guess", address="203.0.113.9")
        clock.advance(1)
    real = console.test_client()  # at once, from their own address: never delayed by the attacker's failures
    assert sign_in(real, "staff@center.org", address="198.51.100.7").status_code == 302


def test_failures_from_many_addresses_never_block_the_right_password_and_are_audited(console, clock, redis):
    for i in range(logins.ATTACK_FAILURES):
        sign_in(console.test_client(), "staff@center.org", "guess guess guess", address=f"203.0.113.{i}")
    assert sign_in(console.test_client(), "staff@center.org", address="198.51.100.7").status_code == 302
    assert any(e["action"] == "sign_in_failures" for e in accounts.audit_log(redis))


def test_throttled_tries_do_not_make_the_wait_grow(console, clock):
    client = console.test_client()
    for _ in range(logins.FREE_TRIES):
        sign_in(client, "staff@center.org", "wrong password!")
    for _ in range(30):  # refused while waiting: never counted
        assert sign_in(client, "staff@center.org", "wrong password!").status_code == 429
    clock.advance(2)
    assert sign_in(client, "staff@center.org").status_code == 302  # the right password after the 2 s wait


# -- headers -------------------------------------------------------------------------------------------------

def test_every_console_page_carries_security_headers(console, redis):
    from tests.conftest import Phone
    Phone(console.test_client()).text("SIGNS")
    admin = login(console, "admin")
    pk = next(iter(redis.zrange("sms:{main}:contacts:recent", 0, 0))).decode()
    for path in ("/staff/login", "/staff/callbacks", f"/staff/people/{pk}", "/staff/flows/", "/staff/ops"):
        headers = admin.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
    export = admin.post(f"/staff/people/{pk}/export", data={"csrf_token": admin.token})
    assert export.headers["Cache-Control"] == "no-store" and "frame-ancestors 'none'" in export.headers[
        "Content-Security-Policy"]
    for path in ("/staff/callbacks", "/staff/flows/", f"/staff/people/{pk}"):
        assert "<script>" not in admin.get(path).get_data(as_text=True)  # no inline script anywhere


# -- the console apart from Twilio's endpoints --------------------------------------------------------------

def test_the_webhook_process_serves_no_console_and_the_console_no_webhook(redis_url, redis, clock):
    from tests.conftest import Phone, replies
    env = make_env(redis_url)
    web, console = (create_app(env, clock=clock, surface=s) for s in ("twilio", "console"))
    assert web.test_client().get("/staff/login").status_code == 404
    assert replies(Phone(web.test_client()).text("SIGNS"))
    assert Phone(console.test_client()).text("SIGNS").status_code == 404
    accounts.create(redis, "staff@center.org", PASSWORD, Role.STAFF, now=NOON, method=CHEAP_HASH)
    staff = login(console)
    staff.post("/staff/simulator/send", data={"csrf_token": staff.token, "body": "SIGNS"})
    assert "constricted" in staff.get("/staff/simulator/").get_data(as_text=True)  # still the real webhook


# -- the RQ dashboard, read-only ------------------------------------------------------------------------------

def failed_job(redis, description_arg="x"):
    queue = queues.queue(redis, queues.ALERTS)
    job = queue.enqueue("workers.jobs.send_message", description_arg, job_id="broken1")
    job.set_status("failed")
    FailedJobRegistry(queue=queue).add(job, exc_string="Traceback...\nValueError: <img src=x onerror=alert(1)>")
    queue.remove(job)
    return queue


@pytest.mark.parametrize("method,path", [("POST", "/staff/rq/job/broken1/requeue"), ("HEAD", "/staff/rq/requeue/alerts"),
                                         ("GET", "/staff/rq/requeue/alerts"), ("POST", "/staff/rq/requeue/alerts"),
                                         ("POST", "/staff/rq/job/broken1/delete"),
                                         ("POST", "/staff/rq/queue/alerts/failed/empty"),
                                         ("PUT", "/staff/rq/0/view/queues")])
def test_the_rq_dashboard_changes_nothing(console, redis, method, path):
    queue = failed_job(redis)
    ops = login(console, "ops")
    assert ops.open(path, method=method).status_code == 405
    assert FailedJobRegistry(queue=queue).count == 1


def test_the_rq_dashboard_escapes_what_it_shows(console, redis):
    failed_job(redis, "<script>alert(1)</script>")
    ops = login(console, "ops")
    data = ops.get("/staff/rq/0/data/job/broken1.json").get_data(as_text=True)
    assert "<script>" not in data and "&lt;script&gt;" in data and "<img" not in data
    page = ops.get("/staff/rq/0/view/job/broken1")
    assert page.status_code == 200 and "'sha256-" in page.headers["Content-Security-Policy"]
