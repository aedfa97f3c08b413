"""Delivery through Twilio's own client against a local fake of its API, over real HTTP."""
import time

import pytest

from service import queues
from service.store import followups, keys, messages as outbound, people
from service.store.messages import Kind, OutState, SendClaim
from tests.conftest import ACCOUNT_SID, Phone, make_env, post_signed, svc_of, make_app
from workers import delivery
from workers.delivery import RetryLater, deliver
from workers.runtime import Runtime, make_runtime
from workers.sender import Failure, SendError, TwilioSender

TO = "+16175550123"


@pytest.fixture
def twilio_app(redis_url, redis, fake, clock):
    return make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                               STAFF_ALERT_NUMBERS="+16175550100,+16175550101", SEND_RATE_PER_SECOND="100"),
                      clock=clock)


@pytest.fixture
def rt(twilio_app):
    return make_runtime(svc_of(twilio_app))


def queue_message(rt, mid="m1", to=TO, person=""):
    pipe = rt.svc.redis.pipeline()
    outbound.create(pipe, rt.svc.vault, mid, to, "hello", Kind.FOLLOWUP, person, rt.svc.now())
    pipe.execute()
    return mid


def test_twilio_sender_is_used_and_sends_status_callback(rt, fake):
    assert isinstance(rt.sender, TwilioSender)
    assert deliver(rt, queue_message(rt)) is OutState.SENT
    [got] = fake.sent()
    assert got.params["To"] == TO and got.params["From"] == "+18555909944"
    assert got.params["StatusCallback"] == "https://sms.example.org/twilio/status"
    rec = outbound.load(rt.svc.redis, rt.svc.vault, "m1")
    assert rec["provider_sid"] == got.sid


def test_delivery_is_at_most_once(rt, fake):
    mid = queue_message(rt)
    deliver(rt, mid)
    deliver(rt, mid)
    assert len(fake.sent()) == 1


def test_crash_after_claim_is_never_resent(rt, fake, clock):
    mid = queue_message(rt)
    assert outbound.claim(rt.svc.redis, mid, rt.svc.now())  # a worker claimed it, then died mid-call
    with pytest.raises(RetryLater):  # it may still be in flight: looked at again later
        deliver(rt, mid)
    clock.advance(delivery.STALLED_AFTER + 1)
    assert deliver(rt, mid) is OutState.UNKNOWN  # never sent again; its outcome is recorded as unknown
    assert outbound.load(rt.svc.redis, rt.svc.vault, mid)["state"] == "unknown"
    assert deliver(rt, mid) is OutState.UNKNOWN
    assert fake.received == []


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_release_for_retry(rt, fake, status):
    fake.fail(TO, status, 20429 if status == 429 else None)
    mid = queue_message(rt)
    with pytest.raises(RetryLater):
        deliver(rt, mid)
    assert outbound.load(rt.svc.redis, rt.svc.vault, mid)["state"] == "queued"
    assert deliver(rt, mid) is OutState.SENT and len(fake.sent()) == 1


def test_21610_marks_opted_out_and_cancels_followups(rt, fake, twilio_app):
    phone = Phone(twilio_app.test_client(), TO)
    phone.text("SIGNS")
    pk = rt.svc.vault.person_key(TO)
    assert followups.everything_pending(rt.svc.redis, pk)
    fake.fail(TO, 400, 21610)
    assert deliver(rt, queue_message(rt, person=pk)) is OutState.OPTED_OUT
    assert people.consent_of(rt.svc.redis, pk).value == "opted_out"
    assert followups.everything_pending(rt.svc.redis, pk) == ()
    assert people.consent_history(rt.svc.redis, pk)[-1]["keyword"] == "CARRIER_21610"


@pytest.mark.parametrize("code", [21211, 21614])
def test_bad_numbers_marked_undeliverable(rt, fake, twilio_app, code):
    Phone(twilio_app.test_client(), TO).text("TREATMENT")
    pk = rt.svc.vault.person_key(TO)
    fake.fail(TO, 400, code)
    assert deliver(rt, queue_message(rt, person=pk)) is OutState.UNDELIVERABLE
    assert rt.svc.redis.hget(keys.of(rt.svc.redis).contact(pk), "undeliverable")
    assert followups.everything_pending(rt.svc.redis, pk) == ()


