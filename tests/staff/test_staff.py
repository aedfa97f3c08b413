"""The staff console through Flask's test client: auth, roles, CSRF, lockout, callbacks, people, flows."""
import re

import pytest
from rq import Queue

from service import queues
from service.store import accounts, callbacks, flowdocs as flowstore, keys, people
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, NOON, Phone, make_env, replies, svc_of

PASSWORD = "correct horse battery"


@pytest.fixture
def staff_app(redis_url, redis, clock):
    from service import create_app
    app = create_app(make_env(redis_url), clock=clock)
    r = svc_of(app).redis
    for role in Role:
        accounts.create(r, f"{role.value}@center.org", PASSWORD, role, now=NOON, method=CHEAP_HASH)
    return app


def csrf(client, path="/staff/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def login(app, role: str = "staff"):
    client = app.test_client()
    token = csrf(client)
    response = client.post("/staff/login", data={"email": f"{role}@center.org", "password": PASSWORD,
                                                 "csrf_token": token})
    assert response.status_code == 302
    client.token = csrf(client, "/staff/simulator/" if role != "ops" else "/staff/ops")
    return client


def test_anonymous_sees_only_the_login_page(staff_app):
    client = staff_app.test_client()
    for path in ("/staff/", "/staff/callbacks", "/staff/flows/", "/staff/simulator/", "/staff/ops"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.location
    assert client.get("/staff/login").status_code == 200


def test_login_requires_csrf(staff_app):
    response = staff_app.test_client().post("/staff/login", data={"email": "staff@center.org", "password": PASSWORD})
    assert response.status_code == 400


def test_roles_are_checked_on_every_page(staff_app):
    staff, ops, admin = login(staff_app, "staff"), login(staff_app, "ops"), login(staff_app, "admin")
    assert staff.get("/staff/flows/").status_code == 403
    assert ops.get("/staff/callbacks").status_code == 403
    assert staff.get("/staff/ops").status_code == 403
    assert admin.get("/staff/flows/").status_code == 200 and admin.get("/staff/callbacks").status_code == 200
    assert ops.get("/staff/ops").status_code == 200


def test_session_cookie_is_http_only(staff_app):
    client = staff_app.test_client()
    token = csrf(client)
    response = client.post("/staff/login", data={"email": "staff@center.org", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie  # PUBLIC_BASE_URL is https


def test_callback_claim_outcome_and_audited_reveal(staff_app, redis):
    Phone(staff_app.test_client()).text("CALL <script>alert(1)</script>")
    client = login(staff_app)
    page = client.get("/staff/callbacks").get_data(as_text=True)
    assert "*******0123" in page and "+16175550123" not in page
    [cb] = callbacks.waiting(redis, svc_of(staff_app).vault)
    revealed = client.post(f"/staff/people/{cb.person}/reveal", data={"csrf_token": client.token})
    assert "+16175550123" in revealed.get_data(as_text=True)
    assert "+16175550123" not in client.get(f"/staff/callbacks?reveal={cb.id}").get_data(as_text=True)
    assert accounts.audit_log(redis)[0]["action"] == "reveal_number"
    client.post(f"/staff/callbacks/{cb.id}/claim", data={"csrf_token": client.token})
    assert "Claimed by staff@center.org" in client.get("/staff/callbacks").get_data(as_text=True)
    client.post(f"/staff/callbacks/{cb.id}/outcome", data={"csrf_token": client.token, "outcome": "reached",
                                                          "note": "talked"})
    assert redis.zcard(keys.of(redis).CALLBACKS_WAITING) == 0


def test_no_answer_returns_to_the_queue(staff_app, redis):
    Phone(staff_app.test_client()).text("CALL")
    client = login(staff_app)
    [cb] = callbacks.waiting(redis, svc_of(staff_app).vault)
    client.post(f"/staff/callbacks/{cb.id}/claim", data={"csrf_token": client.token})
    client.post(f"/staff/callbacks/{cb.id}/outcome", data={"csrf_token": client.token, "outcome": "no_answer"})
    [again] = callbacks.waiting(redis, svc_of(staff_app).vault)
    assert again.state.value == "waiting" and again.attempts == 1


def test_texted_html_is_escaped(staff_app):
    Phone(staff_app.test_client()).text("CALL <script>alert(1)</script> overdose")
    page = login(staff_app).get("/staff/callbacks").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_person_page_export_and_delete(staff_app, redis):
    phone = Phone(staff_app.test_client())
    phone.text("SIGNS")
    phone.text("CALL he overdosed")
    pk = svc_of(staff_app).vault.person_key(phone.number)
    staff = login(staff_app)
    page = staff.get(f"/staff/people/{pk}", follow_redirects=True).get_data(as_text=True)
    assert "constricted" in page and "+16175550123" not in page
    assert staff.post(f"/staff/people/{pk}/export", data={"csrf_token": staff.token}).status_code == 403
    admin = login(staff_app, "admin")
    exported = admin.post(f"/staff/people/{pk}/export", data={"csrf_token": admin.token})
    assert exported.status_code == 200 and exported.json["phone"] == phone.number
    admin.post(f"/staff/people/{pk}/delete", data={"csrf_token": admin.token})
    assert not redis.exists(f"sms:{{main}}:t:{pk}") and not redis.hget(f"sms:{{main}}:p:{pk}", "phone")
    assert redis.zcard(keys.of(redis).CALLBACKS_WAITING) == 0 and redis.zcard(keys.of(redis).CRISIS_OPEN) == 0
    assert not redis.keys("sms:{main}:callback:*") and not redis.keys("sms:{main}:crisis-flag:*")
    assert not redis.keys("sms:{main}:inbound:*") and not redis.exists(f"sms:{{main}}:p:{pk}")
    trail = people.consent_history(redis, pk)  # when and which word, as a carrier audit needs; no MessageSid
    assert trail and all("sid" not in entry for entry in trail)
    [work] = [k.decode().split(":")[-1] for k in redis.keys("sms:{main}:erasure:*")]  # Twilio's copies: a worker's job
    assert queues.queue(redis, queues.MAINTENANCE).job_ids == [f"main-erase-at-provider-{work}"]
    from workers.erasure import erase_at_provider
    from workers.runtime import make_runtime
    erase_at_provider(make_runtime(svc_of(staff_app)), work)
    assert {k.decode() for k in redis.keys(f"sms:{{main}}:*{pk}*")} == {f"sms:{{main}}:consent:{pk}", f"sms:{{main}}:erased:{pk}"}
    assert [e["action"] for e in accounts.audit_log(redis)][:3] == ["delete_person", "export_person",
                                                                     "view_conversation"]


def test_simulator_refuses_real_numbers(staff_app):
    assert login(staff_app).get("/staff/simulator/?number=%2B16172531234").status_code == 400


def test_flask_staff_create_command(staff_app, redis):
    result = staff_app.test_cli_runner().invoke(args=["staff", "create", "new@center.org", "--role", "ops"],
                                                input="a long enough password\na long enough password\n")
    assert "created new@center.org (ops)" in result.output
    assert accounts.get(redis, "new@center.org").role is Role.OPS
    short = staff_app.test_cli_runner().invoke(args=["staff", "create", "x@center.org", "--role", "ops"],
                                               input="short\nshort\n")
    assert short.exit_code != 0 and "12 characters" in short.output


def test_unclaimed_callback_escalates_once_in_business_hours(redis_url, redis, clock):
    from datetime import datetime
    from zoneinfo import ZoneInfo
    from rq import Queue
    from service import create_app
    from workers.escalation import escalate
    from workers.runtime import make_runtime
    app = create_app(make_env(redis_url, STAFF_ALERT_NUMBERS="+16175550100"), clock=clock)
    Phone(app.test_client()).text("CALL")  # Wednesday noon
    rt = make_runtime(svc_of(app))
    alerts_queue = queues.queue(redis, queues.ALERTS)
    before = alerts_queue.count
    clock.set(datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("America/New_York")).timestamp())
    assert escalate(rt) == []  # Saturday: nobody is in to call back
    clock.set(NOON + 16 * 60)
    assert len(escalate(rt)) == 1
    clock.advance(60)
    assert escalate(rt) == []  # once
    assert alerts_queue.count == before + 1


def test_ops_page_shows_failed_jobs_and_requeues_them(staff_app, redis):
    from rq import Queue
    from rq.registry import FailedJobRegistry
    Phone(staff_app.test_client()).text("SIGNS")
    queue = queues.queue(redis, queues.ALERTS)
    job = queue.enqueue("workers.jobs.send_message", "no-such-message-module-error", job_id="broken1")
    job.set_status("failed")
    FailedJobRegistry(queue=queue).add(job, exc_string="Traceback...\nValueError: boom")
    queue.remove(job)
    ops = login(staff_app, "ops")
    page = ops.get("/staff/ops").get_data(as_text=True)
    assert "broken1" in page and "Pending follow-ups by day" in page and "No worker is running" in page
    ops.post("/staff/ops/jobs/broken1/requeue", data={"csrf_token": ops.token})
    assert queue.count == 1 and FailedJobRegistry(queue=queue).count == 0
    assert accounts.audit_log(redis)[0]["action"] == "requeue_job"
    assert ops.post("/staff/ops/jobs/nope/delete", data={"csrf_token": ops.token}).status_code == 404


def test_settings_change_the_flood_limit_and_are_validated(staff_app, redis):
    admin = login(staff_app, "admin")
    assert login(staff_app, "staff").get("/staff/settings/").status_code == 403
    bad = admin.post("/staff/settings/", data={"csrf_token": admin.token, "REPLIES_PER_HOUR": "lots"})
    assert bad.status_code == 422 and "REPLIES_PER_HOUR must be a whole number from 1 to" in bad.get_data(as_text=True)
    bad_hours = admin.post("/staff/settings/", data={"csrf_token": admin.token, "SEND_HOURS": "whenever"})
    assert bad_hours.status_code == 422
    admin.post("/staff/settings/", data={"csrf_token": admin.token, "REPLIES_PER_HOUR": "2",
                                         "STAFF_ALERT_NUMBERS": "+1 617 253 1000"})
    phone = Phone(staff_app.test_client())
    assert [bool(replies(phone.text(f"hi {i}"))) for i in range(3)] == [True, True, False]
    assert accounts.audit_log(redis)[0]["action"] == "save_settings"
    from rq import Queue
    Phone(staff_app.test_client(), "+16175550155").text("CALL")
    assert queues.queue(redis, queues.ALERTS).count == 1  # the on-call number from the console


def test_rq_dashboard_is_behind_the_ops_role(staff_app):
    anonymous = staff_app.test_client().get("/staff/rq/")
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.location
    assert login(staff_app, "staff").get("/staff/rq/").status_code == 403
    ops = login(staff_app, "ops")
    assert ops.get("/staff/rq/").status_code == 200
    queues = ops.get("/staff/rq/0/data/queues.json")
    assert queues.status_code == 200 and "queues" in queues.json


def test_conversation_list_is_masked_and_newest_first(staff_app, clock):
    Phone(staff_app.test_client(), "+16175550101").text("SIGNS")
    clock.advance(60)
    Phone(staff_app.test_client(), "+16175550102").text("STOP")
    page = login(staff_app).get("/staff/people/", follow_redirects=True).get_data(as_text=True)
    assert page.index("*******0102") < page.index("*******0101") and "opted out" in page
    assert "+16175550101" not in page


def test_resolving_an_unknown_crisis_id_is_refused(staff_app, redis):
    client = login(staff_app)
    assert client.post("/staff/crisis/open/resolve", data={"csrf_token": client.token,
                                                          "outcome": "reached_safe"}).status_code == 404
    assert replies(Phone(staff_app.test_client()).text("he overdosed"))  # crisis handling still works


def test_settings_refuse_absurd_numbers(staff_app):
    admin = login(staff_app, "admin")
    bad = admin.post("/staff/settings/", data={"csrf_token": admin.token, "CALLBACK_WITHIN_MINUTES": "99999999999"})
    assert bad.status_code == 422 and "from 1 to 100000" in bad.get_data(as_text=True)


def test_dashboard_requeue_by_link_is_refused(staff_app):
    assert login(staff_app, "ops").get("/staff/rq/requeue/followups").status_code == 405


def test_settings_change_program_name_and_number_as_a_new_flows_version(staff_app, redis):
    admin = login(staff_app, "admin")
    page = admin.get("/staff/settings/").get_data(as_text=True)
    assert 'value="Roaring Brook Recovery"' in page and 'value="855.590.9944"' in page
    admin.post("/staff/settings/", data={"csrf_token": admin.token, "program": "Roaring Brook Recovery",
                                         "phone": "855.590.0000"})
    assert flowstore.published_version(redis) == 1
    assert "855.590.0000" in replies(Phone(staff_app.test_client()).text("HELP"))[0]
    bad = admin.post("/staff/settings/", data={"csrf_token": admin.token, "program": "Rōaring \u2014 Brook",
                                               "phone": "855.590.0000"})
    assert bad.status_code == 422 and flowstore.published_version(redis) == 1
    typo = admin.post("/staff/settings/", data={"csrf_token": admin.token, "program": "Roaring Brook Recovery",
                                                "phone": "855.590.99"})
    assert typo.status_code == 422 and "not a phone number" in typo.get_data(as_text=True)


def test_logout_ends_the_session(staff_app):
    client = login(staff_app)
    assert client.get("/staff/callbacks").status_code == 200
    client.post("/staff/logout", data={"csrf_token": client.token})
    assert client.get("/staff/callbacks").status_code == 302


def test_metrics_readable_by_a_signed_in_ops_account(staff_app):
    assert staff_app.test_client().get("/metrics").status_code == 401
    assert login(staff_app, "staff").get("/metrics").status_code == 401
    assert "sms_webhook_requests" in login(staff_app, "ops").get("/metrics").get_data(as_text=True)


def test_call_back_notes_are_encrypted_at_rest(staff_app, redis):
    Phone(staff_app.test_client()).text("CALL")
    staff = login(staff_app)
    [cb] = callbacks.waiting(redis, svc_of(staff_app).vault)
    staff.post(f"/staff/callbacks/{cb.id}/claim", data={"csrf_token": staff.token})
    note = "Left voicemail for Maria at 617-555-0123, call after 6"
    staff.post(f"/staff/callbacks/{cb.id}/outcome", data={"csrf_token": staff.token, "outcome": "no_answer",
                                                         "note": note})
    raw = b"".join(v for v in redis.hgetall(keys.of(redis).callback(cb.id)).values())
    assert b"Maria" not in raw and b"voicemail" not in raw
    [again] = callbacks.waiting(redis, svc_of(staff_app).vault)
    assert again.notes[0]["note"] == note


def test_a_simulated_crisis_pages_no_real_staff_and_texts_no_phone(redis_url, redis, fake, clock):
    """Three simulated "overdosed" texts used to queue three real staff alerts in production."""
    from rq import Queue
    from service import create_app
    from service.store import outbox
    from workers.jobs import send_message  # noqa: F401
    from workers.delivery import deliver
    from workers.runtime import make_runtime
    app = create_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                              STAFF_ALERT_NUMBERS="+16175559999"), clock=clock)
    accounts.create(redis, "staff@center.org", PASSWORD, Role.STAFF, now=NOON, method=CHEAP_HASH)
    staff = login(app)
    page = staff.get("/staff/simulator/").get_data(as_text=True)
    assert "pages nobody" in page
    staff.post("/staff/simulator/send", data={"csrf_token": staff.token, "body": "my friend overdosed"})
    rt = make_runtime(svc_of(app))
    for job in queues.queue(redis, queues.ALERTS).jobs:
        deliver(rt, job.args[0])
    assert fake.received == []  # Twilio never heard of it
    assert [m["to"] for m in outbox.read(redis, svc_of(app).vault)] == ["+16175559999"]
