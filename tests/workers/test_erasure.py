"""Erasure reaches Twilio's copies too: Messages DELETE through the Sender seam, against the fake API."""
import pytest

from service.erase import erase_person
from service.store import keys
from tests.conftest import Phone, make_app, make_env, svc_of
from workers.delivery import RetryLater
from workers.erasure import erase_at_provider
from workers.followup import send_followup
from workers.runtime import make_runtime

CENTER = "+18555909944"


@pytest.fixture
def twilio_app(redis_url, redis, fake, clock):
    return make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=CENTER), clock)


def work_id(redis) -> str:
    [key] = redis.keys("sms:{main}:erasure:*")
    return key.decode().split(":")[-1]


def test_erasing_a_person_deletes_their_texts_at_twilio(twilio_app, fake, redis, clock):
    svc, phone = svc_of(twilio_app), Phone(twilio_app.test_client())
    rt = make_runtime(svc)
    inbound_sid = "SM" + "a" * 32
    phone.text("TREATMENT", sid=inbound_sid)
    fake.add_inbound(inbound_sid, phone.number, CENTER, "TREATMENT")  # what Twilio kept of the text in
    fake.add_inbound("SM" + "b" * 32, CENTER, phone.number, "Treatment works...")  # our TwiML reply: no sid known to us
    fake.add_inbound("SM" + "c" * 32, "+16175550999", CENTER, "someone else")
    pk = svc.vault.person_key(phone.number)
    clock.advance(86400)
    [fid, _] = svc.redis.hget(keys.of(redis).contact(pk), "followups").decode().split()
    send_followup(rt, fid)  # a follow-up through Twilio's API: we know its sid
    assert len(fake.sent()) == 1
    erase_person(svc, pk)
    assert erase_at_provider(rt, work_id(redis)) == 3
    assert sorted(fake.deleted) == sorted([inbound_sid, "SM" + "b" * 32, fake.sent()[0].sid])
    assert list(fake.messages) == ["SM" + "c" * 32]  # nobody else's
    assert not redis.keys("sms:{main}:erasure:*")
    assert erase_at_provider(rt, "gone") == 0  # a second run finds nothing to do


def test_a_message_twilio_is_still_sending_is_deleted_on_a_retry(twilio_app, fake, redis):
    svc, phone = svc_of(twilio_app), Phone(twilio_app.test_client())
    sid = "SM" + "d" * 32
    phone.text("HELP", sid=sid)
    fake.add_inbound(sid, phone.number, CENTER, "HELP")
    fake.fail(sid, 409, 20009)  # "still being processed"
    erase_person(svc, svc.vault.person_key(phone.number))
    rt = make_runtime(svc)
    with pytest.raises(RetryLater):
        erase_at_provider(rt, work_id(redis))
    assert redis.keys("sms:{main}:erasure:*") and sid in fake.messages  # kept for RQ's retry
    assert erase_at_provider(rt, work_id(redis)) == 1 and fake.deleted == [sid]


def test_a_number_that_came_back_before_the_deletion_ran_keeps_its_new_texts(twilio_app, fake, redis, clock):
    """Erased, then they text again before the worker ran: only the texts we knew of are deleted, never
    the new relationship's (the worker can't tell an old TwiML reply from a new one at Twilio)."""
    svc, phone = svc_of(twilio_app), Phone(twilio_app.test_client())
    old = "SM" + "e" * 32
    phone.text("TREATMENT", sid=old)
    fake.add_inbound(old, phone.number, CENTER, "TREATMENT")
    erase_person(svc, svc.vault.person_key(phone.number))
    clock.advance(60)
    new = "SM" + "f" * 32
    phone.text("SIGNS", sid=new)  # back, before the deletion ran
    fake.add_inbound(new, phone.number, CENTER, "SIGNS")
    assert erase_at_provider(make_runtime(svc), work_id(redis)) == 1
    assert fake.deleted == [old] and new in fake.messages