def test_connection_refused_is_retryable(rt):
    from devtools.embedded_redis import free_port
    rt.sender.client.api.base_url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SendError) as err:
        rt.sender.send(TO, "hi")
    assert err.value.failure is Failure.RETRY


def test_read_timeout_is_unknown_and_not_resent(twilio_app, fake):
    svc = svc_of(twilio_app)
    sender = TwilioSender(svc.config, timeout=0.5)
    rt = make_runtime(svc, sender)
    fake.hang.add(TO)
    mid = queue_message(rt)
    assert deliver(rt, mid) is OutState.UNKNOWN
    fake.hang.clear()
    assert deliver(rt, mid) is OutState.UNKNOWN and fake.sent() == []


def test_opted_out_person_is_skipped_at_send_time(rt, fake, twilio_app):
    phone = Phone(twilio_app.test_client(), TO)
    phone.text("STOP")
    pk = rt.svc.vault.person_key(TO)
    assert deliver(rt, queue_message(rt, person=pk)) is OutState.SKIPPED
    assert fake.received == []


def test_call_alerts_on_call_staff_without_personal_details(twilio_app, rt, fake, redis):
    Phone(twilio_app.test_client(), TO).text("CALL")
    jobs = queues.queue(redis, queues.ALERTS).jobs
    assert len(jobs) == 2
    for job in jobs:
        deliver(rt, job.args[0])
    bodies = {r.params["To"]: r.params["Body"] for r in fake.sent()}
    assert set(bodies) == {"+16175550100", "+16175550101"}
    assert all("call back" in b and "0123" not in b for b in bodies.values())


def test_crisis_alert_is_urgent_and_repeat_call_adds_none(twilio_app, redis):
    phone = Phone(twilio_app.test_client(), TO)
    phone.text("CALL")
    phone.text("CALL again please")
    assert queues.queue(redis, queues.ALERTS).count == 2
    phone.text("he overdosed")
    bodies = [outbound.load(redis, svc_of(twilio_app).vault, j.args[0])["body"]
              for j in queues.queue(redis, queues.ALERTS).jobs]
    assert sum("URGENT" in b for b in bodies) == 2


# -- status callbacks -----------------------------------------------------------------------------------

def status(client, sid, value, code=None):
    params = {"MessageSid": sid, "MessageStatus": value, "AccountSid": ACCOUNT_SID}
    if code:
        params["ErrorCode"] = code
    return post_signed(client, "/twilio/status", params)


def test_status_moves_forward_only(twilio_app, rt, fake):
    mid = queue_message(rt)
    deliver(rt, mid)
    sid = fake.sent()[0].sid
    client = twilio_app.test_client()
    for value in ("sent", "queued", "delivered", "sent", "sending", "delivered"):
        assert status(client, sid, value).status_code == 204
    rec = outbound.load(rt.svc.redis, rt.svc.vault, mid)
    assert rec["status"] == "delivered"


def test_failed_status_records_error_code(twilio_app, rt, fake):
    mid = queue_message(rt)
    deliver(rt, mid)
    client = twilio_app.test_client()
    status(client, fake.sent()[0].sid, "undelivered", "30006")
    rec = outbound.load(rt.svc.redis, rt.svc.vault, mid)
    assert (rec["status"], rec["error_code"]) == ("undelivered", "30006")


def test_status_callback_validation(twilio_app, redis):
    client = twilio_app.test_client()
    assert status(client, "SMabc", "bogus").status_code == 400
    assert status(client, "SMabc", "sent", "x1").status_code == 400
    params = {"MessageSid": "SMabc", "MessageStatus": "sent"}
    assert post_signed(client, "/twilio/status", params, signature="nope").status_code == 403


def create_alerts(rt, source_id):
    pipe = rt.svc.redis.pipeline()
    mids = outbound.create_alerts(pipe, rt.svc.vault, source_id, rt.svc.config.staff_alert_numbers, "URGENT",
                                  rt.svc.now())
    pipe.execute()
    return mids


def test_alert_left_unqueued_by_a_crash_is_swept(twilio_app, rt, fake, redis, clock):
    from workers.sweep import sweep_alerts
    mids = create_alerts(rt, "SMcrash")  # then the process died before queueing them
    assert queues.queue(redis, queues.ALERTS).count == 0
    assert sweep_alerts(rt) == []  # too young: its own process may still queue it
    clock.advance(120)
    assert sorted(sweep_alerts(rt)) == sorted(mids)
    for job in queues.queue(redis, queues.ALERTS).jobs:
        deliver(rt, job.args[0])
    assert len(fake.sent()) == 2 and sweep_alerts(rt) == []


