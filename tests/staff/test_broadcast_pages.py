"""The console's Broadcasts through Flask's test client: the list, a new broadcast (a text per language, the
group or everyone, the time) with its exact preview (how many get it, how many are held back and why)
before Send, a broadcast's page with its funnel, Cancel and Resend to failed; who may do what (admins and
staff send; ops only look: 403 on every POST, and nothing changes); every action audited. The sends are
played in-process by workers.broadcast against the fake Twilio."""
import html
import re

import pytest

from service import handoff, queues
from service.store import accounts, broadcasts, keys
from service.store.accounts import Role
from service.store.broadcasts import Status
from tests.conftest import ACCOUNT_SID, CHEAP_HASH, NOON, Phone, make_env, post_signed, svc_of
from tests.staff.browser import MARKS as BROWSER, chromium, console as serve, sign_in  # slow, and Chromium
from tests.staff.test_browser_inbox import ServerPhone
from tests.staff.test_contacts_pages import put, text_of, words
from tests.staff.test_staff import PASSWORD, login
from workers import broadcast
from workers.runtime import make_runtime

CONSENT = {"source": "intake form", "at": "2026-11-20T10:00:00-05:00"}
A, B, C, D, E = "+16175550141", "+16175550142", "+16175550143", "+16175550144", "+16175550145"


@pytest.fixture
def env(redis_url, redis, fake):
    return make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944")


@pytest.fixture
def console(app, redis):
    """Accounts for every role and a group `clinic` of five: two who get a broadcast, one opted out, one
    without consent, one in a conversation staff hold."""
    for role in Role:
        accounts.create(redis, f"{role.value}@center.org", PASSWORD, role, now=NOON, method=CHEAP_HASH)
    for number in (A, B, C, E):
        put(app, number, {"groups": ["clinic"], "consent": CONSENT})
    put(app, B, {"language": "es"})
    put(app, D, {"groups": ["clinic"]})
    put(app, "+16175550146", {"groups": ["alumni"], "consent": CONSENT})
    Phone(app.test_client(), C).text("STOP")
    assert handoff.take_over(svc_of(app), svc_of(app).vault.person_key(E), "staff@center.org")
    return app


def form(client, **fields) -> dict:
    return {"csrf_token": client.token, "text.en": "Open house Friday at 5.", "text.es": "", "audience": "clinic",
            "send_at": "", "expires_at": "", "action": "preview", **fields}


def only_broadcast(redis) -> broadcasts.Broadcast:
    [b] = broadcasts.recent(redis)
    return b


def run_workers(app) -> None:
    rt = make_runtime(svc_of(app))
    for _ in range(2):
        broadcast.dispatch(rt)
        queue = queues.queue(rt.svc.redis, queues.BULK)
        for job in queue.jobs:
            queue.remove(job.id)
            broadcast.send(rt, job.args[0])
            job.delete()
    broadcast.dispatch(rt)


def funnel(page) -> dict[str, str]:
    """The funnel table's rows: heading -> number."""
    rows = re.findall(r'<th scope="row">([^<]+)</th><td[^>]*>(\d+)</td>', page.get_data(as_text=True))
    return {html.unescape(name): int(n) for name, n in rows}


# -- the list and a new broadcast -------------------------------------------------------------------------

def test_an_empty_list_and_the_new_form(console):
    staff = login(console, "staff")
    listing = text_of(staff.get("/staff/broadcasts/"))
    assert "No broadcasts yet." in listing and 'href="/staff/broadcasts/new"' in listing
    new = staff.get("/staff/broadcasts/new")
    assert new.status_code == 200
    page = text_of(new)
    assert 'name="text.en"' in page and 'name="text.es"' in page
    assert "Text in English (en) (everyone without a translation gets this)" in page
    assert '<option value="all">Everyone with consent</option>' in page
    assert '<option value="clinic">The group clinic (5)</option>' in page
    assert '<option value="alumni">The group alumni (1)</option>' in page
    assert "America/New_York" in page and 'id="preview"' not in page


