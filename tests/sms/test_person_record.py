"""What a person costs in Redis: our shared texts stored once and named by the transcript, the first
consent entry packed into the contact record, and the retention index only for people texting again.
Every one of these reads back exactly as before."""
import json

from service.store import keys, people, texts
from service.store.batch import Batch
from tests.conftest import replies, svc_of


def _plain_entries(redis, vault, pk: str) -> list[str]:
    return [vault.decrypt(people.entry_token(raw)) for raw in redis.lrange(keys.of(redis).transcript(pk), 0, -1)]


def test_our_answers_are_stored_once_and_read_back_exactly(phone, redis, app):
    sent = replies(phone.text("SIGNS"))
    vault = svc_of(app).vault
    pk = vault.person_key(phone.number)
    [entry] = _plain_entries(redis, vault, pk)
    assert "SIGNS" in entry and "constricted" not in entry and "ME or OTHER" not in entry
    transcript = people.transcript(redis, vault, pk)
    assert [m["body"] for m in transcript] == ["SIGNS", *sent]
    assert [m.get("src") for m in transcript] == [None, "signs/signs", "signs/ask"]
    assert transcript[1]["sid"].endswith("/0") and transcript[2]["sid"].endswith("/1")
    assert redis.hlen(keys.of(redis).TEXTS) == 2
    phone2_sent = replies(phone.text("signs"))  # the same text again: no new copy
    assert "constricted" in phone2_sent[0] and redis.hlen(keys.of(redis).TEXTS) == 3  # without the disclosure now


def test_a_text_with_a_time_in_it_stays_in_the_persons_transcript(phone, redis, app):
    [sent] = replies(phone.text("CALL"))
    vault = svc_of(app).vault
    pk = vault.person_key(phone.number)
    [entry] = _plain_entries(redis, vault, pk)
    assert sent in json.loads(entry)[1][0]  # the whole body, encrypted with the rest of their entry
    assert people.transcript(redis, vault, pk)[1]["body"] == sent
    assert redis.hlen(keys.of(redis).TEXTS) == 0


def test_what_the_person_wrote_is_never_shared(phone, redis, app):
    phone.text("my son took something, what are the signs")
    assert not any(b"my son" in v for v in redis.hvals(keys.of(redis).TEXTS))


def test_entries_written_by_earlier_releases_still_read(redis, app):
    vault = svc_of(app).vault
    pk = "olderreleaseperson00"
    first = {"at": 100.5, "dir": "in", "sid": "SM1", "body": "hello"}
    listed = [{"at": 200.25, "dir": "in", "sid": "SM2", "body": "SIGNS"},
              {"at": 200.25, "dir": "out", "sid": "SM2/0", "body": "Signs are...", "src": "signs/signs"}]
    redis.rpush(keys.of(redis).transcript(pk), vault.encrypt(json.dumps(first)), f"200:{vault.encrypt(json.dumps(listed))}")
    assert people.transcript(redis, vault, pk) == [first, *listed]


def test_a_missing_shared_text_reads_as_such_not_an_error(redis, app):
    vault = svc_of(app).vault
    batch = Batch(redis)
    people.record_exchange(batch, vault, "missingtextperson000", [("in", "hi", "SM9"), ("out", "Hello!", "SM9/0", "menu")],
                           1000.0, frozenset({"Hello!"}))
    batch.execute()
    redis.delete(keys.of(redis).TEXTS)
    out = people.transcript(redis, vault, "missingtextperson000")[1]
    assert out["body"] == texts.MISSING[1] and out["sid"] == "SM9/0"


def test_unusual_reply_ids_and_sources_are_kept(redis, app):
    vault = svc_of(app).vault
    batch = Batch(redis)
    people.record_exchange(batch, vault, "followupperson000000", [("out", "Checking in", "fu-1", "signs/followup-1"),
                                                                   ("out", "Shared", "fu-2", "menu")],
                           1000.125, frozenset({"Shared"}))
    batch.execute()
    assert people.transcript(redis, vault, "followupperson000000") == [
        {"at": 1000.125, "dir": "out", "sid": "fu-1", "body": "Checking in", "src": "signs/followup-1"},
        {"at": 1000.125, "dir": "out", "sid": "fu-2", "body": "Shared", "src": "menu"}]


def test_the_first_consent_sits_in_the_contact_record(phone, redis, app):
    phone.text("hello")
    pk = svc_of(app).vault.person_key(phone.number)
    assert not redis.exists(keys.of(redis).consent_log(pk))
    [first] = people.consent_history(redis, pk)
    assert (first["state"], first["keyword"]) == ("subscribed", "FIRST_MESSAGE") and first["sid"].startswith("SM")
    phone.text("STOP")
    assert [(h["state"], h["keyword"]) for h in people.consent_history(redis, pk)] == [
        ("subscribed", "FIRST_MESSAGE"), ("opted_out", "STOP")]
    assert redis.object("encoding", keys.of(redis).contact(pk)) in (b"ziplist", b"listpack")  # still the compact hash


