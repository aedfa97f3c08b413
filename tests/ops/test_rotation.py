"""`flask ops rotate-keys`: every value re-encrypted with the newest key, every person moved to their id
under the newest phone-hash key; resumable, safe to run twice; tested at 10,000 people."""
import pytest
from cryptography.fernet import Fernet

from service.privacy import Vault
from service.store import followups, keys, people
from service.store.batch import Batch
from service.store.followups import FollowUpId
from tests.conftest import NOON, Phone, make_app, make_env, replies, svc_of

OLD_DATA, NEW_DATA = Fernet.generate_key().decode(), Fernet.generate_key().decode()
OLD_HASH, NEW_HASH = "old-phone-hash-key", "new-phone-hash-key"
PEOPLE = 10_000


def app_with(redis_url, clock, data, hashes, tmp_path):
    return make_app(make_env(redis_url, DATA_ENCRYPTION_KEY=data, PHONE_HASH_KEY=hashes, SPOOL_DIR=str(tmp_path),
                             STAFF_ALERT_NUMBERS="+16175550100"), clock)


def number(i: int) -> str:
    return f"+1617{2000000 + i:07d}"


def populate(redis, vault: Vault) -> None:
    """Ten thousand people as texting leaves them: number, consent, one exchange, follow-ups for some."""
    for start in range(0, PEOPLE, 1000):
        batch = Batch(redis)
        for i in range(start, start + 1000):
            pk, e164 = vault.person_key(number(i)), number(i)
            people.record_contact(batch, vault, pk, e164, None, NOON, True, False, False)
            people.record_exchange(batch, vault, pk, [("in", "SIGNS", f"SM{i:032x}"), ("out", "reply", "x")], NOON)
            if i % 10 == 0:
                followups.add(batch, pk, {str(FollowUpId(pk, "signs", 0, int(NOON))): NOON + 86400})
        batch.execute()


def rotate(app, *args):
    return app.test_cli_runner().invoke(args=["ops", "rotate-keys", *args]).output


@pytest.mark.slow
def test_rotation_at_ten_thousand_people(redis_url, redis, clock, tmp_path):
    before = app_with(redis_url, clock, OLD_DATA, OLD_HASH, tmp_path)
    populate(redis, svc_of(before).vault)
    caller = Phone(before.test_client(), "+16175550123")
    caller.text("CALL my friend overdosed")  # a call back, a crisis flag and staff alerts
    caller.text("STOP")
    after = app_with(redis_url, clock, f"{NEW_DATA},{OLD_DATA}", f"{NEW_HASH},{OLD_HASH}", tmp_path)
    assert "run again to resume" in rotate(after, "--max-batches", "5")  # interrupted...
    rotate(after)  # ...and resumed
    only_new = Vault([NEW_DATA.encode()], [NEW_HASH.encode()])
    contacts = redis.keys("sms:{main}:p:*")
    assert len(contacts) == PEOPLE + 1
    for i in range(0, PEOPLE, 997):
        pk = only_new.person_key(number(i))
        assert people.phone_of(redis, only_new, pk) == number(i)  # found by the new key, read with the new key
        assert people.transcript(redis, only_new, pk)[0]["body"] == "SIGNS"
    moved = [FollowUpId.parse(m.decode()) for m in redis.zrange(keys.of(redis).FOLLOWUPS_DUE, 0, -1)]
    assert {f.person for f in moved} == {only_new.person_key(number(i)) for i in range(0, PEOPLE, 10)}
    for pattern in ("sms:{main}:callback:*", "sms:{main}:crisis-flag:*", "sms:{main}:out:*"):
        for key in redis.keys(pattern):
            for field in (b"phone", b"to", b"body", b"notes"):
                value = redis.hget(key, field)
                if value:
                    only_new.decrypt(value)
    # the person who said STOP is still opted out, found under the new key alone
    retired = app_with(redis_url, clock, NEW_DATA, NEW_HASH, tmp_path)
    assert replies(Phone(retired.test_client(), "+16175550123").text("SIGNS")) == []
    assert "people moved to the newest person key: 0" in rotate(after)  # a second run changes nothing


