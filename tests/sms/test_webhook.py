"""The signed webhook on real Redis: keywords, compliance, idempotency, bad input."""
import pytest

from service.store import keys as store_keys, people
from tests.conftest import Phone, new_sid, post_signed, replies, sign, svc_of


def stored_keys(redis) -> set[str]:
    """Everything stored except operational counters (a refusal is counted, never its content)."""
    return {k.decode() for k in redis.keys("*") if not k.startswith(b"sms:{main}:metrics:")}


def test_healthz(client):
    assert client.get("/healthz").status_code == 200


def test_signs_reply_is_twiml_with_disclosure_on_first_contact(phone):
    first = phone.text("signs?")
    assert first.status_code == 200 and first.mimetype == "application/xml"
    [text, question] = replies(first)
    assert "constricted" in text and "Reply HELP for help, STOP to cancel" in text
    assert question == "Is this about you or someone you care about? Reply ME or OTHER."
    [again, _] = replies(phone.text("Signs please"))
    assert "constricted" in again and "STOP to cancel" not in again


@pytest.mark.parametrize("body,needle", [
    ("TREATMENT", "buprenorphine"), ("treat", "methadone"), ("treatmnet", "naltrexone"),
    ("SYMPTOMS", "needle marks"), ("call", "855.590.9944"), ("hello", "SIGNS: the signs of heroin dependence. TREATMENT: how treatment works. CALL: our team phones you."),
])
def test_keywords_answer(phone, body, needle):
    assert needle in replies(phone.text(body))[0]


def test_call_records_callback_once_and_promises_a_time(phone, redis, app):
    text = replies(phone.text("CALL"))[0]
    assert "call you back" in text and "911" in text
    phone.text("call me please")
    assert redis.zcard("sms:{main}:callbacks:waiting") == 1


def test_mms_without_text_gets_menu(phone):
    assert "SIGNS: the signs of heroin dependence" in replies(phone.text(None, NumMedia="1", MediaUrl0="https://x/y.jpg"))[0]


def test_emoji_and_unicode_body(phone):
    assert "constricted" in replies(phone.text("🙏 signs 🙏 ñ"))[0]


def test_duplicate_sid_same_answer_no_double_state(phone, redis):
    sid = new_sid()
    a = phone.text("CALL", sid=sid)
    b = phone.text("CALL", sid=sid)
    assert a.data == b.data
    assert redis.zcard("sms:{main}:callbacks:waiting") == 1
    pk = next(iter(redis.keys("sms:{main}:t:*"))).decode().split(":")[-1]
    assert redis.llen(store_keys.of(redis).transcript(pk)) == 1  # one exchange...
    vault = svc_of(phone.client.application).vault
    assert [m["dir"] for m in people.transcript(redis, vault, pk)] == ["in", "out"]  # ...one in, one out


def test_stop_start_help_sequence(phone, redis, app):
    [stop] = replies(phone.text("STOP"))
    assert "unsubscribed" in stop and "START" in stop and "Roaring Brook Recovery" in stop
    assert replies(phone.text("SIGNS")) == []
    assert "unsubscribed" in replies(phone.text("stop"))[0]  # a repeated STOP is confirmed again
    [help_] = replies(phone.text("HELP"))
    assert "855.590.9944" in help_ and "Msg&data rates may apply" in help_ and "Reply STOP to cancel" in help_
    assert "subscribed" in replies(phone.text("YES"))[0]  # they opted out: YES re-subscribes them
    assert "subscribed" not in replies(phone.text("START"))[0]  # already subscribed: an ordinary answer
    assert "constricted" in replies(phone.text("signs"))[0]
    pk = svc_of(app).vault.person_key(phone.number)
    history = people.consent_history(redis, pk)
    assert [(h["state"], h["keyword"]) for h in history] == [("opted_out", "STOP"), ("subscribed", "YES")]
    assert history[0]["sid"].startswith("SM") and history[0]["at"] > 0


@pytest.mark.parametrize("word", ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT", "optout", "revoke",
                                  "opt out", "Stop.", "STOP texting me"])
def test_every_opt_out_word(phone, word):
    assert "unsubscribed" in replies(phone.text(word))[0]
    assert replies(phone.text("TREATMENT")) == []


def test_only_start_words_resubscribe(phone):
    phone.text("STOP")
    for body in ("signs", "CALL", "hello", "HELP"):
        phone.text(body)
    assert replies(phone.text("treatment")) == []
    assert "subscribed" in replies(phone.text("unstop"))[0]


def test_crisis_gets_911_and_988_and_is_flagged(phone, redis):
    [text] = replies(phone.text("CALL my son overdosed and is not breathing"))
    assert "911" in text and "988" in text
    assert redis.zcard("sms:{main}:crisis:open") == 1
    assert redis.zcard("sms:{main}:callbacks:waiting") == 1