def test_retention_index_holds_people_texting_again_at_their_oldest_record(phone, redis, app, clock):
    phone.text("hello")
    pk = svc_of(app).vault.person_key(phone.number)
    first = float(redis.zscore(keys.of(redis).RECENT, pk))
    assert redis.zscore(keys.of(redis).FIRST_SEEN, pk) is None  # erased when silent: RECENT finds them
    clock.advance(3600)
    phone.text("SIGNS")
    assert int(redis.zscore(keys.of(redis).FIRST_SEEN, pk)) == int(first)
    clock.advance(3600)
    phone.text("TREATMENT")
    assert int(redis.zscore(keys.of(redis).FIRST_SEEN, pk)) == int(first)  # never moved forward by a later text


def test_someone_who_texted_once_and_is_then_kept_by_the_center_is_trimmed_in_time(phone, redis, app, clock):
    from dataclasses import replace
    from service.store import contacts
    svc = svc_of(app)
    phone.text("hello")
    pk = svc.vault.person_key(phone.number)
    before = contacts.read(redis, svc.vault, pk)
    pipe = redis.pipeline()
    contacts.write(pipe, svc.vault, before, replace(before, groups=("aftercare",)), clock.now(), "en")
    pipe.execute()
    assert redis.zscore(keys.of(pipe).FIRST_SEEN, pk) == 0  # the next sweep looks at them, whatever their age
    assert people.kept_since(redis, clock.now(), 10) == [pk]
    clock.advance(10)
    assert people.trim_before(redis, pk, clock.now()) == 1 and people.transcript(redis, svc.vault, pk) == []


def test_values_every_person_has_are_sealed_as_bytes_and_stay_so_when_rotated():
    from cryptography.fernet import Fernet
    from service.privacy import RAW, Vault
    old, new = Fernet.generate_key(), Fernet.generate_key()
    sealed = Vault([old], [b"h"]).seal("+16175550123")
    assert sealed.startswith(RAW) and len(sealed) == 41  # the base64 form is 55 characters
    both = Vault([new, old], [b"h"])
    assert both.decrypt(sealed) == "+16175550123" and not both.is_current(sealed)
    rotated = both.rotate(sealed)
    assert isinstance(rotated, bytes) and both.is_current(rotated) and both.decrypt(rotated) == "+16175550123"
    assert isinstance(both.rotate(Vault([old], [b"h"]).encrypt("x")), str)  # base64 values stay base64


def test_the_answer_kept_for_twilios_retries_is_references_and_sealed_text(phone, redis, app):
    from tests.conftest import new_sid
    sid = new_sid()
    first = phone.text("SIGNS", sid=sid)
    stored = redis.get(keys.of(redis).inbound(sid))
    assert b"constricted" not in stored and len(stored) < 120  # two references, sealed: not the TwiML
    again = phone.text("SIGNS", sid=sid)
    assert again.data == first.data
    call = new_sid()
    answered = phone.text("CALL", sid=call)
    assert b"call you back" not in redis.get(keys.of(redis).inbound(call))  # a text with a time in it: sealed
    assert phone.text("CALL", sid=call).data == answered.data


def test_an_answer_stored_by_the_previous_release_is_given_back_as_it_was(phone, redis):
    from tests.conftest import new_sid
    sid = new_sid()
    twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Earlier answer</Message></Response>'
    redis.set(keys.of(redis).inbound(sid), twiml)
    assert phone.text("SIGNS", sid=sid).data.decode() == twiml


def test_the_webhooks_commit_touches_only_the_keys_it_declares(redis):
    import re
    from service.store import scripts
    source = scripts.source("apply_batch")
    calls = re.findall(r"redis\.call\(([^,]+),\s*([^,)]+)", source)
    assert calls and all(key.strip().startswith("KEYS[") for _, key in calls)
    batch = Batch(redis, guard=("sms:{test}:a", "rev", None))
    batch.hset("sms:{test}:a", "x", 1)
    batch.zadd("sms:{test}:b", {"m": 1}, nx=True)
    batch.incr("sms:{test}:c")
    assert batch.execute() and redis.hget("sms:{test}:a", "x") == b"1" and redis.get("sms:{test}:c") == b"1"
    refused = Batch(redis, guard=("sms:{test}:a", "x", b"2"))
    refused.incr("sms:{test}:c")
    assert not refused.execute() and redis.get("sms:{test}:c") == b"1"


def test_a_script_touching_a_key_it_did_not_declare_is_refused(redis):
    import pytest
    from redis.exceptions import ResponseError
    from service.store import scripts
    assert scripts._checking[0]  # the suite runs every script with the guard
    redis.hset("sms:{test}:record", "bc_key", "sms:{test}:elsewhere")
    probe = redis.register_script(scripts.CHECK + "return checked__('HGET', redis.call('HGET', KEYS[1], 'bc_key'), 'x')")
    with pytest.raises(ResponseError, match=r"undeclared key sms:\{test\}:elsewhere"):
        probe(keys=["sms:{test}:record"])


