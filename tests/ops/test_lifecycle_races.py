"""Erasure, retention, replay and key rotation when the service keeps working around them."""
import json

from cryptography.fernet import Fernet

from service import queues
from service.erase import erase_person
from service.privacy import Vault
from service.store import erasure, followups, keys, people, rotation
from service.store.messages import OutState
from tests.conftest import CHEAP_HASH, Phone, make_app, make_env, svc_of
from workers import retention
from workers.delivery import deliver
from workers.dispatch import dispatch_due
from workers.escalation import escalate
from workers.followup import send_followup
from workers.runtime import make_runtime

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
DAY = 86400


def app_for(redis_url, clock, tmp_path, **extra):
    return make_app(make_env(redis_url, SPOOL_DIR=str(tmp_path), STAFF_ALERT_NUMBERS="+16175550100", **extra), clock)


def test_a_staff_alert_never_depends_on_the_texters_consent_after_rotation(redis_url, redis, clock, tmp_path):
    env = dict(DATA_ENCRYPTION_KEY=OLD, PHONE_HASH_KEY="old")
    before = app_for(redis_url, clock, tmp_path, **env)
    phone = Phone(before.test_client())
    phone.text("I took too many pills and want to die")
    phone.text("STOP")  # while the crisis alert is still queued
    after = app_for(redis_url, clock, tmp_path, DATA_ENCRYPTION_KEY=f"{NEW},{OLD}", PHONE_HASH_KEY="new,old")
    after.test_cli_runner().invoke(args=["ops", "rotate-keys"])
    [alert] = [k.decode().split(":", 3)[3] for k in redis.keys("sms:{main}:out:alert_*")]
    assert redis.hget(keys.of(redis).message(alert), "person") == b""
    assert deliver(make_runtime(svc_of(after)), alert) is OutState.SENT


def test_a_followup_whose_job_waits_during_a_move_still_goes_out(redis_url, redis, clock, tmp_path):
    before = app_for(redis_url, clock, tmp_path, PHONE_HASH_KEY="old", DATA_ENCRYPTION_KEY=OLD)
    Phone(before.test_client()).text("TREATMENT")
    clock.advance(DAY + 4000)
    assert dispatch_due(make_runtime(svc_of(before))) == 1
    [job] = queues.queue(redis, queues.FOLLOWUPS).jobs
    after = app_for(redis_url, clock, tmp_path, PHONE_HASH_KEY="new,old", DATA_ENCRYPTION_KEY=OLD)
    Phone(after.test_client()).text("thanks")  # moves the person to the new key
    rt = make_runtime(svc_of(after))
    assert send_followup(rt, job.args[0]).value == "superseded"  # the old id finds nobody...
    assert dispatch_due(rt) == 1  # ...the new one is due at once
    [fresh] = [j for j in queues.queue(redis, queues.FOLLOWUPS).jobs if j.args[0] != job.args[0]]
    assert send_followup(rt, fresh.args[0]).value == "sent"


def test_a_text_that_lands_during_an_erasure_is_erased_too(redis_url, redis, clock, tmp_path, monkeypatch):
    app = app_for(redis_url, clock, tmp_path)
    svc, phone = svc_of(app), Phone(app.test_client())
    phone.text("SIGNS")
    real, sent = erasure._provider_sids, []

    def meanwhile(r, records):
        if not sent:
            sent.append(phone.text("CALL me, I want to overdose"))  # between erase()'s reads and its writes
        return real(r, records)
    monkeypatch.setattr(erasure, "_provider_sids", meanwhile)
    erase_person(svc, svc.vault.person_key(phone.number))
    assert not redis.keys("sms:{main}:callback:*") and not redis.keys("sms:{main}:crisis-flag:*") and not redis.keys("sms:{main}:out:*")
    assert redis.zcard(keys.of(redis).CALLBACKS_WAITING) == 0 and redis.zcard(keys.of(redis).CRISIS_OPEN) == 0


def test_retention_never_erases_someone_who_texts_while_it_runs(redis_url, redis, clock, tmp_path, monkeypatch):
    app = app_for(redis_url, clock, tmp_path, RETENTION_DAYS="30")
    svc, phone = svc_of(app), Phone(app.test_client())
    phone.text("SIGNS")
    clock.advance(31 * DAY)
    real = people.silent_since

    def silent_then_text(r, cutoff, limit):
        found = real(r, cutoff, limit)
        if found:
            phone.text("I want to kill myself")  # arrives while the sweep works through its batch
        return found
    monkeypatch.setattr(people, "silent_since", silent_then_text)
    assert retention.sweep(make_runtime(svc))["erased"] == 0
    assert redis.keys("sms:{main}:out:alert_*") and redis.zcard(keys.of(redis).CRISIS_OPEN) == 1