def test_crisis_answered_even_when_opted_out(phone):
    phone.text("STOP")
    assert "988" in replies(phone.text("i want to kill myself"))[0]


def test_flood_guard_silences_after_limit(phone):
    answered = [bool(replies(phone.text(f"hello {i}"))) for i in range(14)]
    assert answered == [True] * 10 + [False] * 4
    assert "unsubscribed" in replies(phone.text("STOP"))[0]  # a real opt-out is always confirmed


def test_a_person_in_crisis_is_never_silenced_by_counting(phone):
    answers = [replies(phone.text("suicide")) for _ in range(6)]
    assert all(len(a) == 1 and "988" in a[0] for a in answers)
    assert "Suicide & Crisis Lifeline" in answers[0][0]  # the full answer once...
    assert all(len(a[0]) < len(answers[0][0]) for a in answers[1:])  # ...then short ones


def test_an_echoing_auto_responder_in_an_open_crisis_is_recognised_not_counted(phone):
    [crisis] = replies(phone.text("he is not breathing"))
    assert replies(phone.text(crisis)) == []  # our own words back: an echo
    canned = "I'm driving right now and will get back to you soon"
    assert [bool(replies(phone.text(canned))) for _ in range(4)] == [True, True, False, False]
    assert replies(phone.text("still not breathing"))  # the person again: answered


def test_a_parent_sending_the_same_plea_again_and_again_is_answered_every_time(phone):
    answers = [replies(phone.text("hes not breathing please help")) for _ in range(5)]
    assert all(a and "911" in a[0] for a in answers)  # the same words in a panic are a person, not a machine


def test_ayuda_alone_gets_the_help_text_with_the_crisis_line_in_spanish(phone):
    [answer] = replies(phone.text("ayuda"))
    assert "911" in answer and "988 y marque 2" in answer and "PARAR" in answer


def test_numbers_and_bodies_never_in_clear(phone, redis):
    phone.text("CALL my number is secret-body-text")
    dump = b"".join(k + b"".join(_values(redis, k)) for k in redis.keys("*"))
    assert b"6175550123" not in dump and b"secret-body-text" not in dump


def _values(redis, key):
    kind = redis.type(key)
    if kind == b"hash":
        return [v for kv in redis.hgetall(key).items() for v in kv]
    if kind == b"list":
        return redis.lrange(key, 0, -1)
    if kind == b"zset":
        return [m for m, _ in redis.zrange(key, 0, -1, withscores=True)]
    if kind == b"set":
        return list(redis.smembers(key))
    return [redis.get(key) or b""]


# -- refusals: clear 4xx, nothing stored -------------------------------------------------------------

def test_bad_signature_403_nothing_stored(client, redis):
    params = {"MessageSid": new_sid(), "From": "+16175550123", "Body": "SIGNS"}
    assert post_signed(client, "/twilio/sms", params, signature="bogus").status_code == 403
    assert post_signed(client, "/twilio/sms", params, signature="").status_code == 403
    assert sign("/twilio/sms", params, token="other") and stored_keys(redis) == set()


def test_signature_over_other_url_rejected(client, redis):
    params = {"MessageSid": new_sid(), "From": "+16175550123", "Body": "SIGNS"}
    wrong = sign("/twilio/other", params)
    assert post_signed(client, "/twilio/sms", params, signature=wrong).status_code == 403


@pytest.mark.parametrize("params,status", [
    ({"From": "+16175550123", "Body": "hi"}, 400),
    ({"MessageSid": "SM<script>", "From": "+16175550123", "Body": "hi"}, 400),
    ({"MessageSid": "SMabc123", "Body": "hi"}, 400),
    ({"MessageSid": "SMabc123", "From": "not-a-number", "Body": "hi"}, 400),
    ({"MessageSid": "SMabc123", "From": "+1", "Body": "hi"}, 400),
    ({"MessageSid": "SMabc123", "From": "+16175550123", "Body": "x" * 10_000}, 413),
])
def test_bad_input_is_4xx_and_stores_nothing(client, redis, params, status):
    response = post_signed(client, "/twilio/sms", params)
    assert response.status_code == status and response.json["detail"]
    assert stored_keys(redis) == set()