def test_a_script_whose_keys_would_not_share_a_cluster_slot_is_refused(redis):
    import pytest
    from service.store import keys, scripts
    assert scripts.slot_of("sms:{harbor}:p:x") == "harbor" == scripts.slot_of(b"sms:{harbor}:texts")
    assert scripts.slot_of("sms:{}:x") == "sms:{}:x" and scripts.slot_of("plain") == "plain"  # no tag: the key
    with pytest.raises(ValueError, match="do not share a hash tag"):
        scripts.run(redis, "reserve_send_slot", [keys.named("harbor").RATE_LIMIT, keys.named("brook").contact("x")])


def test_a_retry_after_the_keys_were_rotated_gets_the_same_answer(redis_url, redis, clock, tmp_path):
    from cryptography.fernet import Fernet
    from tests.conftest import Phone, make_app, make_env, new_sid
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = make_app(make_env(redis_url, DATA_ENCRYPTION_KEY=old, SPOOL_DIR=str(tmp_path)), clock)
    sid, pending = new_sid(), new_sid()
    first = Phone(before.test_client()).text("CALL", sid=sid)
    redis.set(keys.of(redis).inbound(pending), "", ex=30)  # a text being answered right now: left alone
    rotating = make_app(make_env(redis_url, DATA_ENCRYPTION_KEY=f"{new},{old}", SPOOL_DIR=str(tmp_path)), clock)
    rotating.test_cli_runner().invoke(args=["ops", "rotate-keys"])
    after = make_app(make_env(redis_url, DATA_ENCRYPTION_KEY=new, SPOOL_DIR=str(tmp_path)), clock)
    assert Phone(after.test_client()).text("CALL", sid=sid).data == first.data
    assert redis.get(keys.of(redis).inbound(pending)) == b""


def test_an_answer_sealed_under_a_retired_key_is_not_sent_again(redis, app):
    from cryptography.fernet import Fernet
    from service.privacy import Vault
    from tests.conftest import Phone, new_sid
    sid = new_sid()
    redis.set(keys.of(redis).inbound(sid), Vault([Fernet.generate_key()], [b"h"]).seal('["Hello"]'))
    assert replies(Phone(app.test_client()).text("SIGNS", sid=sid)) == []


def test_a_retry_never_texts_a_placeholder_for_a_lost_shared_text(phone, redis):
    from tests.conftest import new_sid
    sid = new_sid()
    phone.text("SIGNS", sid=sid)
    redis.delete(keys.of(redis).TEXTS)
    assert replies(phone.text("SIGNS", sid=sid)) == []


def test_the_consent_trail_stays_in_time_order_when_someone_erased_texts_again(phone, redis, app, clock):
    from service.erase import erase_person
    svc = svc_of(app)
    phone.text("hello")
    pk = svc.vault.person_key(phone.number)
    for word in ("STOP", "START"):
        clock.advance(100)
        phone.text(word)
    erase_person(svc, pk)
    clock.advance(1000)
    phone.text("hi again")
    trail = people.consent_history(redis, pk)
    assert [e["keyword"] for e in trail] == ["FIRST_MESSAGE", "STOP", "START", "FIRST_MESSAGE"]
    assert [e["at"] for e in trail] == sorted(e["at"] for e in trail) and "sid" not in trail[0]


def test_a_new_person_known_only_from_a_stale_replay_is_still_swept(redis, app, clock):
    from service.sms import inbound as handling
    from service.sms.validate import InboundSms
    from tests.conftest import NOON, new_sid
    svc = svc_of(app)
    msg = InboundSms(new_sid(), "+16175550199", "what are the signs", received_at=NOON - 100, undated=True)
    handling.replay(svc, msg)
    pk = svc.vault.person_key("+16175550199")
    assert redis.zscore(keys.of(redis).RECENT, pk) is not None or redis.zscore(keys.of(redis).FIRST_SEEN, pk) is not None


def test_odd_entries_read_back(redis, app):
    vault = svc_of(app).vault
    batch = Batch(redis)
    people.record_exchange(batch, vault, "oddentriesperson0000", [("out", "x", "", "menu")], 1000.0)
    people.record_exchange(batch, vault, "oddentriesperson0000", [("in", "hi", "SM7"), ("out", "y", "", "menu")], 1001.0)
    batch.execute()
    redis.rpush(keys.of(redis).transcript("oddentriesperson0000"), b"1002:" + vault.seal("[]"))
    assert [(m["sid"], m["body"]) for m in people.transcript(redis, vault, "oddentriesperson0000")] == [
        ("", "x"), ("SM7", "hi"), ("", "y")]


def test_a_keyword_with_a_bar_in_it_reads_back(redis):
    from flows.engine import Consent
    batch = Batch(redis)
    people.record_consent(batch, "barkeywordperson0000", Consent.SUBSCRIBED, "A|B", "SM1", 1000.0, first=True)
    batch.execute()
    [entry] = people.consent_history(redis, "barkeywordperson0000")
    assert (entry["keyword"], entry["sid"]) == ("A|B", "SM1")
