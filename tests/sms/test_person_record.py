"""What a person costs in Redis: our shared texts stored once and named by the transcript, the first
consent entry packed into the contact record, and the retention index only for people texting again.
Every one of these reads back exactly as before."""
import json

from service.store import keys, people, texts
from service.store.batch import Batch
from tests.conftest import replies, svc_of


def _plain_entries(redis, vault, pk: str) -> list[str]:
    return [vault.decrypt(people.entry_token(raw)) for raw in redis.lrange(keys.transcript(pk), 0, -1)]


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
    assert redis.hlen(keys.TEXTS) == 2
    phone2_sent = replies(phone.text("signs"))  # the same text again: no new copy
    assert "constricted" in phone2_sent[0] and redis.hlen(keys.TEXTS) == 3  # without the disclosure now


def test_a_text_with_a_time_in_it_stays_in_the_persons_transcript(phone, redis, app):
    [sent] = replies(phone.text("CALL"))
    vault = svc_of(app).vault
    pk = vault.person_key(phone.number)
    [entry] = _plain_entries(redis, vault, pk)
    assert sent in json.loads(entry)[1][0]  # the whole body, encrypted with the rest of their entry
    assert people.transcript(redis, vault, pk)[1]["body"] == sent
    assert redis.hlen(keys.TEXTS) == 0


def test_what_the_person_wrote_is_never_shared(phone, redis, app):
    phone.text("my son took something, what are the signs")
    assert not any(b"my son" in v for v in redis.hvals(keys.TEXTS))


def test_entries_written_by_earlier_releases_still_read(redis, app):
    vault = svc_of(app).vault
    pk = "olderreleaseperson00"
    first = {"at": 100.5, "dir": "in", "sid": "SM1", "body": "hello"}
    listed = [{"at": 200.25, "dir": "in", "sid": "SM2", "body": "SIGNS"},
              {"at": 200.25, "dir": "out", "sid": "SM2/0", "body": "Signs are...", "src": "signs/signs"}]
    redis.rpush(keys.transcript(pk), vault.encrypt(json.dumps(first)), f"200:{vault.encrypt(json.dumps(listed))}")
    assert people.transcript(redis, vault, pk) == [first, *listed]


def test_a_missing_shared_text_reads_as_such_not_an_error(redis, app):
    vault = svc_of(app).vault
    batch = Batch(redis)
    people.record_exchange(batch, vault, "missingtextperson000", [("in", "hi", "SM9"), ("out", "Hello!", "SM9/0", "menu")],
                           1000.0, frozenset({"Hello!"}))
    batch.execute()
    redis.delete(keys.TEXTS)
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
    assert not redis.exists(keys.consent_log(pk))
    [first] = people.consent_history(redis, pk)
    assert (first["state"], first["keyword"]) == ("subscribed", "FIRST_MESSAGE") and first["sid"].startswith("SM")
    phone.text("STOP")
    assert [(h["state"], h["keyword"]) for h in people.consent_history(redis, pk)] == [
        ("subscribed", "FIRST_MESSAGE"), ("opted_out", "STOP")]
    assert redis.object("encoding", keys.contact(pk)) in (b"ziplist", b"listpack")  # still the compact hash


def test_retention_index_holds_people_texting_again_at_their_oldest_record(phone, redis, app, clock):
    phone.text("hello")
    pk = svc_of(app).vault.person_key(phone.number)
    first = float(redis.zscore(keys.RECENT, pk))
    assert redis.zscore(keys.FIRST_SEEN, pk) is None  # erased when silent: RECENT finds them
    clock.advance(3600)
    phone.text("SIGNS")
    assert int(redis.zscore(keys.FIRST_SEEN, pk)) == int(first)
    clock.advance(3600)
    phone.text("TREATMENT")
    assert int(redis.zscore(keys.FIRST_SEEN, pk)) == int(first)  # never moved forward by a later text


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
    assert redis.zscore(keys.FIRST_SEEN, pk) == 0  # the next sweep looks at them, whatever their age
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
    stored = redis.get(keys.inbound(sid))
    assert b"constricted" not in stored and len(stored) < 120  # two references, sealed: not the TwiML
    again = phone.text("SIGNS", sid=sid)
    assert again.data == first.data
    call = new_sid()
    answered = phone.text("CALL", sid=call)
    assert b"call you back" not in redis.get(keys.inbound(call))  # a text with a time in it: sealed
    assert phone.text("CALL", sid=call).data == answered.data


def test_an_answer_stored_by_the_previous_release_is_given_back_as_it_was(phone, redis):
    from tests.conftest import new_sid
    sid = new_sid()
    twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Earlier answer</Message></Response>'
    redis.set(keys.inbound(sid), twiml)
    assert phone.text("SIGNS", sid=sid).data.decode() == twiml


def test_the_webhooks_commit_touches_only_the_keys_it_declares(redis):
    import re
    from service.store import scripts
    source = scripts.source("apply_batch")
    calls = re.findall(r"redis\.call\(([^,]+),\s*([^,)]+)", source)
    assert calls and all(key.strip().startswith("KEYS[") for _, key in calls)
    batch = Batch(redis, guard=("sms:test:a", "rev", None))
    batch.hset("sms:test:a", "x", 1)
    batch.zadd("sms:test:b", {"m": 1}, nx=True)
    batch.incr("sms:test:c")
    assert batch.execute() and redis.hget("sms:test:a", "x") == b"1" and redis.get("sms:test:c") == b"1"
    refused = Batch(redis, guard=("sms:test:a", "x", b"2"))
    refused.incr("sms:test:c")
    assert not refused.execute() and redis.get("sms:test:c") == b"1"