def test_preview_shows_the_exact_counts_and_writes_nothing(console, redis):
    staff = login(console, "staff")
    response = staff.post("/staff/broadcasts/new", data=form(staff))
    assert response.status_code == 200
    said = words(response)
    assert "2 people will get it." in said
    assert ("Held back: 1 opted out, 1 without consent to outreach, 1 in a conversation staff hold, "
            "0 over the weekly cap.") in said
    assert "Send to 2 people" in said and "Preview again" in said
    page = text_of(response)
    assert "Open house Friday at 5." in page  # the form keeps what was written
    assert '<option value="clinic" selected>' in page
    assert redis.zcard(keys.of(redis).BROADCASTS) == 0 and redis.scard(keys.of(redis).BROADCASTS_ACTIVE) == 0
    everyone = words(staff.post("/staff/broadcasts/new", data=form(staff, audience="all")))
    assert "3 people will get it." in everyone  # the alumni too
    assert redis.zcard(keys.of(redis).BROADCASTS) == 0


def test_send_creates_it_and_shows_its_page(console, redis, fake):
    staff = login(console, "staff")
    response = staff.post("/staff/broadcasts/new",
                          data=form(staff, action="send", **{"text.es": "Casa abierta el viernes a las 5."}))
    assert response.status_code == 302
    b = only_broadcast(redis)
    assert response.location.endswith(f"/staff/broadcasts/{b.id}")
    assert b.texts == {"en": "Open house Friday at 5.", "es": "Casa abierta el viernes a las 5."}
    assert (b.group, b.status, b.created_by) == ("clinic", Status.SENDING, "staff@center.org")
    assert b.counts["recipients"] == 2
    page = staff.get(response.location)
    assert page.status_code == 200
    said = words(page)
    assert "Broadcast sent to 2 people." not in said and "Broadcast sending to 2 people." in said
    assert "To the group clinic" in said and "by staff@center.org" in said
    assert funnel(page) == {"Recipients": 2, "Still queued": 2, "Sent": 0, "Delivered": 0, "Undelivered": 0,
                            "Replies within a day": 0, "Opt-outs within a day": 0}
    assert ("Held back when it was made: 1 opted out, 1 without consent, 1 held by staff, 0 over the weekly cap."
            in said)
    assert ">Cancel</button>" in page.get_data(as_text=True)
    assert "Resend to failed" not in said
    [entry] = [e for e in accounts.audit_log(redis) if e["action"] == "create_broadcast"]
    assert entry["who"] == "staff@center.org" and entry["detail"] == f"{b.id} to clinic: 2 recipients"
    listing = words(staff.get("/staff/broadcasts/"))
    assert "To the group clinic · sending" in listing and "2 recipients, 0 sent, 0 delivered" in listing
    assert f'href="/staff/broadcasts/{b.id}"' in staff.get("/staff/broadcasts/").get_data(as_text=True)

    run_workers(console)
    assert sorted(x.params["To"] for x in fake.sent()) == [A, B]
    assert fake.sent()[[x.params["To"] for x in fake.sent()].index(B)].params["Body"].startswith("Casa abierta")
    after = staff.get(f"/staff/broadcasts/{b.id}")
    assert funnel(after)["Sent"] == 2 and funnel(after)["Still queued"] == 0
    assert "Broadcast sent" in words(after) and ">Cancel</button>" not in after.get_data(as_text=True)


def test_a_time_is_read_in_the_centers_zone(console, redis):
    staff = login(console, "staff")
    response = staff.post("/staff/broadcasts/new", data=form(staff, action="send", send_at="2026-11-26T10:00",
                                                             expires_at="2026-11-26T18:30"))
    assert response.status_code == 302
    b = only_broadcast(redis)
    assert b.status is Status.SCHEDULED
    assert b.send_at == NOON + 22 * 3600 and b.expires_at == NOON + 30.5 * 3600
    said = words(staff.get(response.location))
    assert "Broadcast scheduled" in said and "Broadcast scheduled to 2 people." in said


@pytest.mark.parametrize("fields, field, says", [
    ({"text.en": ""}, "text", "text: must be a text per language"),
    ({"text.en": "", "text.es": "Hola"}, "text.en", "default language is needed"),
    ({"audience": ""}, "group", "name one group"),
    ({"audience": "nobody"}, "group", "no contact is in this group"),
    ({"send_at": "next week"}, "send_at", "must be ISO 8601"),
    ({"send_at": "2026-11-26T10:00", "expires_at": "2026-11-26T09:00"}, "expires_at", "must be after"),
])
def test_a_bad_form_is_422_with_the_field_marked_and_nothing_sent(console, redis, fields, field, says):
    staff = login(console, "staff")
    for action in ("preview", "send"):
        response = staff.post("/staff/broadcasts/new", data=form(staff, action=action, **fields))
        assert response.status_code == 422
        page = text_of(response)
        assert says in page and 'role="alert" id="broadcast-error"' in page
        if field in ("text.en", "group"):
            marked = 'id="text-en"' if field == "text.en" else 'id="audience"'
            assert re.search(marked + r'[^>]*aria-invalid="true"', page), page
    assert redis.zcard(keys.of(redis).BROADCASTS) == 0


