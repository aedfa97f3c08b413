"""RETENTION_DAYS: what is older goes, by a daily sweep or by the TTL set when a record finished."""
from service.store import accounts, keys, people
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, NOON, Phone, make_app, make_env, replies, svc_of
from workers.retention import sweep
from workers.runtime import make_runtime

DAY = 86400


def test_people_silent_for_the_retention_period_are_erased(redis_url, redis, clock):
    app = make_app(make_env(redis_url, RETENTION_DAYS="30"), clock)
    rt = make_runtime(svc_of(app))
    old, recent = Phone(app.test_client(), "+16175550131"), Phone(app.test_client(), "+16175550132")
    old.text("SIGNS")
    old.text("STOP")
    clock.advance(20 * DAY)
    recent.text("CALL")
    clock.advance(11 * DAY)
    assert sweep(rt)["erased"] == 1
    vault = svc_of(app).vault
    gone, kept = vault.person_key(old.number), vault.person_key(recent.number)
    assert not redis.exists(keys.of(redis).transcript(gone)) and people.phone_of(redis, vault, gone) is None
    assert people.consent_of(redis, gone).value == "opted_out"  # still opted out: no texts on return
    assert people.phone_of(redis, vault, kept) == recent.number
    assert replies(old.text("TREATMENT")) == []


def test_long_conversations_lose_only_what_is_older_than_the_period(redis_url, redis, clock):
    app = make_app(make_env(redis_url, RETENTION_DAYS="30"), clock)
    rt = make_runtime(svc_of(app))
    phone = Phone(app.test_client())
    phone.text("SIGNS")
    clock.advance(40 * DAY)
    phone.text("TREATMENT")
    sweep(rt)
    pk = svc_of(app).vault.person_key(phone.number)
    messages = people.transcript(redis, svc_of(app).vault, pk)
    assert [m["body"] for m in messages if m["dir"] == "in"] == ["TREATMENT"]
    assert all("sid" not in e for e in people.consent_history(redis, pk))  # older than 30 days: no MessageSid
    assert redis.zscore(keys.of(redis).FIRST_SEEN, pk) == clock.now()  # not looked at again until that exchange ages


def test_finished_records_expire_after_the_period(redis_url, redis, clock):
    from tests.staff.test_staff import PASSWORD, login
    app = make_app(make_env(redis_url, RETENTION_DAYS="30"), clock)
    accounts.create(redis, "staff@center.org", PASSWORD, Role.STAFF, now=NOON, method=CHEAP_HASH)
    Phone(app.test_client()).text("CALL he overdosed")
    staff = login(app)
    [cb] = [k.decode().split(":")[-1] for k in redis.keys("sms:{main}:callback:*")]
    staff.post(f"/staff/callbacks/{cb}/claim", data={"csrf_token": staff.token})
    staff.post(f"/staff/callbacks/{cb}/outcome", data={"csrf_token": staff.token, "outcome": "reached"})
    staff.post(f"/staff/crisis/{cb}/resolve", data={"csrf_token": staff.token, "outcome": "advised_911"})
    assert 29 * DAY < redis.ttl(keys.of(redis).callback(cb)) <= 30 * DAY
    assert 29 * DAY < redis.ttl(keys.of(redis).crisis_flag(cb)) <= 30 * DAY


def test_old_audit_entries_go(redis_url, redis, clock):
    app = make_app(make_env(redis_url, RETENTION_DAYS="30"), clock)
    accounts.audit(redis, "a@center.org", "view_conversation", "x", now=clock.now())
    clock.advance(31 * DAY)
    accounts.audit(redis, "a@center.org", "export_person", "y", now=clock.now())
    sweep(make_runtime(svc_of(app)))
    assert [e["action"] for e in accounts.audit_log(redis)] == ["export_person"]


def test_old_staff_notes_and_closed_call_backs_go(redis_url, redis, clock):
    from service import handoff
    from service.store import callbacks, notes
    app = make_app(make_env(redis_url, RETENTION_DAYS="30"), clock)
    phone = Phone(app.test_client(), "+16175550181")
    phone.text("CALL")
    svc = svc_of(app)
    pk = svc.vault.person_key(phone.number)
    handoff.add_note(svc, pk, "staff@center.org", "an old note")
    [cb] = callbacks.waiting(redis, svc.vault)
    callbacks.claim_callback(redis, cb.id, "staff@center.org", clock.now())
    callbacks.record_outcome(redis, svc.vault, cb.id, "staff@center.org", callbacks.CallbackState.REACHED, "",
                             clock.now(), svc.config.retention_seconds)
    clock.advance(20 * DAY)
    phone.text("hello again")  # still texting: kept, but trimmed
    handoff.add_note(svc, pk, "staff@center.org", "a recent note")
    clock.advance(15 * DAY)
    sweep(make_runtime(svc))
    assert [n["text"] for n in notes.of(redis, svc.vault, pk)] == ["a recent note"]
    assert redis.zcard(keys.of(redis).CALLBACKS_CLOSED) == 0


def test_seen_message_sids_are_forgotten_after_the_period_and_not_before(redis_url, redis, clock):
    from service.store import inbound
    app = make_app(make_env(redis_url, RETENTION_DAYS="30"), clock)
    phone = Phone(app.test_client(), "+16175550133")
    phone.text("SIGNS", sid="SM" + "1" * 32)
    clock.advance(20 * DAY)
    phone.text("SIGNS", sid="SM" + "2" * 32)
    clock.advance(11 * DAY)
    sweep(make_runtime(svc_of(app)))
    (old_key, old_field), (new_key, new_field) = (inbound.seen_field(svc_of(app).redis, "SM" + d * 32) for d in "12")
    assert not redis.hexists(old_key, old_field) and redis.hexists(new_key, new_field)
    assert inbound.forget_seen_before(redis, clock.now() - 30 * DAY) == 0  # a second sweep finds nothing