def test_the_simulators_call_backs_and_crises_stay_out_of_the_real_queues(redis_url, redis, clock, tmp_path):
    from tests.staff.test_staff import PASSWORD, login
    from service.store import accounts
    from service.store.accounts import Role
    app = app_for(redis_url, clock, tmp_path)
    accounts.create(redis, "staff@center.org", PASSWORD, Role.STAFF, now=clock.now(), method=CHEAP_HASH)
    staff = login(app)
    staff.post("/staff/simulator/send?number=%2B16175550111", data={"csrf_token": staff.token, "body": "CALL"})
    staff.post("/staff/simulator/send?number=%2B16175550112", data={"csrf_token": staff.token,
                                                                     "body": "he is not breathing"})
    assert redis.zcard(keys.of(redis).CALLBACKS_WAITING) == 0 and redis.zcard(keys.of(redis).CALLBACKS_WAITING_TEST) == 1
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 0 and redis.zcard(keys.of(redis).CRISIS_OPEN_TEST) == 1
    assert "0 open crises" in staff.get("/staff/callbacks").get_data(as_text=True)
    clock.advance(16 * 60)
    assert escalate(make_runtime(svc_of(app))) == []  # nobody is paged for a test
    for key in redis.keys("sms:{main}:out:alert_*"):
        assert redis.hget(key, "simulated") == b"1"


def test_someone_back_after_an_erasure_is_still_held_to_retention(redis_url, redis, clock, tmp_path):
    app = app_for(redis_url, clock, tmp_path, RETENTION_DAYS="30")
    svc, phone = svc_of(app), Phone(app.test_client())
    phone.text("SIGNS")
    phone.text("STOP")
    pk = svc.vault.person_key(phone.number)
    erase_person(svc, pk)
    phone.text("my private message about my relapse")
    for day in range(1, 61):
        clock.advance(DAY)
        if day % 20 == 0:
            phone.text("hello again")
        retention.sweep(make_runtime(svc))
    assert "my private message about my relapse" not in [m["body"] for m in people.transcript(redis, svc.vault, pk)]


def test_a_spool_line_from_the_previous_release_is_stale_news_at_the_files_time(redis_url, redis, clock, tmp_path):
    app = app_for(redis_url, clock, tmp_path)
    svc = svc_of(app)
    line = svc.vault.encrypt(json.dumps({"sid": "SM" + "e" * 32, "from": "+16175550123", "body": "CALL me please"}))
    spool = tmp_path / "fallback.spool"
    spool.write_text(line + "\n")  # written by the previous release (no time on the line)
    import os
    os.utime(spool, (clock.now() - 600, clock.now() - 600))
    assert "1 stale" in app.test_cli_runner().invoke(args=["ops", "replay-fallback"]).output
    pk = svc.vault.person_key("+16175550123")
    assert redis.zscore(keys.of(redis).CALLBACKS_WAITING, "SM" + "e" * 32) == clock.now() - 600  # the call back still queued
    assert retention.sweep(make_runtime(svc))["erased"] == 0 and redis.zcard(keys.of(redis).CALLBACKS_WAITING) == 1
    assert followups.pending_of(redis, pk) == ()


def test_rotation_says_when_values_changed_under_it_and_a_second_run_finishes(redis_url, redis, clock, tmp_path,
                                                                               monkeypatch):
    before = app_for(redis_url, clock, tmp_path, DATA_ENCRYPTION_KEY=OLD)
    phone = Phone(before.test_client())
    for i in range(20):
        phone.text(f"message {i}")
        clock.advance(400)
    after = app_for(redis_url, clock, tmp_path, DATA_ENCRYPTION_KEY=f"{NEW},{OLD}")
    real, texted = rotation._swaps, []

    def texting_meanwhile(vault, key, kind, what, values, tally):
        out = real(vault, key, kind, what, values, tally)
        if key.startswith("sms:{main}:t:") and not texted:
            texted.append(Phone(after.test_client()).text("one more"))
            redis.lpop(key)  # as LTRIM does at the 250-exchange limit: every index shifts
        return out
    monkeypatch.setattr(rotation, "_swaps", texting_meanwhile)
    first = after.test_cli_runner().invoke(args=["ops", "rotate-keys"]).output
    assert "values (written meanwhile)" in first and "Run again." in first
    monkeypatch.setattr(rotation, "_swaps", real)
    after.test_cli_runner().invoke(args=["ops", "rotate-keys"])
    last = after.test_cli_runner().invoke(args=["ops", "rotate-keys"]).output
    assert "nothing left under older keys" in last
    only_new = Vault([NEW.encode()], [b"test-phone-hash-key"])
    pk = svc_of(after).vault.person_key(phone.number)
    for raw in redis.lrange(keys.of(redis).transcript(pk), 0, -1):
        only_new.decrypt(people.entry_token(raw))