class ScriptedLimiter:
    """Our own seam (workers.ratelimit.RateLimiter's interface): scripted waits, something to do while
    a worker waits for its slot, and a count of reservations."""

    def __init__(self, waits=(0.0,), during_wait=None):
        self.waits, self.during_wait, self.reserved = list(waits), during_wait, 0

    def reserve(self) -> float:
        self.reserved += 1
        if self.during_wait:
            self.during_wait()
        return self.waits.pop(0) if len(self.waits) > 1 else self.waits[0]


def test_a_stop_that_arrives_while_waiting_for_the_slot_is_honoured(rt, fake, twilio_app):
    phone = Phone(twilio_app.test_client(), TO)
    phone.text("SIGNS")
    person = rt.svc.vault.person_key(TO)
    mid = queue_message(rt, person=person)
    paced = Runtime(rt.svc, rt.sender, ScriptedLimiter([0.05], during_wait=lambda: phone.text("STOP")))
    assert deliver(paced, mid) is OutState.SKIPPED
    assert fake.received == []
    assert outbound.load(rt.svc.redis, rt.svc.vault, mid)["state"] == "skipped"


def stall_first_sleep(monkeypatch, extra=0.05):
    """The worker's first sleep overshoots, as a process stalled by GC or a busy CPU would."""
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        time.sleep(seconds + (extra if len(calls) == 1 else 0))
    monkeypatch.setattr(delivery, "_sleep", sleep)


def stall_every_sleep(monkeypatch, extra=0.05):
    monkeypatch.setattr(delivery, "_sleep", lambda seconds: time.sleep(seconds + extra))


def test_a_late_wake_takes_a_new_slot_instead_of_sending_off_pace(rt, fake, monkeypatch):
    stall_first_sleep(monkeypatch)
    limiter = ScriptedLimiter([0.001])
    assert deliver(Runtime(rt.svc, rt.sender, limiter), queue_message(rt)) is OutState.SENT
    assert limiter.reserved == 2 and len(fake.sent()) == 1


def test_a_process_that_never_wakes_on_time_still_sends(rt, fake, monkeypatch):
    """Pacing is best effort past a few tries: a text is never dropped for it."""
    stall_every_sleep(monkeypatch)
    limiter = ScriptedLimiter([0.001])
    assert deliver(Runtime(rt.svc, rt.sender, limiter), queue_message(rt)) is OutState.SENT
    assert limiter.reserved == delivery.MAX_SLOTS and len(fake.sent()) == 1


def test_no_slot_within_the_horizon_holds_nothing_and_retries_later(rt, fake):
    mid = queue_message(rt)
    with pytest.raises(RetryLater):
        deliver(Runtime(rt.svc, rt.sender, ScriptedLimiter([-5.0])), mid)
    assert fake.received == []
    assert outbound.load(rt.svc.redis, rt.svc.vault, mid)["state"] == "queued"
    assert deliver(rt, mid) is OutState.SENT and len(fake.sent()) == 1


def test_claim_refuses_a_person_who_opted_out_or_was_erased_and_a_message_already_taken(rt, redis):
    redis.hset(keys.of(redis).contact("pk1"), mapping={"consent": "opted_out", "phone": "x"})
    mid = queue_message(rt, "m-out", person="pk1")
    claimed = outbound.claim(redis, mid, rt.svc.now(), "pk1")
    assert claimed is SendClaim.REFUSED and not claimed
    assert outbound.load(redis, rt.svc.vault, mid)["state"] == "skipped"
    erased = queue_message(rt, "m-erased", person="pk-gone")  # created while the erasure ran: no contact
    assert outbound.claim(redis, erased, rt.svc.now(), "pk-gone") is SendClaim.REFUSED
    assert not redis.exists(keys.of(redis).message(erased))  # the number and text go too
    assert outbound.finish(redis, erased, OutState.SKIPPED, 86400) is False and not redis.exists(keys.of(redis).message(erased))
    redis.hset(keys.of(redis).contact("pk2"), "phone", "x")
    other = queue_message(rt, "m-ok", person="pk2")
    assert outbound.claim(redis, other, rt.svc.now(), "pk2") is SendClaim.CLAIMED
    assert outbound.claim(redis, other, rt.svc.now(), "pk2") is SendClaim.TAKEN