def test_someone_known_under_the_old_key_is_found_while_rotating(redis_url, redis, clock, tmp_path):
    before = app_with(redis_url, clock, OLD_DATA, OLD_HASH, tmp_path)
    phone = Phone(before.test_client())
    phone.text("SIGNS")
    phone.text("STOP")
    during = app_with(redis_url, clock, f"{NEW_DATA},{OLD_DATA}", f"{NEW_HASH},{OLD_HASH}", tmp_path)
    assert replies(Phone(during.test_client()).text("TREATMENT")) == []  # still opted out: not a new person
    pk = svc_of(during).vault.person_key(phone.number)
    assert people.consent_of(redis, pk).value == "opted_out" and len(people.consent_history(redis, pk)) == 2


def test_spooled_messages_are_re_encrypted(redis_url, redis, clock, tmp_path):
    from devtools.embedded_redis import free_port
    from tests.conftest import new_sid, post_signed
    down = make_app(make_env(f"redis://127.0.0.1:{free_port()}/0", DATA_ENCRYPTION_KEY=OLD_DATA,
                             PHONE_HASH_KEY=OLD_HASH, SPOOL_DIR=str(tmp_path)), clock)
    post_signed(down.test_client(), "/twilio/fallback", {"MessageSid": new_sid(), "From": "+16175550123",
                                                         "Body": "STOP"})
    after = app_with(redis_url, clock, f"{NEW_DATA},{OLD_DATA}", f"{NEW_HASH},{OLD_HASH}", tmp_path)
    assert "spooled messages re-encrypted: 1" in rotate(after)
    retired = app_with(redis_url, clock, NEW_DATA, NEW_HASH, tmp_path)
    assert "1 applied" in retired.test_cli_runner().invoke(args=["ops", "replay-fallback"]).output


def test_a_waiting_question_keeps_its_timeout_under_the_new_key(redis_url, redis, clock, tmp_path):
    before = app_with(redis_url, clock, OLD_DATA, OLD_HASH, tmp_path)
    phone = Phone(before.test_client())
    phone.text("SIGNS")
    old_pk = svc_of(before).vault.person_key(phone.number)
    due = followups.timeout_of(redis, old_pk)
    after = app_with(redis_url, clock, f"{NEW_DATA},{OLD_DATA}", f"{NEW_HASH},{OLD_HASH}", tmp_path)
    rotate(after)
    new_pk = svc_of(after).vault.person_key(phone.number)
    assert followups.timeout_of(redis, new_pk) == due and followups.timeout_of(redis, old_pk) is None



def test_a_hold_rotated_meanwhile_still_resumes_with_the_time_left(redis_url, redis, clock, tmp_path):
    from service import handoff
    from workers.followup import Outcome, send_followup
    from workers.runtime import make_runtime
    before = app_with(redis_url, clock, OLD_DATA, OLD_HASH, tmp_path)
    phone = Phone(before.test_client())
    phone.text("SIGNS")
    old_pk = svc_of(before).vault.person_key(phone.number)
    due = followups.timeout_of(redis, old_pk)
    clock.advance(3600)
    handoff.take_over(svc_of(before), old_pk, "staff@center.org")
    left = due - clock.now()
    clock.set(due)
    assert send_followup(make_runtime(svc_of(before)), followups.job_arg(old_pk, due)) is Outcome.HELD
    after = app_with(redis_url, clock, f"{NEW_DATA},{OLD_DATA}", f"{NEW_HASH},{OLD_HASH}", tmp_path)
    rotate(after)
    new_pk = svc_of(after).vault.person_key(phone.number)
    assert int(redis.hget(keys.of(redis).contact(new_pk), "rev")) == 2  # one text, one move: a text read before it retries
    clock.advance(5 * 3600)
    assert handoff.hand_back(svc_of(after), new_pk, "staff@center.org")
    assert followups.timeout_of(redis, new_pk) == clock.now() + left

def test_values_the_previous_release_sealed_as_fernet_tokens_are_rewritten(redis_url, redis, clock, tmp_path):
    app = app_with(redis_url, clock, NEW_DATA, NEW_HASH, tmp_path)
    phone = Phone(app.test_client())
    phone.text("TREATMENT")
    pk = svc_of(app).vault.person_key(phone.number)
    legacy = Fernet(NEW_DATA.encode()).encrypt(phone.number.encode())  # as the previous release wrote it
    redis.hset(keys.of(redis).contact(pk), "phone", legacy)
    assert people.phone_of(redis, svc_of(app).vault, pk) == phone.number  # still read
    rotate(app)
    sealed = redis.hget(keys.of(redis).contact(pk), "phone").decode()
    assert sealed.startswith("~") and people.phone_of(redis, svc_of(app).vault, pk) == phone.number
