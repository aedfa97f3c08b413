"""A question's timeout: the bare person key in the due set (a person waits at one question at a time),
fired only for the question it belongs to, once, inside the send window; dropped by an answer, STOP or
erasure."""
from datetime import datetime

import pytest

from service import queues
from service.erase import erase_person
from service.store import conversations, followups, keys, messages, outbox
from tests.conftest import NOON, NY, svc_of
from workers.dispatch import dispatch_due
from workers.followup import Outcome, message_id, send_followup
from workers.runtime import make_runtime

DAY = 86400
NUDGE = "Thinking of you after yesterday"


@pytest.fixture
def rt(app):
    return make_runtime(svc_of(app))


def pk_of(rt, phone) -> str:
    return rt.svc.vault.person_key(phone.number)


def sent(rt) -> list[str]:
    return [m["body"] for m in outbox.read(rt.svc.redis, rt.svc.vault)]


def dispatched(rt, at: float) -> list[str]:
    """The dispatcher's tick at `at`: the job arguments it queued."""
    rt.svc.clock.set(at)
    dispatch_due(rt)
    return [job.args[0] for job in queues.queue(rt.svc.redis, queues.FOLLOWUPS).jobs]


def conversation(rt, pk):
    return conversations.decode(rt.svc.redis.hget(keys.of(rt.svc.redis).contact(pk), conversations.FIELD))


def test_a_waiting_question_is_its_person_key_in_the_due_set_and_nothing_on_the_record(rt, phone):
    phone.text("SIGNS")
    pk = pk_of(rt, phone)
    assert [m.decode() for m in rt.svc.redis.zrange(keys.of(rt.svc.redis).FOLLOWUPS_DUE, 0, -1)] == [pk]
    assert rt.svc.redis.hget(keys.of(rt.svc.redis).contact(pk), followups.FIELD) is None
    due = followups.timeout_of(rt.svc.redis, pk)
    assert due >= NOON + DAY and 9 <= datetime.fromtimestamp(due, NY).hour < 20
    assert rt.svc.redis.object("encoding", keys.of(rt.svc.redis).contact(pk)) in (b"ziplist", b"listpack")  # Redis' compact hash


def test_the_timeout_sends_its_step_once_and_they_still_wait_at_the_question(rt, phone):
    phone.text("SIGNS")
    pk = pk_of(rt, phone)
    due = followups.timeout_of(rt.svc.redis, pk)
    assert dispatched(rt, due - 1) == []
    [arg] = dispatched(rt, due)
    assert arg == followups.job_arg(pk, due) and followups.timeout_of(rt.svc.redis, pk) is None
    assert send_followup(rt, arg) is Outcome.SENT
    assert len(sent(rt)) == 1 and sent(rt)[0].startswith(NUDGE)
    assert conversation(rt, pk).step == "ask" and conversation(rt, pk).since == int(due)  # ME or OTHER still answer
    assert send_followup(rt, arg) is Outcome.HANDED_OVER and len(sent(rt)) == 1  # a retry sends nothing more
    assert followups.timeout_of(rt.svc.redis, pk) is None  # the nudge asks nothing new: no second timeout


def test_a_retry_after_a_crash_between_commit_and_delivery_delivers_what_was_written(rt, phone):
    phone.text("SIGNS")
    pk = pk_of(rt, phone)
    [arg] = dispatched(rt, followups.timeout_of(rt.svc.redis, pk))
    rt.svc.redis.hset(keys.of(rt.svc.redis).contact(pk), "undeliverable", 1)  # first run: nothing written...
    assert send_followup(rt, arg) is Outcome.UNDELIVERABLE and sent(rt) == []
    rt.svc.redis.hdel(keys.of(rt.svc.redis).contact(pk), "undeliverable")
    assert send_followup(rt, arg) is Outcome.SENT  # ...so the retry decides afresh
    assert messages.exists(rt.svc.redis, message_id(arg))


def test_answering_drops_the_timeout(rt, phone):
    phone.text("SIGNS")
    pk = pk_of(rt, phone)
    phone.text("other")
    assert followups.timeout_of(rt.svc.redis, pk) is None
    assert [f.split(":")[2] for f in followups.pending_of(rt.svc.redis, pk)] == ["other_checkin"]


def test_a_timeout_job_made_before_they_started_again_sends_nothing(rt, phone):
    """The job was queued, then the person asked again: the new question has its own, later timeout."""
    phone.text("SIGNS")
    pk = pk_of(rt, phone)
    [arg] = dispatched(rt, followups.timeout_of(rt.svc.redis, pk))
    phone.text("SIGNS")  # asked again, at the moment the old timeout came due
    later = followups.timeout_of(rt.svc.redis, pk)
    assert later >= rt.svc.now() + DAY
    assert send_followup(rt, arg) is Outcome.SUPERSEDED
    assert not any(b.startswith(NUDGE) for b in sent(rt))
    assert followups.timeout_of(rt.svc.redis, pk) == later  # untouched


def test_a_timeout_whose_step_was_edited_away_is_superseded(rt, phone, redis):
    phone.text("SIGNS")
    pk = pk_of(rt, phone)
    [arg] = dispatched(rt, followups.timeout_of(redis, pk))
    redis.hset(keys.of(redis).contact(pk), conversations.FIELD, "signs|no_such_step|%d|0" % NOON)
    assert send_followup(rt, arg) is Outcome.SUPERSEDED and sent(rt) == []


def test_at_night_the_timeout_waits_for_morning_under_the_person_key(rt, phone):
    phone.text("SIGNS")
    pk = pk_of(rt, phone)
    [arg] = dispatched(rt, followups.timeout_of(rt.svc.redis, pk))
    night = datetime(2026, 11, 26, 23, 30, tzinfo=NY).timestamp()
    rt.svc.clock.set(night)
    assert send_followup(rt, arg) is Outcome.DEFERRED and sent(rt) == []
    morning = datetime.fromtimestamp(followups.timeout_of(rt.svc.redis, pk), NY)
    assert morning.date().day == 27 and 9 <= morning.hour < 10
    assert conversation(rt, pk).since == NOON  # still the same question


@pytest.mark.parametrize("how", ["STOP", "erase", "a new keyword"])
def test_stop_erasure_or_a_new_flow_drop_the_timeout(rt, phone, how):
    phone.text("SIGNS")
    pk = pk_of(rt, phone)
    if how == "STOP":
        phone.text("STOP")
    elif how == "erase":
        assert erase_person(rt.svc, pk)
    else:
        phone.text("TREATMENT")
    assert followups.timeout_of(rt.svc.redis, pk) is None


def test_people_page_counts_the_timeout_as_pending(rt, phone):
    phone.text("SIGNS")
    assert followups.everything_pending(rt.svc.redis, pk_of(rt, phone)) == (
        followups.job_arg(pk_of(rt, phone), followups.timeout_of(rt.svc.redis, pk_of(rt, phone))),)