def test_an_erasure_during_the_provider_call_is_not_undone(rt, fake, redis):
    mid = queue_message(rt)
    assert outbound.claim(redis, mid, rt.svc.now())
    redis.delete(keys.of(redis).message(mid))  # staff erased the person while Twilio answered
    assert outbound.finish(redis, mid, OutState.SENT, 86400, "SMgone") is False
    assert not redis.exists(keys.of(redis).message(mid)) and not redis.exists(keys.of(redis).provider_sid("SMgone"))


def test_a_staff_alert_stalled_after_its_claim_is_sent_again_by_the_sweeper(twilio_app, rt, fake, redis, clock):
    from workers.sweep import sweep_alerts
    [mid, _] = create_alerts(rt, "SMstall")
    clock.advance(61)
    assert outbound.claim(redis, mid, rt.svc.now())  # then the worker lost Redis before it could record anything
    clock.advance(30)
    assert mid not in sweep_alerts(rt)  # could still be in flight
    clock.advance(90)
    assert mid in sweep_alerts(rt)
    assert outbound.load(redis, rt.svc.vault, mid)["state"] == "queued"
    assert deliver(rt, mid) is OutState.SENT


def test_release_never_recreates_an_erased_record(rt, redis):
    mid = queue_message(rt)
    assert outbound.claim(redis, mid, rt.svc.now())
    redis.delete(keys.of(redis).message(mid))  # erased while the call was in flight
    outbound.release(redis, mid)
    assert not redis.exists(keys.of(redis).message(mid))


def test_a_twin_job_cannot_mark_a_sent_message_skipped(rt, fake, redis):
    mid = queue_message(rt)
    assert deliver(rt, mid) is OutState.SENT
    assert delivery._skip(rt, mid) is OutState.SENT
    assert outbound.load(redis, rt.svc.vault, mid)["state"] == "sent"


def test_warm_up_checks_the_account_and_never_raises(twilio_app, fake, redis_url, caplog):
    sender = TwilioSender(svc_of(twilio_app).config)
    assert sender.warm_up() and fake.account_fetches == 1
    wrong = make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                                TWILIO_AUTH_TOKEN="not-the-token"))
    assert TwilioSender(svc_of(wrong).config).warm_up() is False
    assert "twilio_account_check_failed" in caplog.text
    down = make_app(make_env(redis_url, TWILIO_API_BASE_URL="http://127.0.0.1:9", TWILIO_FROM_NUMBER="+18555909944"))
    assert TwilioSender(svc_of(down).config, timeout=2).warm_up() is False
    assert "twilio_unreachable_at_start" in caplog.text


def test_a_callback_that_beats_our_record_of_the_send_is_adopted(twilio_app, rt, redis):
    """Twilio may call /twilio/status before the worker has written down the sid it got back."""
    client = twilio_app.test_client()
    mid = queue_message(rt)
    assert outbound.claim(redis, mid, rt.svc.now())
    assert status(client, "SMearly1", "delivered").status_code == 204  # before finish()
    assert redis.exists(keys.of(redis).early_status("SMearly1"))
    outbound.finish(redis, mid, OutState.SENT, 86400, "SMearly1")
    rec = outbound.load(redis, rt.svc.vault, mid)
    assert (rec["state"], rec["status"]) == ("sent", "delivered")
    assert not redis.exists(keys.of(redis).early_status("SMearly1"))
    assert status(client, "SMearly1", "sent").status_code == 204  # late and behind: changes nothing
    assert outbound.load(redis, rt.svc.vault, mid)["status"] == "delivered"


def test_an_early_failure_keeps_its_error_code(twilio_app, rt, redis):
    client = twilio_app.test_client()
    mid = queue_message(rt)
    assert outbound.claim(redis, mid, rt.svc.now())
    status(client, "SMearly2", "sent")
    status(client, "SMearly2", "undelivered", "30006")
    outbound.finish(redis, mid, OutState.SENT, 86400, "SMearly2")
    rec = outbound.load(redis, rt.svc.vault, mid)
    assert (rec["status"], rec["error_code"]) == ("undelivered", "30006")