# -- a broadcast's page: Cancel and Resend to failed -----------------------------------------------------

def test_cancel_stops_it(console, redis, fake):
    staff = login(console, "staff")
    bid = staff.post("/staff/broadcasts/new", data=form(staff, action="send")).location.rsplit("/", 1)[1]
    response = staff.post(f"/staff/broadcasts/{bid}/cancel", data={"csrf_token": staff.token})
    assert response.status_code == 302 and response.location.endswith(f"/staff/broadcasts/{bid}")
    page = staff.get(response.location)
    said = words(page)
    assert "Canceled: nothing more of it goes out." in said and "Broadcast canceled" in said
    assert funnel(page)["Not sent (canceled)"] == 2 and funnel(page)["Still queued"] == 0
    assert ">Cancel</button>" not in page.get_data(as_text=True)
    run_workers(console)
    assert fake.received == []
    assert accounts.audit_log(redis)[0]["action"] == "cancel_broadcast"
    assert accounts.audit_log(redis)[0]["detail"] == bid


def test_resend_to_failed_makes_a_new_broadcast_to_exactly_those(console, redis, fake, client):
    fake.fail(A, 400, 21611)
    put(console, "+16175550147", {"groups": ["clinic"], "consent": CONSENT})
    staff = login(console, "staff")
    bid = staff.post("/staff/broadcasts/new", data=form(staff, action="send")).location.rsplit("/", 1)[1]
    run_workers(console)
    sids = {x.params["To"]: x.sid for x in fake.sent()}
    assert set(sids) == {B, "+16175550147"}
    for to, status, code in ((B, "delivered", ""), ("+16175550147", "undelivered", "30003")):
        params = {"MessageSid": sids[to], "MessageStatus": status, "AccountSid": ACCOUNT_SID,
                  **({"ErrorCode": code} if code else {})}
        assert post_signed(client, "/twilio/status", params).status_code == 204
    page = staff.get(f"/staff/broadcasts/{bid}")
    assert funnel(page) == {"Recipients": 3, "Still queued": 0, "Sent": 2, "Delivered": 1, "Undelivered": 1,
                            "Failed, error 21611": 1, "Replies within a day": 0, "Opt-outs within a day": 0}
    assert "Resend to failed" in words(page)

    fake.received.clear()
    response = staff.post(f"/staff/broadcasts/{bid}/resend-failed", data={"csrf_token": staff.token})
    assert response.status_code == 302
    new_id = response.location.rsplit("/", 1)[1]
    assert new_id != bid
    again = broadcasts.get(redis, new_id)
    assert again.resend_of == bid and again.counts["recipients"] == 2
    said = words(staff.get(response.location))
    assert "Sending again to the 2 people whose text failed." in said and "a resend of" in said
    run_workers(console)
    assert sorted(x.params["To"] for x in fake.sent()) == [A, "+16175550147"]
    assert accounts.audit_log(redis)[0]["action"] == "resend_failed"
    assert accounts.audit_log(redis)[0]["detail"] == f"{bid} -> {new_id}"


def test_replies_and_opt_outs_show_in_the_funnel(console, redis, clock):
    staff = login(console, "staff")
    bid = staff.post("/staff/broadcasts/new", data=form(staff, action="send")).location.rsplit("/", 1)[1]
    run_workers(console)
    clock.advance(600)
    Phone(console.test_client(), A).text("what time?")
    Phone(console.test_client(), B).text("STOP")
    counts = funnel(staff.get(f"/staff/broadcasts/{bid}"))
    assert counts["Replies within a day"] == 2 and counts["Opt-outs within a day"] == 1


def test_an_unknown_broadcast_is_404(console):
    staff = login(console, "staff")
    assert staff.get("/staff/broadcasts/bnope").status_code == 404
    assert staff.post("/staff/broadcasts/bnope/cancel", data={"csrf_token": staff.token}).status_code == 404
    assert staff.post("/staff/broadcasts/bnope/resend-failed", data={"csrf_token": staff.token}).status_code == 404


