"""The staff inbox through Flask's client and the real signed webhook: the list, the conversation page,
replies through the outbound pipeline to the fake Twilio, taking over from the bot and handing back,
idle holds, live polling, crises and call backs, accounts, readable times, friendly refusals."""
import html
import json
import re
from datetime import datetime

import pytest

from service import handoff, queues
from service.store import accounts, callbacks, crises, followups, holds, inbox, keys, notes
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, NOON, NY, Phone, make_app, make_env, replies, svc_of
from tests.staff.test_staff import PASSWORD, csrf, login
from workers.followup import Outcome, send_followup
from workers.delivery import deliver
from workers.runtime import make_runtime

HOUR, DAY = 3600, 86400


@pytest.fixture
def app(redis_url, redis, clock, fake):
    app = make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                            STAFF_ALERT_NUMBERS="+16175550100", SEND_RATE_PER_SECOND="100"), clock)
    for role in Role:
        accounts.create(redis, f"{role.value}@center.org", PASSWORD, role, now=NOON, method=CHEAP_HASH)
    return app


def pk(app, number: str) -> str:
    return svc_of(app).vault.person_key(number)


def nonce(page: str) -> str:
    return re.search(r'name="nonce" value="([a-f0-9]+)"', page).group(1)


def send(staff, app, number, text, **extra):
    page = staff.get(f"/staff/inbox/{pk(app, number)}").get_data(as_text=True)
    return staff.post(f"/staff/inbox/{pk(app, number)}/reply",
                      data={"csrf_token": staff.token, "text": text, "nonce": nonce(page), **extra})


def run_reply_jobs(app):
    """What a worker does with the replies lane (workers.jobs.send_reply, on this test's runtime)."""
    rt = make_runtime(svc_of(app))
    for job in queues.queue(svc_of(app).redis, queues.REPLIES).jobs:
        assert job.func_name == "workers.jobs.send_reply"
        deliver(rt, *job.args)


# -- the list ----------------------------------------------------------------------------------------------

def test_the_inbox_lists_everyone_newest_first_with_what_staff_need(app, clock, redis):
    Phone(app.test_client(), "+16175550101").text("SIGNS")
    clock.advance(60)
    Phone(app.test_client(), "+16175550102").text("SEÑALES")
    clock.advance(60)
    Phone(app.test_client(), "+16175550103").text("CALL he overdosed")
    clock.advance(60)
    Phone(app.test_client(), "+16175550104").text("STOP")
    page = login(app).get("/staff/inbox/").get_data(as_text=True)
    order = [page.index(f"*******01{n}") for n in ("03", "04", "02", "01")]
    assert order == sorted(order)  # the open crisis pinned above everything, then newest first
    assert page.count("*******0103") == 1  # pinned, not listed twice
    assert "+16175550101" not in page  # masked
    row = page[page.index("*******0103"):page.index("*******0104")]
    assert "crisis since" in row and "call back waiting" in row and "1 unread" in row and "Nobody owns it yet" in row
    assert "They wrote: CALL he overdosed" in row  # the person's own words, not our canned answer
    assert "Spanish (es)" in page[page.index("*******0102"):] and "opted out" in page
    assert "They wrote: SEÑALES" in page and "We wrote" not in page


def test_search_by_last_four_digits_filters_and_pages(app, redis):
    client = app.test_client()
    for i in range(30):
        Phone(client, f"+161755501{i:02d}").text("SIGNS")
    staff = login(app)
    found = staff.get("/staff/inbox/?q=0117").get_data(as_text=True)
    assert "*******0117" in found and "*******0118" not in found
    first, second = (staff.get(f"/staff/inbox/?p={p}").get_data(as_text=True) for p in (1, 2))
    assert first.count('<li class="inbox-row') == 25 and second.count('<li class="inbox-row') == 5
    assert "Page 2 of 2 (30 people)" in second
    handoff.take_over(svc_of(app), pk(app, "+16175550105"), "staff@center.org")
    handoff.take_over(svc_of(app), pk(app, "+16175550106"), "admin@center.org")
    mine = staff.get("/staff/inbox/?filter=mine").get_data(as_text=True)
    assert mine.count('<li class="inbox-row') == 1 and "*******0105" in mine
    unassigned = staff.get("/staff/inbox/?filter=unassigned").get_data(as_text=True)
    assert "Page 1 of 2 (28 people)" in unassigned and "*******0105" not in unassigned
    rest = staff.get("/staff/inbox/?filter=unassigned&p=2").get_data(as_text=True)
    assert rest.count('<li class="inbox-row') == 3 and "*******0106" not in rest
    Phone(client, "+16175550199").text("CALL")
    assert staff.get("/staff/inbox/?filter=callback").get_data(as_text=True).count('<li class="inbox-row') == 1