def test_invalid_utf8_is_400(client, redis):
    raw = b"MessageSid=SMabc123&From=%2B16175550123&Body=%FF%FE"
    response = client.post("/twilio/sms", data=raw, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": "irrelevant"})
    assert response.status_code == 400 and "UTF-8" in response.json["detail"]
    assert stored_keys(redis) == set()


def test_wrong_content_type_is_415(client, redis):
    response = client.post("/twilio/sms", json={"Body": "hi"}, headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 415
    assert stored_keys(redis) == set()


def test_unknown_form_keys_are_accepted(phone):
    assert replies(phone.text("signs", SmsStatus="received", ApiVersion="2010-04-01", FromCity="BOSTON"))


def test_national_format_number_normalized(client, redis, app):
    Phone(client, "(617) 555-0123").text("SIGNS")
    Phone(client, "+1 617 555 0123").text("SIGNS")
    assert len(redis.keys("sms:{main}:p:*")) == 1


def test_logs_never_show_number_or_body(phone, caplog):
    import logging
    with caplog.at_level(logging.DEBUG):
        phone.text("CALL my secret-body-words")
        phone.text("STOP")
    assert caplog.records
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "6175550123" not in text and "secret-body-words" not in text



def test_the_consent_trail_never_keeps_a_word_of_the_persons_text(phone, redis, app):
    """A first text that is a crisis in their own words ("Jessica overdosed ..."): the trail says which
    compliance word or keyword changed consent, never a name from the message, and outlives erasure."""
    from service.erase import erase_person
    phone.text("Jessica overdosed at 42 Elm St")
    phone.text("STOP")
    pk = svc_of(app).vault.person_key(phone.number)
    erase_person(svc_of(app), pk)
    assert [e["keyword"] for e in people.consent_history(redis, pk)] == ["FIRST_MESSAGE", "STOP"]


def test_two_texts_at_once_are_handled_one_after_the_other(phone, redis, app, monkeypatch):
    """TREATMENT is being decided when "quiero morir" lands and is written first: TREATMENT's write is
    refused (the person changed under it) and it is decided again on what the crisis left, so no gentle
    follow-up outlives the crisis and the consent trail stays in order."""
    from service.sms import inbound as handling
    from service.store import followups
    real, raced = handling.decide, []

    def decide_while_a_twin_lands(flows, policy, texter, body, now, *reader):
        decision = real(flows, policy, texter, body, now, *reader)
        if body == "TREATMENT" and not raced:
            raced.append(Phone(app.test_client(), phone.number).text("quiero morir"))
        return decision
    monkeypatch.setattr(handling, "decide", decide_while_a_twin_lands)
    treatment = phone.text("TREATMENT")
    assert treatment.status_code == 200 and "988" in replies(raced[0])[0]
    pk = svc_of(app).vault.person_key(phone.number)
    assert followups.pending_of(redis, pk) == ()
    assert [e["keyword"] for e in people.consent_history(redis, pk)] == ["FIRST_MESSAGE"]
    texts = [m["body"] for m in people.transcript(redis, svc_of(app).vault, pk) if m["dir"] == "in"]
    assert texts == ["quiero morir", "TREATMENT"]  # each once, in the order they were written

def test_log_lines_are_json_with_message_sid(phone, caplog):
    import json
    import logging
    from service.logs import JsonFormatter
    sid = new_sid()
    with caplog.at_level(logging.INFO):
        phone.text("SIGNS", sid=sid)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    [event] = [e for e in lines if e.get("sid") == sid]
    assert event["event"] == "inbound" and event["intent"] == "flow" and event["flow"] == "signs"
    assert "6175550123" not in json.dumps(lines)


def test_call_from_an_opted_out_number_is_queued_without_a_text(phone, redis):
    phone.text("STOP")
    assert replies(phone.text("CALL")) == []
    assert redis.zcard("sms:{main}:callbacks:waiting") == 1


def test_a_crisis_text_without_a_keyword_cancels_the_gentle_followups(phone, redis, app):
    from service.store import followups
    phone.text("TREATMENT")
    pk = svc_of(app).vault.person_key(phone.number)
    assert len(followups.pending_of(redis, pk)) == 2
    [answer] = replies(phone.text("my son overdosed and he is not breathing"))
    assert "911" in answer and "988" in answer
    assert followups.pending_of(redis, pk) == () and redis.zcard("sms:{main}:followups:due") == 0


def test_a_captured_request_replayed_after_its_answer_expired_is_refused(phone, redis, app, clock):
    """Twilio's signature carries no time: the MessageSid is remembered for the retention period."""
    from service.store import followups
    sid = new_sid()
    assert replies(phone.text("START", sid=sid))
    phone.text("STOP")
    redis.delete(f"sms:{{main}}:inbound:{sid}")  # two days later the stored answer has expired
    clock.advance(3 * 86400)
    again = phone.text("START", sid=sid)  # the same signed request, captured and sent again
    assert again.status_code == 200 and replies(again) == []
    pk = svc_of(app).vault.person_key(phone.number)
    assert people.consent_of(redis, pk).value == "opted_out" and followups.pending_of(redis, pk) == ()
    assert len(people.transcript(redis, svc_of(app).vault, pk)) == 4  # START, its reply, STOP, its reply