def test_every_post_needs_the_csrf_token(console, redis):
    staff = login(console, "staff")
    bid = staff.post("/staff/broadcasts/new", data=form(staff, action="send")).location.rsplit("/", 1)[1]
    bad = form(staff, action="send")
    bad.pop("csrf_token")
    assert staff.post("/staff/broadcasts/new", data=bad).status_code == 400
    assert staff.post(f"/staff/broadcasts/{bid}/cancel").status_code == 400
    assert staff.post(f"/staff/broadcasts/{bid}/resend-failed").status_code == 400
    assert redis.zcard(keys.of(redis).BROADCASTS) == 1 and broadcasts.get(redis, bid).status is Status.SENDING


# -- who may do what ---------------------------------------------------------------------------------------

def test_admins_send_too(console, redis):
    admin = login(console, "admin")
    assert admin.get("/staff/broadcasts/new").status_code == 200
    assert "2 people will get it." in words(admin.post("/staff/broadcasts/new", data=form(admin)))
    response = admin.post("/staff/broadcasts/new", data=form(admin, action="send"))
    assert response.status_code == 302
    bid = response.location.rsplit("/", 1)[1]
    assert broadcasts.get(redis, bid).created_by == "admin@center.org"
    assert admin.post(f"/staff/broadcasts/{bid}/cancel", data={"csrf_token": admin.token}).status_code == 302
    assert admin.post(f"/staff/broadcasts/{bid}/resend-failed", data={"csrf_token": admin.token}).status_code == 302


def test_ops_can_only_look(console, redis):
    staff = login(console, "staff")
    bid = staff.post("/staff/broadcasts/new", data=form(staff, action="send")).location.rsplit("/", 1)[1]
    before = redis.hgetall(keys.of(redis).broadcast(bid))
    ops = login(console, "ops")
    listing = ops.get("/staff/broadcasts/")
    assert listing.status_code == 200 and f"/staff/broadcasts/{bid}" in listing.get_data(as_text=True)
    assert "/staff/broadcasts/new" not in listing.get_data(as_text=True)
    page = ops.get(f"/staff/broadcasts/{bid}")
    assert page.status_code == 200 and funnel(page)["Recipients"] == 2
    assert ">Cancel</button>" not in page.get_data(as_text=True) and "Resend to failed" not in words(page)
    assert ops.get("/staff/broadcasts/new").status_code == 403
    assert ops.post("/staff/broadcasts/new", data=form(ops)).status_code == 403
    assert ops.post("/staff/broadcasts/new", data=form(ops, action="send")).status_code == 403
    assert ops.post(f"/staff/broadcasts/{bid}/cancel", data={"csrf_token": ops.token}).status_code == 403
    assert ops.post(f"/staff/broadcasts/{bid}/resend-failed", data={"csrf_token": ops.token}).status_code == 403
    assert redis.zcard(keys.of(redis).BROADCASTS) == 1 and redis.hgetall(keys.of(redis).broadcast(bid)) == before
    assert all(e["who"] != "ops@center.org" for e in accounts.audit_log(redis)
               if e["action"] in ("create_broadcast", "cancel_broadcast", "resend_failed"))


