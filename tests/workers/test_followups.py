"""Follow-ups: scheduled by flows, superseded, cancelled by STOP, held to quiet hours, caps and horizon."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from service import queues
from service.store import followups, keys, messages, outbox as outbox_store
from service.store.followups import FollowUpId
from tests.conftest import NOON, NY, svc_of
from workers.dispatch import dispatch_due
from workers.followup import Outcome, message_id, send_followup
from workers.runtime import make_runtime

DAY = 86400


def outbox(redis, vault):
    return outbox_store.read(redis, vault)


@pytest.fixture
def rt(app):
    return make_runtime(svc_of(app))


def at(rt, moment: float):
    rt.svc.clock.set(moment)
    return rt


def pending(rt, phone) -> list[FollowUpId]:
    pk = rt.svc.vault.person_key(phone.number)
    return [FollowUpId.parse(f) for f in followups.pending_of(rt.svc.redis, pk)]


def due_scores(rt) -> dict[str, float]:
    return {m.decode(): s for m, s in rt.svc.redis.zrange(keys.of(rt.svc.redis).FOLLOWUPS_DUE, 0, -1, withscores=True)}


def test_treatment_schedules_its_followups_in_send_hours(rt, phone):
    phone.text("TREATMENT")
    ids = pending(rt, phone)
    assert [(f.flow, f.step) for f in ids] == [("treatment", 0), ("treatment", 1)]
    for fid, score in due_scores(rt).items():
        local = datetime.fromtimestamp(score, NY)
        assert 9 <= local.hour < 20


def test_new_keyword_supersedes_and_stop_cancels(rt, phone):
    phone.text("SIGNS")
    phone.text("TREATMENT")
    assert {f.flow for f in pending(rt, phone)} == {"treatment"}
    assert {FollowUpId.parse(m).flow for m in due_scores(rt)} == {"treatment"}
    phone.text("STOP")
    assert pending(rt, phone) == [] and due_scores(rt) == {}


def test_send_at_due_time_goes_to_outbox(rt, phone):
    phone.text("TREATMENT")
    fid = str(pending(rt, phone)[0])
    assert send_followup(at(rt, NOON + DAY), fid) is Outcome.SENT
    [sent] = outbox(rt.svc.redis, rt.svc.vault)
    assert sent["to"] == phone.number and "detox" in sent["body"] and "STOP" in sent["body"]
    assert send_followup(at(rt, NOON + DAY), fid) is Outcome.HANDED_OVER  # a second run sends nothing
    assert len(outbox(rt.svc.redis, rt.svc.vault)) == 1
    assert messages.load(rt.svc.redis, rt.svc.vault, message_id(fid))["state"] == "sent"


def test_stop_after_dispatch_still_wins(rt, phone):
    phone.text("TREATMENT")
    fid = str(pending(rt, phone)[0])
    phone.text("STOP")
    assert send_followup(at(rt, NOON + DAY), fid) is Outcome.SUPERSEDED
    assert outbox(rt.svc.redis, rt.svc.vault) == []


def test_quiet_hours_defer_to_morning_with_jitter(rt, phone):
    phone.text("TREATMENT")
    fid = str(pending(rt, phone)[0])
    night = datetime(2026, 11, 26, 23, 30, tzinfo=NY).timestamp()
    assert send_followup(at(rt, night), fid) is Outcome.DEFERRED
    local = datetime.fromtimestamp(due_scores(rt)[fid], NY)
    assert local.date().day == 27 and 9 <= local.hour < 10
    assert outbox(rt.svc.redis, rt.svc.vault) == []


def test_recipient_time_zone_is_used(rt, client):
    from tests.conftest import Phone
    la = Phone(client, "+12135550123")  # Los Angeles
    la.text("TREATMENT")
    fid = str(pending(rt, la)[0])
    eight_am_la = datetime(2026, 11, 26, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp()
    assert send_followup(at(rt, eight_am_la), fid) is Outcome.DEFERRED  # 11:00 in New York, 8:00 in LA


def test_weekly_cap_defers_the_fourth(rt, phone):
    sent = 0
    for i, word in enumerate(["SIGNS", "TREATMENT", "CALL", "SIGNS"]):
        phone.text(word)
        fid = followups.everything_pending(rt.svc.redis, rt.svc.vault.person_key(phone.number))[0]  # SIGNS: its timeout
        outcome = send_followup(at(rt, NOON + i * 3600), fid)
        sent += outcome is Outcome.SENT
    assert sent == 3 and len(outbox(rt.svc.redis, rt.svc.vault)) == 3


def test_horizon_expires_old_followups(rt, phone):
    phone.text("TREATMENT")
    fid = str(pending(rt, phone)[0])
    assert send_followup(at(rt, NOON + 20 * DAY), fid) is Outcome.EXPIRED
    assert pending(rt, phone)[0].step == 1 and fid not in due_scores(rt)


def test_dispatch_moves_only_due_ids_into_rq(rt, phone, redis):
    phone.text("TREATMENT")
    first, second = sorted(due_scores(rt).items(), key=lambda kv: kv[1])
    assert dispatch_due(at(rt, first[1])) == 1
    queue = queues.queue(redis, queues.FOLLOWUPS)
    assert queue.count == 1 and queue.jobs[0].args == (first[0],)
    assert list(due_scores(rt)) == [second[0]]
    assert dispatch_due(at(rt, first[1])) == 0


def test_memory_per_pending_followup_is_small(redis):
    """A quick guard on the layout (people already exist; two follow-ups each); bench/ measures 1M."""
    people = [f"{i:020d}" for i in range(10000)]
    pipe = redis.pipeline(transaction=False)
    for pk in people:
        pipe.hset(f"sms:{{main}}:p:{pk}", mapping={"consent": "subscribed", "phone": "x" * 100, "last_seen": 1764000000})
    pipe.execute()
    before = redis.info("memory")["used_memory"]
    for pk in people:
        ids = [str(FollowUpId(pk, "signs", step, 1764000000)) for step in (0, 1)]
        pipe.zadd(keys.of(pipe).FOLLOWUPS_DUE, {fid: 1764000000 + i for i, fid in enumerate(ids)})
        pipe.hset(f"sms:{{main}}:p:{pk}", followups.FIELD, " ".join(ids))
    pipe.execute()
    per = (redis.info("memory")["used_memory"] - before) / (2 * len(people))
    assert per < 300, per


def test_every_time_zone_of_the_number_must_be_in_the_window(rt, client):
    from tests.conftest import Phone
    alaska = Phone(client, "+19075550123")  # area code 907 spans Anchorage and Adak
    alaska.text("TREATMENT")
    for score in due_scores(rt).values():
        for zone in ("America/Anchorage", "America/Adak"):
            assert 9 <= datetime.fromtimestamp(score, ZoneInfo(zone)).hour < 20


def test_requeued_followup_is_not_sent_at_night(rt, phone):
    phone.text("TREATMENT")
    fid = str(pending(rt, phone)[0])
    assert send_followup(at(rt, NOON + DAY), fid) is Outcome.SENT  # record created and sent
    mid = message_id(fid)
    rt.svc.redis.hset(keys.of(rt.svc.redis).message(mid), "state", "queued")  # as if a failed job were requeued
    night = datetime(2026, 11, 27, 2, 0, tzinfo=NY).timestamp()
    assert send_followup(at(rt, night), fid) is Outcome.HANDED_OVER
    assert messages.load(rt.svc.redis, rt.svc.vault, mid)["state"] == "skipped"
    assert len(outbox(rt.svc.redis, rt.svc.vault)) == 1


def test_dispatch_keeps_an_id_a_worker_deferred_meanwhile(rt, phone, redis):
    phone.text("TREATMENT")
    taken = followups.take_due(redis, 10**10, 10)
    fid = taken[0][0]
    redis.zadd(keys.of(redis).FOLLOWUPS_DUE, {fid: taken[0][1] + 3600})  # a worker deferred it before the tick removed it
    assert followups.remove_dispatched(redis, taken) == 1  # only the other one, unchanged, is removed
    assert redis.zscore(keys.of(redis).FOLLOWUPS_DUE, fid) == taken[0][1] + 3600


def test_toll_free_number_falls_back_to_the_center_zone_in_summer(rt, redis):
    from flows.schedule import send_time
    from service.phone import recipient_zones
    cfg = rt.svc.config
    zones = recipient_zones("+18005551234", cfg.timezone)
    assert zones == (cfg.timezone,)
    july_night = datetime(2026, 7, 15, 23, 0, tzinfo=NY).timestamp()
    assert datetime.fromtimestamp(send_time(cfg.send_rules(), zones, july_night, "x"), NY).hour >= 9


def test_first_contact_racing_a_stop_cannot_resubscribe(app, redis):
    """Two first texts handled at once: SIGNS read the state before STOP committed."""
    from service.sms.inbound import process
    from service.sms.validate import InboundSms
    from service.store import inbound, people
    svc = svc_of(app)
    number, now = "+16175550177", svc.now()
    pk = svc.vault.person_key(number)
    _, stale = inbound.open_inbound(redis, svc.vault, "SMrace2", pk, now)  # SIGNS reads: nobody yet
    _, fresh = inbound.open_inbound(redis, svc.vault, "SMrace1", pk, now)
    process(svc, InboundSms("SMrace1", number, "STOP"), pk, now, fresh)
    process(svc, InboundSms("SMrace2", number, "SIGNS"), pk, now, stale)
    assert people.consent_of(redis, pk).value == "opted_out"


def test_followups_pending_from_before_conversations_go_out_or_are_dropped_and_counted(rt, redis, app):
    """Data as the previous release wrote it: SIGNS had two timed follow-ups (its steps 0 and 1, now gone:
    SIGNS asks a question instead), TREATMENT has them still. Ids "person:flow:step:scheduled-base36"."""
    from service.store.followups import _b36
    vault, now = rt.svc.vault, NOON - 2 * DAY
    number = "+16175550123"
    pk = vault.person_key(number)
    old = [f"{pk}:signs:0:{_b36(int(now))}", f"{pk}:signs:1:{_b36(int(now))}", f"{pk}:treatment:0:{_b36(int(now))}"]
    redis.hset(keys.of(redis).contact(pk), mapping={"consent": "subscribed", "phone": vault.encrypt(number),
                                          "first_seen": int(now), "last_seen": int(now), "followups": " ".join(old)})
    redis.zadd(keys.of(redis).FOLLOWUPS_DUE, {fid: now + DAY for fid in old})
    at(rt, NOON)
    assert [send_followup(rt, fid) for fid in old] == [Outcome.GONE, Outcome.GONE, Outcome.SENT]
    [sent] = outbox(redis, vault)
    assert "detox" in sent["body"]  # the text TREATMENT's first follow-up had, and has
    assert redis.hget(keys.of(redis).METRICS_EVENTS, "followups_gone") == b"2"
    assert redis.zcard(keys.of(redis).FOLLOWUPS_DUE) == 0 and followups.pending_of(redis, pk) == ()
    text = app.test_client().get("/metrics", headers={"Authorization": "Bearer x"})
    assert text.status_code == 401  # counted for Prometheus too (see tests/ops)