def test_live_polls_are_conditional_and_cheap(app, clock, redis):
    staff = login(app)
    first = staff.get("/staff/inbox/?fragment=1")
    etag = first.headers["ETag"]
    assert first.headers["X-Crisis-Count"] == "0"
    assert staff.get("/staff/inbox/?fragment=1", headers={"If-None-Match": etag}).status_code == 304
    Phone(app.test_client(), "+16175550111").text("he is not breathing")
    clock.advance(2)  # a list rendered less than a second ago is reused
    changed = staff.get("/staff/inbox/?fragment=1", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "*******0111" in changed.get_data(as_text=True)
    assert changed.headers["X-Crisis-Count"] == "1" and changed.headers["ETag"] != etag
    count = staff.get("/staff/inbox/changes").json
    assert count == {"version": inbox.version(redis), "crisis": 1}


def test_polling_does_not_keep_an_idle_session_alive(app, clock):
    staff = login(app)
    for _ in range(40):
        clock.advance(60)
        staff.get("/staff/inbox/changes")
    assert staff.get("/staff/inbox/changes").status_code == 302  # 40 idle minutes: signed out


# -- the conversation page -------------------------------------------------------------------------------

def test_the_conversation_page_has_everything_with_readable_times(app, clock, redis, fake):
    phone = Phone(app.test_client(), "+16175550121")
    phone.text("TREATMENT")
    staff = login(app)
    person = pk(app, phone.number)
    staff.post(f"/staff/inbox/{person}/note", data={"csrf_token": staff.token, "note": "Mother, prefers evenings"})
    assert b"prefers evenings" not in b"".join(redis.lrange(keys.of(redis).notes(person), 0, -1))  # encrypted
    page = staff.get(f"/staff/inbox/{person}").get_data(as_text=True)
    assert "Treatment works" in page and "bot: treatment/reply" in page
    assert "Wed Nov 25, 12:00 PM" in page or "just now" in page
    assert "treatment/follow-up 1, planned Thu Nov 26" in page
    assert "Wed Nov 25, 12:00 PM: subscribed, by TREATMENT" in page or "just now: subscribed, by TREATMENT" in page
    assert "staff@center.org, just now:</span> Mother, prefers evenings" in page
    assert "Language: <strong id=\"language\">English (en)</strong>" in page
    assert redis.hget(keys.of(redis).contact(person), inbox.UNREAD) is None  # opened: read


def test_a_follow_up_shows_in_the_transcript_with_its_delivery_status(app, clock, redis, fake):
    phone = Phone(app.test_client(), "+16175550122")
    phone.text("TREATMENT")
    person = pk(app, phone.number)
    rt = make_runtime(svc_of(app))
    fid = sorted(followups.pending_of(redis, person))[0]
    clock.set(followups.due_times(redis, (fid,))[fid])
    assert send_followup(rt, fid) is Outcome.SENT
    page = login(app).get(f"/staff/inbox/{person}").get_data(as_text=True)
    assert "Questions about detox" in page and "bot: treatment/followup-1" in page and " · sent</small>" in page



def test_open_pages_redraw_when_a_delivery_status_arrives_and_when_someone_is_erased(app, redis, fake):
    from service.erase import erase_person
    from tests.conftest import ACCOUNT_SID, post_signed
    phone = Phone(app.test_client(), "+16175550156")
    phone.text("hello")
    person = pk(app, phone.number)
    mid = handoff.reply(svc_of(app), person, "staff@center.org", "We are here", "ab" * 8)
    version = lambda: int(redis.get(keys.of(redis).INBOX_VERSION) or 0)  # noqa: E731
    before = version()
    deliver(make_runtime(svc_of(app)), mid)
    assert version() > before  # sent
    before = version()
    post_signed(app.test_client(), "/twilio/status", {"MessageSid": fake.sent()[-1].sid, "MessageStatus": "delivered",
                                                      "AccountSid": ACCOUNT_SID})
    assert version() > before  # delivered
    before = version()
    erase_person(svc_of(app), person)
    assert version() > before

# -- replying --------------------------------------------------------------------------------------------

def test_a_reply_goes_through_the_outbound_pipeline_to_twilio_and_holds_the_conversation(app, redis, fake):
    phone = Phone(app.test_client(), "+16175550131")
    phone.text("hello, is anyone there?")
    staff = login(app)
    sent = send(staff, app, phone.number, "Hi, this is Maria from the center. How can I help?")
    assert sent.status_code == 302
    assert queues.queue(redis, queues.REPLIES).count == 1  # its own lane, above follow-ups
    run_reply_jobs(app)
    [got] = fake.sent()
    assert got.params["To"] == phone.number and got.params["Body"].startswith("Hi, this is Maria")
    person = pk(app, phone.number)
    assert holds.holder(redis, person) == "staff@center.org"
    page = staff.get(f"/staff/inbox/{person}").get_data(as_text=True)
    assert "Hi, this is Maria" in page and "staff@center.org · sent" in page and "Held by staff@center.org" in page
    assert [e["action"] for e in accounts.audit_log(redis)][:2] == ["view_conversation", "reply"]


def test_a_double_click_sends_one_text(app, redis, fake):
    phone = Phone(app.test_client(), "+16175550132")
    phone.text("hello")
    staff = login(app)
    page = staff.get(f"/staff/inbox/{pk(app, phone.number)}").get_data(as_text=True)
    for _ in range(2):
        staff.post(f"/staff/inbox/{pk(app, phone.number)}/reply",
                   data={"csrf_token": staff.token, "text": "Hello!", "nonce": nonce(page)})
    run_reply_jobs(app)
    assert len(fake.sent()) == 1


@pytest.mark.parametrize("how,reason", [("STOP", "They opted out (STOP)"), ("dead", "can't receive texts")])
def test_replies_to_people_who_cant_be_texted_are_refused_clearly(app, redis, how, reason):
    phone = Phone(app.test_client(), "+16175550133")
    phone.text("hello")
    if how == "STOP":
        phone.text("STOP")
    else:
        redis.hset(keys.of(redis).contact(pk(app, phone.number)), "undeliverable", 1)
    staff = login(app)
    page = staff.get(f"/staff/inbox/{pk(app, phone.number)}").get_data(as_text=True)
    assert reason in html.unescape(page) and 'id="reply-text"' not in page
    refused = staff.post(f"/staff/inbox/{pk(app, phone.number)}/reply",
                         data={"csrf_token": staff.token, "text": "Hi", "nonce": "ab" * 8})
    assert refused.status_code == 422 and reason in html.unescape(refused.get_data(as_text=True))
    assert not redis.keys("sms:{main}:out:reply_*")


def test_a_consent_change_after_queueing_wins_at_send_time(app, redis, fake):
    phone = Phone(app.test_client(), "+16175550134")
    phone.text("hello")
    send(login(app), app, phone.number, "Hi there")
    phone.text("STOP")
    run_reply_jobs(app)
    assert fake.sent() == [] and redis.hget(keys.of(redis).message(redis.keys("sms:{main}:out:reply_*")[0].decode().rsplit(":", 1)[1]), "state") \
        == b"skipped"


def test_a_cold_text_at_night_asks_first_but_an_answer_does_not(app, clock, redis, fake):
    phone = Phone(app.test_client(), "+16175550135")
    phone.text("hello")
    clock.set(datetime(2026, 11, 26, 3, 0, tzinfo=NY).timestamp())  # 3 a.m., 15 hours after they wrote
    staff = login(app)
    asked = send(staff, app, phone.number, "Checking on you")
    page = html.unescape(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "It is 3:00 AM EST for them" in page and "Send anyway" in page
    assert not redis.keys("sms:{main}:out:reply_*")
    confirmed = staff.post(f"/staff/inbox/{pk(app, phone.number)}/reply", data={
        "csrf_token": staff.token, "text": "Checking on you", "nonce": nonce(page), "confirm": "late"})
    assert confirmed.status_code == 302 and len(redis.keys("sms:{main}:out:reply_*")) == 1
    phone.text("are you there?")  # they write at 3 a.m.: an answer needs no confirmation
    assert send(staff, app, phone.number, "Yes, I'm here").status_code == 302


def test_empty_and_overlong_replies_are_refused_with_the_text_kept(app):
    phone = Phone(app.test_client(), "+16175550136")
    phone.text("hello")
    staff = login(app)
    assert "Write the text first." in send(staff, app, phone.number, "   ").get_data(as_text=True)
    long = send(staff, app, phone.number, "x" * 1700)
    assert long.status_code == 422 and "at most 1600 characters" in long.get_data(as_text=True)


def test_a_reply_to_a_spanish_speaker_goes_out_plain(app, redis, fake):
    phone = Phone(app.test_client(), "+16175550137")
    phone.text("SEÑALES")
    send(login(app), app, phone.number, "¿Cómo está? Aquí estamos.")
    run_reply_jobs(app)
    assert fake.sent()[0].params["Body"] == "¿Como esta? Aqui estamos."


# -- taking over -------------------------------------------------------------------------------------------

def test_while_held_the_bot_answers_only_compliance_and_crisis(app, redis):
    phone = Phone(app.test_client(), "+16175550141")
    phone.text("SIGNS")
    person = pk(app, phone.number)
    staff = login(app)
    staff.post(f"/staff/inbox/{person}/take", data={"csrf_token": staff.token})
    assert holds.holder(redis, person) == "staff@center.org"
    assert replies(phone.text("me")) == []  # an answer to the bot's question: staff answer now
    assert replies(phone.text("TREATMENT")) == []
    assert redis.hget(keys.of(redis).contact(person), "conv").startswith(b"signs|ask|")  # nothing moved
    assert int(redis.hget(keys.of(redis).contact(person), inbox.UNREAD)) == 3  # nobody opened it since SIGNS
    assert replies(phone.text("HELP"))[0].startswith("Roaring Brook Recovery: info")
    assert "911" in replies(phone.text("my brother overdosed"))[0]
    crises.resolve(redis, crises.open_of(redis, person), "staff@center.org", 0, 86400, crises.CrisisOutcome.REACHED_SAFE)
    staff.post(f"/staff/inbox/{person}/hand-back", data={"csrf_token": staff.token})
    assert replies(phone.text("TREATMENT"))[0].startswith("Treatment works")
    assert [e["action"] for e in accounts.audit_log(redis)[:3]].count("hand_back") == 1


def test_follow_ups_wait_while_held_and_resume_or_expire_after(app, clock, redis, fake):
    phone = Phone(app.test_client(), "+16175550142")
    phone.text("TREATMENT")
    person = pk(app, phone.number)
    rt = make_runtime(svc_of(app))
    first, second = sorted(followups.pending_of(redis, person), key=lambda f: followups.due_times(redis, (f,))[f])
    handoff.take_over(svc_of(app), person, "staff@center.org")
    held_at, due = clock.now(), followups.due_times(redis, (first,))[first]
    clock.set(due)
    assert send_followup(rt, first) is Outcome.HELD
    assert followups.due_times(redis, (first,))[first] == clock.now() + holds.RECHECK_SECONDS
    clock.advance(300)
    handoff.hand_back(svc_of(app), person, "staff@center.org")
    resumed = followups.due_times(redis, (first,))[first]
    assert resumed == clock.now() + (due - held_at)  # paused: it keeps the time it had left
    clock.set(resumed)
    assert send_followup(rt, first) is Outcome.SENT
    handoff.take_over(svc_of(app), person, "staff@center.org")
    clock.set(followups.due_times(redis, (second,))[second] + 20 * DAY)  # held past its horizon
    handoff.hand_back(svc_of(app), person, "staff@center.org")
    assert send_followup(rt, second) is Outcome.EXPIRED


def test_a_held_question_does_not_time_out(app, clock, redis):
    phone = Phone(app.test_client(), "+16175550143")
    phone.text("SIGNS")
    person = pk(app, phone.number)
    due = followups.timeout_of(redis, person)
    handoff.take_over(svc_of(app), person, "staff@center.org")
    clock.set(due)
    assert send_followup(make_runtime(svc_of(app)), followups.job_arg(person, due)) is Outcome.HELD
    assert followups.timeout_of(redis, person) == due + holds.RECHECK_SECONDS



def test_a_hand_back_resumes_a_question_with_the_time_it_had_left(app, clock, redis):
    """No stale nudge seconds after a live chat: the timeout was paused, not overdue."""
    phone = Phone(app.test_client(), "+16175550147")
    phone.text("SIGNS")
    person = pk(app, phone.number)
    due = followups.timeout_of(redis, person)
    clock.advance(HOUR)
    handoff.take_over(svc_of(app), person, "staff@center.org")
    left = due - clock.now()
    clock.set(due)
    assert send_followup(make_runtime(svc_of(app)), followups.job_arg(person, due)) is Outcome.HELD
    clock.advance(6 * HOUR)
    assert send_followup(make_runtime(svc_of(app)), followups.job_arg(person, clock.now())) is Outcome.HELD
    clock.advance(HOUR)
    assert handoff.hand_back(svc_of(app), person, "staff@center.org")
    assert followups.timeout_of(redis, person) == clock.now() + left
    assert not redis.hexists(keys.of(redis).contact(person), holds.PAUSED)


def test_a_stale_hand_back_never_releases_a_colleagues_hold(app, redis):
    phone = Phone(app.test_client(), "+16175550148")
    phone.text("hello")
    person = pk(app, phone.number)
    handoff.take_over(svc_of(app), person, "staff@center.org")
    page = login(app).get(f"/staff/inbox/{person}").get_data(as_text=True)  # shows staff@ holding it
    handoff.hand_back(svc_of(app), person, "staff@center.org")
    handoff.take_over(svc_of(app), person, "admin@center.org")
    staff = login(app)
    holder = re.search(r'name="holder" value="([^"]+)"', page).group(1)
    answer = staff.post(f"/staff/inbox/{person}/hand-back", data={"csrf_token": staff.token, "holder": holder},
                        follow_redirects=True)
    assert "Not handed back" in answer.get_data(as_text=True)
    assert holds.holder(redis, person) == "admin@center.org"


def test_a_note_racing_a_hand_back_does_not_bring_the_hold_back(app, redis, monkeypatch):
    phone = Phone(app.test_client(), "+16175550149")
    phone.text("hello")
    person = pk(app, phone.number)
    handoff.take_over(svc_of(app), person, "staff@center.org")
    real, raced = notes.add, []

    def add_while_a_colleague_hands_back(pipe, *args, **kwargs):
        if not raced:  # lands between the note's read and its write
            raced.append(handoff.hand_back(svc_of(app), person, "admin@center.org"))
        return real(pipe, *args, **kwargs)
    monkeypatch.setattr(notes, "add", add_while_a_colleague_hands_back)
    assert handoff.add_note(svc_of(app), person, "staff@center.org", "called, no answer")
    assert raced == [True] and holds.holder(redis, person) == ""
    assert len(notes.of(redis, svc_of(app).vault, person)) == 1


def test_reusing_a_form_for_another_person_sends_to_them(app, redis, fake):
    for number in ("+16175550150", "+16175550151"):
        Phone(app.test_client(), number).text("hello")
    staff = login(app)
    first = staff.get(f"/staff/inbox/{pk(app, '+16175550150')}").get_data(as_text=True)
    for number in ("+16175550150", "+16175550151"):
        staff.post(f"/staff/inbox/{pk(app, number)}/reply",
                   data={"csrf_token": staff.token, "text": "We are here", "nonce": nonce(first)})
    run_reply_jobs(app)
    assert sorted(m.params["To"] for m in fake.sent()) == ["+16175550150", "+16175550151"]
    assert holds.holder(redis, pk(app, "+16175550151")) == "staff@center.org"

def test_an_idle_hold_goes_back_to_the_bot_by_itself(app, clock, redis):
    phone = Phone(app.test_client(), "+16175550144")
    phone.text("hello")
    person = pk(app, phone.number)
    handoff.take_over(svc_of(app), person, "staff@center.org")
    clock.advance(23 * HOUR)
    staff = login(app)
    staff.post(f"/staff/inbox/{person}/note", data={"csrf_token": staff.token, "note": "still on it"})
    clock.advance(23 * HOUR)  # a note was an action: 23 h idle only
    assert handoff.release_idle(svc_of(app)) == 0 and holds.holder(redis, person)
    clock.advance(2 * HOUR)
    assert handoff.release_idle(svc_of(app)) == 1 and not holds.holder(redis, person)
    assert accounts.audit_log(redis)[0]["action"] == "hold_released_idle"


def test_handoff_idle_hours_is_a_setting(redis_url, redis, clock):
    app = make_app(make_env(redis_url, HANDOFF_IDLE_HOURS="2"), clock)
    Phone(app.test_client()).text("hello")
    person = pk(app, "+16175550123")
    handoff.take_over(svc_of(app), person, "staff@center.org")
    clock.advance(2 * HOUR + 1)
    assert handoff.release_idle(svc_of(app)) == 1


# -- crises and call backs ---------------------------------------------------------------------------------

def test_a_crisis_and_a_call_back_of_one_person_are_one_card_resolved_with_an_outcome(app, redis):
    phone = Phone(app.test_client(), "+16175550151")
    phone.text("CALL my brother overdosed and isn't breathing")
    staff = login(app)
    page = staff.get("/staff/callbacks").get_data(as_text=True)
    assert page.count('class="card crisis') == 1 and "1 open crisis" in page
    assert "my brother overdosed" in html.unescape(page) and "We answered:" in page and "911" in page
    assert "checked" not in page.split("What happened on the call?")[0][-3000:]  # no preselected outcome
    [flag] = crises.open_crises(redis, svc_of(app).vault)
    assert staff.post(f"/staff/crisis/{flag.id}/resolve", data={"csrf_token": staff.token}).status_code == 422
    other = staff.post(f"/staff/crisis/{flag.id}/resolve", data={"csrf_token": staff.token, "outcome": "other"})
    assert other.status_code == 422 and "Say what happened in the note." in other.get_data(as_text=True)
    done = staff.post(f"/staff/crisis/{flag.id}/resolve",
                      data={"csrf_token": staff.token, "outcome": "advised_911", "note": "Told them to call 911"})
    assert done.status_code == 302 and redis.zcard(keys.of(redis).CRISIS_OPEN) == 0
    assert redis.hget(keys.of(redis).crisis_flag(flag.id), "outcome") == b"advised_911"
    assert notes.of(redis, svc_of(app).vault, pk(app, phone.number))[-1]["text"] == "Told them to call 911"
    assert "0 open crises" in staff.get("/staff/inbox/").get_data(as_text=True)


def test_reveal_is_audited_and_offers_a_call_and_a_reply(app, redis):
    phone = Phone(app.test_client(), "+16175550152")
    phone.text("he is not breathing")
    staff = login(app)
    person = pk(app, phone.number)
    page = staff.post(f"/staff/people/{person}/reveal", data={"csrf_token": staff.token}).get_data(as_text=True)
    assert 'href="tel:+16175550152"' in page and f"/staff/inbox/{person}#reply" in page
    assert accounts.audit_log(redis)[0] == {**accounts.audit_log(redis)[0], "action": "reveal_number",
                                            "detail": person}


def test_a_call_back_from_claim_to_release_to_close_with_history(app, clock, redis):
    Phone(app.test_client(), "+16175550153").text("CALL")
    staff = login(app)
    [cb] = callbacks.waiting(redis, svc_of(app).vault)
    page = staff.get("/staff/callbacks").get_data(as_text=True)
    assert "Promised by Wed Nov 25, 12:30 PM" in page and "overdue" not in page
    clock.advance(3600)
    staff = login(app)  # an hour idle: signed in again
    assert "12:30 PM: overdue" in staff.get("/staff/callbacks").get_data(as_text=True)
    staff.post(f"/staff/callbacks/{cb.id}/claim", data={"csrf_token": staff.token})
    assert "Release" in staff.get("/staff/callbacks").get_data(as_text=True)
    staff.post(f"/staff/callbacks/{cb.id}/release", data={"csrf_token": staff.token})
    assert callbacks.get(redis, svc_of(app).vault, cb.id).state.value == "waiting"
    staff.post(f"/staff/callbacks/{cb.id}/claim", data={"csrf_token": staff.token})
    missing = staff.post(f"/staff/callbacks/{cb.id}/outcome", data={"csrf_token": staff.token, "note": "x"})
    assert missing.status_code == 422 and "Pick what happened on the call." in missing.get_data(as_text=True)
    staff.post(f"/staff/callbacks/{cb.id}/outcome", data={"csrf_token": staff.token, "outcome": "reached",
                                                         "note": "Booked an intake for Monday"})
    page = staff.get("/staff/callbacks").get_data(as_text=True)
    today = page.split("<h3>Today</h3>")[1].split("<h3>")[0]
    assert "reached" in today and "Booked an intake for Monday" in today and "staff@center.org" in today


def test_someone_else_cannot_release_my_claim(app, redis):
    Phone(app.test_client(), "+16175550154").text("CALL")
    [cb] = callbacks.waiting(redis, svc_of(app).vault)
    mine = login(app)
    mine.post(f"/staff/callbacks/{cb.id}/claim", data={"csrf_token": mine.token})
    admin = login(app, "admin")
    admin.post(f"/staff/callbacks/{cb.id}/release", data={"csrf_token": admin.token})
    assert callbacks.get(redis, svc_of(app).vault, cb.id).claimed_by == "staff@center.org"



def test_an_outcome_is_recorded_once_and_only_by_the_claimer(app, redis, clock):
    """A double click, a colleague's claim or a stale tab never counts a call twice, and an old call back's
    outcome never drops the pointer to the person's newer request."""
    phone = Phone(app.test_client(), "+16175550155")
    phone.text("CALL")
    [cb] = callbacks.waiting(redis, svc_of(app).vault)
    staff, admin = login(app), login(app, "admin")
    reached = {"csrf_token": staff.token, "outcome": "reached", "note": "ok"}
    admin.post(f"/staff/callbacks/{cb.id}/claim", data={"csrf_token": admin.token})
    refused = staff.post(f"/staff/callbacks/{cb.id}/outcome", data=reached)
    assert refused.status_code == 409 and "not claimed by you" in refused.get_data(as_text=True)
    admin.post(f"/staff/callbacks/{cb.id}/release", data={"csrf_token": admin.token})
    staff.post(f"/staff/callbacks/{cb.id}/claim", data={"csrf_token": staff.token})
    assert staff.post(f"/staff/callbacks/{cb.id}/outcome", data=reached).status_code == 302
    assert staff.post(f"/staff/callbacks/{cb.id}/outcome", data=reached).status_code == 409  # the double click
    after = callbacks.get(redis, svc_of(app).vault, cb.id)
    assert after.attempts == 1 and len(after.notes) == 1 and after.state.value == "reached"
    clock.advance(60)
    phone.text("CALL")  # asks again: a new request
    assert staff.post(f"/staff/callbacks/{cb.id}/outcome",
                      data={**reached, "outcome": "no_answer"}).status_code == 409  # a stale tab
    assert callbacks.get(redis, svc_of(app).vault, cb.id).state.value == "reached"
    clock.advance(60)
    phone.text("CALL")
    assert len(callbacks.waiting(redis, svc_of(app).vault)) == 1  # still one open request, not two
    day = datetime.fromtimestamp(NOON, NY).date().isoformat()
    assert int(redis.hget(keys.of(redis).daily(day), "callbacks_reached") or 0) == 1

# -- accounts ---------------------------------------------------------------------------------------------

def temporary_password(page: str) -> str:
    return re.search(r"shown this once: <code>([^<]+)</code>", page).group(1)


def test_admins_manage_accounts_and_every_change_is_audited(app, redis):
    admin = login(app, "admin")
    created = admin.post("/staff/accounts/create", data={"csrf_token": admin.token, "email": "New@Center.org",
                                                          "role": "staff"}).get_data(as_text=True)
    password = temporary_password(created)
    newcomer = app.test_client()
    token = csrf(newcomer)
    assert newcomer.post("/staff/login", data={"email": "new@center.org", "password": password,
                                               "csrf_token": token}).status_code == 302
    assert newcomer.get("/staff/inbox/").status_code == 200
    admin.post("/staff/accounts/new@center.org/role", data={"csrf_token": admin.token, "role": "ops"})
    assert newcomer.get("/staff/inbox/").status_code == 403  # roles are read on every request
    reset = temporary_password(admin.post("/staff/accounts/new@center.org/reset",
                                          data={"csrf_token": admin.token}).get_data(as_text=True))
    assert reset != password and newcomer.get("/staff/ops").status_code == 302  # the reset ended the session
    admin.post("/staff/accounts/new@center.org/disable", data={"csrf_token": admin.token})
    assert accounts.get(redis, "new@center.org") is None
    admin.post("/staff/accounts/new@center.org/enable", data={"csrf_token": admin.token})
    assert accounts.get(redis, "new@center.org").role is Role.OPS
    actions = [e["action"] for e in accounts.audit_log(redis)]
    for action in ("create_account", "change_role", "reset_password", "disable_account", "enable_account"):
        assert action in actions


def test_account_mistakes_are_refused_clearly(app):
    admin = login(app, "admin")
    again = admin.post("/staff/accounts/create", data={"csrf_token": admin.token, "email": "staff@center.org",
                                                        "role": "staff"})
    assert again.status_code == 422 and "has an account already" in again.get_data(as_text=True)
    assert admin.post("/staff/accounts/create", data={"csrf_token": admin.token, "email": "nobody",
                                                       "role": "staff"}).status_code == 422
    assert "can&#39;t disable your own account" in admin.post(
        "/staff/accounts/admin@center.org/disable", data={"csrf_token": admin.token}).get_data(as_text=True)
    assert "own admin role" in admin.post("/staff/accounts/admin@center.org/role",
                                          data={"csrf_token": admin.token, "role": "staff"}).get_data(as_text=True)



@pytest.mark.parametrize("email", ["a/b@center.org", "a b@center.org", "a@.org", "a?x@center.org", "a@b@c.org",
                                   "x\u0000@center.org"])
def test_addresses_the_console_could_not_manage_are_refused(app, email):
    admin = login(app, "admin")
    page = admin.post("/staff/accounts/create", data={"csrf_token": admin.token, "email": email, "role": "staff"})
    assert page.status_code == 422 and "must look like name@example.org" in page.get_data(as_text=True)


def test_an_account_made_under_the_older_address_rule_can_still_be_disabled(app, redis):
    redis.hset(keys.of(redis).account("jane&co@center.org"), mapping={"email": "jane&co@center.org", "role": "staff",
                                                            "created_at": 0, "password": "x", "disabled": ""})
    admin = login(app, "admin")
    assert admin.post("/staff/accounts/jane&co@center.org/disable",
                      data={"csrf_token": admin.token}).status_code in (200, 302)
    assert redis.hget(keys.of(redis).account("jane&co@center.org"), "disabled") == b"1"

def test_everyone_can_change_their_own_password(app):
    staff = login(app)
    wrong = staff.post("/staff/accounts/me", data={"csrf_token": staff.token, "current": "nope", "new": "x" * 12,
                                                   "again": "x" * 12})
    assert wrong.status_code == 422
    done = staff.post("/staff/accounts/me", data={"csrf_token": staff.token, "current": PASSWORD,
                                                  "new": "a brand new passphrase", "again": "a brand new passphrase"})
    assert done.status_code == 302 and staff.get("/staff/inbox/").status_code == 302  # signed out


# -- basics ---------------------------------------------------------------------------------------------------

def test_a_friendly_403_with_a_way_back(app):
    page = login(app).get("/staff/accounts/", headers={"Accept": "text/html"})
    text = page.get_data(as_text=True)
    assert page.status_code == 403 and "Not for your account" in text
    assert "this page is for admin accounts, and yours is staff" in text.lower()
    assert 'href="/staff/"' in text and '<nav aria-label="Console"' in text


def test_the_rq_dashboard_has_a_way_back(app):
    page = login(app, "ops").get("/staff/rq/").get_data(as_text=True)
    assert 'href="/staff/ops"' in page and "Back to the console" in page


@pytest.mark.parametrize("path", ["/staff/rq/1/view/queues", "/staff/rq/0/view/job/0",
                                  "/staff/rq/0/data/jobs/0/0/0/0/0.json"])
def test_addresses_the_rq_dashboard_does_not_know_are_not_found(app, path):
    assert login(app, "ops").get(path).status_code == 404


def test_exports_carry_iso_times(app):
    phone = Phone(app.test_client(), "+16175550161")
    phone.text("SIGNS")
    admin = login(app, "admin")
    admin.post(f"/staff/inbox/{pk(app, phone.number)}/note", data={"csrf_token": admin.token, "note": "hi"})
    exported = json.loads(admin.post(f"/staff/people/{pk(app, phone.number)}/export",
                                     data={"csrf_token": admin.token}).get_data(as_text=True))
    assert exported["transcript"][0]["at"] == "2026-11-25T12:00:00-05:00"
    assert exported["history"][0]["at"] == "2026-11-25T12:00:00-05:00" and exported["notes"][0]["text"] == "hi"


def test_nav_marks_the_current_page_and_skips_to_content(app):
    page = login(app, "admin").get("/staff/inbox/").get_data(as_text=True)
    assert '<a href="/staff/inbox/" aria-current="page">Inbox</a>' in page
    assert '<a class="skip" href="#main">Skip to content</a>' in page and 'id="main"' in page


def test_every_field_has_its_own_label(app):
    phone = Phone(app.test_client(), "+16175550162")
    phone.text("CALL")
    admin = login(app, "admin")
    for path in (f"/staff/inbox/{pk(app, phone.number)}", "/staff/callbacks", "/staff/inbox/", "/staff/simulator/",
                 "/staff/settings/", "/staff/flows/program", "/staff/flows/edit/signs", "/staff/flows/edit/treatment",
                 "/staff/accounts/", "/staff/flows/", "/staff/ops", "/staff/flows/import", "/staff/accounts/me"):
        page = admin.get(path).get_data(as_text=True)
        labels = [re.sub(r"<[^>]+>|\s+", " ", label).strip() for label in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)]
        assert len(labels) == len(set(labels)), (path, sorted(label for label in labels if labels.count(label) > 1))
        for field in re.findall(r'<(?:input|textarea|select) [^>]*id="([^"]+)"', page):
            assert f'for="{field}"' in page, (path, field)


# -- found in review ----------------------------------------------------------------------------------------

def test_a_follow_up_caught_in_delivery_by_a_take_over_is_not_sent(app, clock, redis, fake):
    from service.store import messages as outbound
    from service.store.messages import Kind
    phone = Phone(app.test_client(), "+16175550171")
    phone.text("hello")
    person = pk(app, phone.number)
    pipe = redis.pipeline()
    outbound.create(pipe, svc_of(app).vault, "fu_inflight", phone.number, "Checking in", Kind.FOLLOWUP, person,
                    clock.now())
    pipe.execute()
    handoff.take_over(svc_of(app), person, "staff@center.org")
    assert deliver(make_runtime(svc_of(app)), "fu_inflight").value == "skipped" and fake.sent() == []


@pytest.mark.parametrize("path", ["/staff/inbox/?p=²", "/staff/inbox/?p=999999999999999999999999999999",
                                  "/staff/inbox/?p=999999999999999999999999999999&fragment=1",
                                  "/staff/inbox/?p=-1"])
def test_odd_page_numbers_are_no_500(app, path):
    assert login(app).get(path).status_code == 200


@pytest.mark.parametrize("days", ["²", "٣"])
def test_odd_digits_in_days_are_refused_not_a_500(app, days):
    assert login(app).get(f"/staff/insights.json?days={days}").status_code == 400


def test_account_routes_with_no_address_are_no_500(app):
    admin = login(app, "admin")
    for action in ("role", "disable", "enable", "reset"):
        response = admin.post(f"/staff/accounts/nobody/{action}", data={"csrf_token": admin.token, "role": "staff"},
                              headers={"Accept": "text/html"})
        assert response.status_code in (404, 422), action


def test_segments_with_a_json_array_is_no_500(app):
    staff = login(app)
    assert staff.post("/staff/inbox/segments", json=[1, 2], headers={"X-CSRFToken": staff.token}).status_code == 200
    admin = login(app, "admin")
    assert admin.post("/staff/flows/segments", json="x", headers={"X-CSRFToken": admin.token}).status_code == 200
    lone = {"text": "hi \ud800 there"}  # JSON may carry half of a surrogate pair
    assert staff.post("/staff/inbox/segments", json=lone, headers={"X-CSRFToken": staff.token}).status_code == 200
    assert admin.post("/staff/flows/segments", json=lone, headers={"X-CSRFToken": admin.token}).status_code == 200


def test_staff_actions_never_bring_back_an_erased_person(app, redis):
    from service.erase import erase_person
    phone = Phone(app.test_client(), "+16175550172")
    phone.text("hello")
    person = pk(app, phone.number)
    staff = login(app)
    page = staff.get(f"/staff/inbox/{person}").get_data(as_text=True)
    assert erase_person(svc_of(app), person)
    refused = staff.post(f"/staff/inbox/{person}/reply", data={"csrf_token": staff.token, "text": "Hi",
                                                               "nonce": nonce(page)})
    assert refused.status_code == 404
    with pytest.raises(handoff.ReplyRefused):
        handoff.reply(svc_of(app), person, "staff@center.org", "Hi", "12" * 8)
    assert not handoff.take_over(svc_of(app), person, "staff@center.org")
    assert not handoff.add_note(svc_of(app), person, "staff@center.org", "note")
    assert not redis.exists(keys.of(redis).transcript(person)) and not redis.exists(keys.of(redis).notes(person))
    assert redis.hget(keys.of(redis).contact(person), holds.FIELD) is None and redis.zscore(keys.of(redis).HOLDS, person) is None


def test_a_double_submitted_reply_is_counted_and_recorded_once(app, redis, fake):
    phone = Phone(app.test_client(), "+16175550173")
    phone.text("hello")
    person = pk(app, phone.number)
    for _ in range(2):
        handoff.reply(svc_of(app), person, "staff@center.org", "Hello there", "34" * 8)
    day = redis.hgetall("sms:{main}:daily:2026-11-25")
    assert int(day[b"staff_replies"]) == 1
    assert [m["body"] for m in people_transcript(app, person)].count("Hello there") == 1


def people_transcript(app, person):
    from service.store import people
    return people.transcript(svc_of(app).redis, svc_of(app).vault, person)


def test_an_admin_cannot_disable_or_demote_themselves_in_other_capitals(app, redis):
    admin = login(app, "admin")
    admin.post("/staff/accounts/ADMIN@center.org/disable", data={"csrf_token": admin.token})
    admin.post("/staff/accounts/Admin@Center.org/role", data={"csrf_token": admin.token, "role": "staff"})
    assert accounts.get(redis, "admin@center.org").role is Role.ADMIN


def test_guessing_the_current_password_is_throttled(app):
    staff = login(app)
    statuses = [staff.post("/staff/accounts/me", data={"csrf_token": staff.token, "current": f"guess {i}",
                                                       "new": "x" * 12, "again": "x" * 12}).status_code
                for i in range(8)]
    assert statuses[0] == 422 and 429 in statuses


def test_an_idle_release_spares_a_hold_taken_again_meanwhile(app, clock, redis):
    phone = Phone(app.test_client(), "+16175550174")
    phone.text("hello")
    person = pk(app, phone.number)
    handoff.take_over(svc_of(app), person, "staff@center.org")
    clock.advance(25 * HOUR)
    cutoff = clock.now() - 24 * HOUR
    handoff.take_over(svc_of(app), person, "admin@center.org")  # between the idle list and the release
    assert not handoff.hand_back(svc_of(app), person, "system", "hold_released_idle", idle_before=cutoff)
    assert holds.holder(redis, person) == "admin@center.org"