def test_anonymous_visitors_go_to_the_login_page(console, redis):
    client = console.test_client()
    for path in ("/staff/broadcasts/", "/staff/broadcasts/new", "/staff/broadcasts/bnope"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.location
    assert redis.zcard(keys.of(redis).BROADCASTS) == 0


# -- in a real browser, at desktop and phone widths (slow: run with -m slow; CI must have Chromium) ----------

VIEWPORTS = [pytest.param({"width": 1280, "height": 800}, id="1280x800"),
             pytest.param({"width": 390, "height": 844}, id="390x844")]


def fits(page, where):
    if page.viewport_size["width"] <= 390:
        wide, room = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert wide <= room + 1, f"{where}: {wide} px wide in a {room} px window"


@BROWSER[0]
@BROWSER[1]
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_in_a_browser_a_broadcast_is_written_previewed_sent_and_followed(redis_url, redis, clock, fake, viewport):
    from playwright.sync_api import expect

    with serve(redis_url, clock, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944") as server, \
            chromium() as browser:
        app = server.app
        for number in (A, B, C):
            put(app, number, {"groups": ["clinic"], "consent": CONSENT})
        put(app, D, {"groups": ["clinic"]})
        assert ServerPhone(app.test_client(), C, str(server)).text("STOP").status_code == 200
        page = browser.new_context(viewport=viewport).new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
        sign_in(page, server, "staff@center.org")
        page.goto(server + "/staff/broadcasts/")
        expect(page.get_by_text("No broadcasts yet.")).to_be_visible()
        fits(page, "the list")
        page.get_by_role("link", name="New broadcast").click()
        expect(page.get_by_role("heading", name="New broadcast")).to_be_visible()
        fits(page, "the new form")

        page.get_by_label("Text in English").fill("Open house Friday at 5. Reply STOP to opt out.")
        expect(page.locator("#text-en + .count")).to_contain_text("1 segment(s)")  # the live counter
        page.get_by_label("Text in Spanish").fill("Casa abierta el viernes a las 5.")
        page.get_by_label("To").select_option("clinic")
        page.get_by_role("button", name="Preview", exact=True).click()
        preview = page.locator("#preview")
        expect(preview).to_contain_text("2 people will get it.")
        expect(preview).to_contain_text("Held back: 1 opted out, 1 without consent to outreach, 0 in a conversation "
                                        "staff hold, 0 over the weekly cap.")
        expect(page.get_by_label("Text in Spanish")).to_have_value("Casa abierta el viernes a las 5.")
        fits(page, "the preview")
        assert broadcasts.recent(redis) == []  # a preview writes nothing

        page.get_by_role("button", name="Send to 2 people").click()
        expect(page).to_have_url(re.compile(r"/staff/broadcasts/b[0-9a-f]+$"))
        assert dialogs == ["Send this to 2 people?"]
        expect(page.get_by_text("Broadcast sending to 2 people.")).to_be_visible()
        expect(page.locator("#recipients")).to_have_text("2")
        expect(page.locator("#queued")).to_have_text("2")
        expect(page.get_by_role("button", name="Cancel")).to_be_visible()
        fits(page, "the broadcast's page")

        run_workers(app)
        assert sorted(x.params["To"] for x in fake.sent()) == [A, B]
        page.reload()
        expect(page.locator("#sent")).to_have_text("2")
        expect(page.locator("#queued")).to_have_text("0")
        expect(page.get_by_role("heading", name=re.compile("^Broadcast"))).to_contain_text("sent")
        expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
        fits(page, "the funnel once sent")
        page.goto(server + "/staff/broadcasts/")
        expect(page.locator("ul.cards li.card")).to_have_count(1)
        expect(page.locator("ul.cards")).to_contain_text("2 recipients, 2 sent, 0 delivered")
        fits(page, "the list with one")


@BROWSER[0]
@BROWSER[1]
@pytest.mark.parametrize("viewport", VIEWPORTS[1:])
def test_in_a_browser_cancel_asks_first_and_stops_it(redis_url, redis, clock, fake, viewport):
    from playwright.sync_api import expect

    with serve(redis_url, clock, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944") as server, \
            chromium() as browser:
        app = server.app
        put(app, A, {"groups": ["clinic"], "consent": CONSENT})
        page = browser.new_context(viewport=viewport).new_page()
        answers, asked = [], []  # answers to the next confirm dialogs (then: OK)

        def answer(dialog):
            asked.append(dialog.message)
            dialog.accept() if (answers.pop(0) if answers else True) else dialog.dismiss()
        page.on("dialog", answer)
        sign_in(page, server, "staff@center.org")
        page.goto(server + "/staff/broadcasts/new")
        page.get_by_label("Text in English").fill("Open house Friday at 5.")
        page.get_by_label("To").select_option("clinic")
        page.get_by_label("Send at").fill("2026-11-26T10:00")
        page.get_by_role("button", name="Preview", exact=True).click()
        expect(page.locator("#preview")).to_contain_text("1 person will get it.")
        page.get_by_role("button", name="Send to 1 person").click()
        expect(page.get_by_text("Broadcast scheduled to 1 people.")).to_be_visible()
        bid = page.url.rsplit("/", 1)[1]
        answers.append(False)  # "Cancel this broadcast?" No: nothing happens
        page.get_by_role("button", name="Cancel").click()
        assert asked[-1] == "Cancel this broadcast? Nothing more of it goes out."
        expect(page.get_by_role("button", name="Cancel")).to_be_visible()
        assert broadcasts.get(redis, bid).status is Status.SCHEDULED
        page.get_by_role("button", name="Cancel").click()
        expect(page.get_by_text("Canceled: nothing more of it goes out.")).to_be_visible()
        assert broadcasts.get(redis, bid).status is Status.CANCELED
        expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
        fits(page, "a canceled broadcast")
        clock.advance(86400)
        run_workers(app)
        assert fake.received == []
