"""A crisis conversation, not a crisis auto-reply (flows.crisis_talk), as a parent in an emergency texts
it, one text after another: the full answer once, then short calm answers that still say what to do
now and that staff were told; a request to be called is a call back; never a menu, a keyword prompt, a
follow-up or silence, except to an echo. Pure: the engine, the shipped flows and fixed times."""
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from flows import crisis_talk, echo
from flows.alerts import Alert
from flows.engine import Consent, Decision, Policy, Silence, Texter, decide
from flows.hours import parse_weekly
from flows.loader import load_directory
from flows.matching import Intent

NY = ZoneInfo("America/New_York")
NOW = datetime(2025, 1, 15, 22, 0, tzinfo=NY)  # a Wednesday night: staff are out
FLOWS = load_directory()
POLICY = Policy(parse_weekly("Mon-Fri 09:00-17:00"))


def text(name: str, language: str = "en", policy: Policy = POLICY) -> str:
    return crisis_talk.text(FLOWS, policy, Texter(language=language), name)


def converse(bodies: list[str], texter: Texter | None = None, policy: Policy = POLICY) -> list[Decision]:
    """Texts one after another, the state carried as the store would carry it."""
    texter, out = texter or Texter(first_contact=False), []
    for body in bodies:
        d = decide(FLOWS, policy, texter, body, NOW)
        out.append(d)
        texter = replace(texter, crisis_open=texter.crisis_open or d.opens_crisis,
                         crisis_kind=d.crisis_kind or texter.crisis_kind,  # as the store keeps it while open
                         crisis_replies_last_hour=texter.crisis_replies_last_hour + (1 if d.crisis_replied else 0),
                         replies_last_hour=texter.replies_last_hour + len(d.replies),
                         callback_open=texter.callback_open or d.callback,
                         language=d.language or texter.language,
                         recent=echo.remember(texter.recent, body, d.replies) if d.crisis else texter.recent,
                         consent=d.consent if d.consent_changed else texter.consent,
                         conversation=d.conversation if d.conversation_changed else texter.conversation)
    return out


def test_a_parent_in_an_emergency_is_answered_every_time_and_never_with_the_menu():
    bodies = ["my son overdosed", "he is not breathing please help", "still not breathing",
              "ambulance not here yet he is blue", "please someone call me", "ok", "thank you", "SIGNS"]
    ds = converse(bodies)
    assert ds[0].replies == (text("crisis"),) and ds[0].opens_crisis and ds[0].alert is Alert.CRISIS
    for d in ds[1:]:
        assert len(d.replies) == 1 and d.silence is None and d.crisis and not d.opens_crisis
        assert d.alert is None  # on-call heard once; every text updates the crisis instead
        assert FLOWS.message("menu") not in d.replies and d.schedule == () and d.conversation is None
    for d in ds[1:7]:
        assert "911" in d.replies[0] and len(d.replies[0]) < len(text("crisis"))
    assert ds[4].callback and ds[4].replies == (text("crisis_call"),)
    assert [d.replies for d in ds[1:4]] == [(text("crisis_again"),), (text("crisis_stay"),), (text("crisis_again"),)]
    assert [d.replies for d in ds[5:7]] == [(text("crisis_update"),)] * 2  # "ok", "thank you": thanked
    assert ds[7].replies[0].startswith("Signs of heroin dependence")  # asked for: its answer, no question left


@pytest.mark.parametrize("body", ["yes he is breathing now", "911 is coming", "the ambulance is here",
                                  "they took him to the hospital", "hes awake now",
                                  "im safe, i just wanted information", "im safe, i just want info",
                                  "i just want information"])
def test_news_that_help_is_there_is_thanked_with_what_to_do_if_it_gets_worse(body):
    d = converse(["my husband overdosed", body])[1]
    assert d.replies == (text("crisis_update"),) and d.crisis and "911" in d.replies[0]


@pytest.mark.parametrize("body", ["ya viene la ambulancia", "ya respira", "gracias", "esta en el hospital",
                                  "no estoy en peligro, solo quiero informacion"])
def test_news_in_spanish_is_thanked_in_spanish(body):
    d = converse(["mi esposo no respira", body])[1]
    assert d.replies == (FLOWS.message("crisis_update", "es", flagged=FLOWS.message("flagged", "es")),)


def test_yes_in_an_open_crisis_answers_us_and_never_re_subscribes_who_sent_stop():
    """She had sent STOP; then a crisis; then "yes" (he is breathing): never the re-subscribe text, still
    opted out (a text that is not itself a crisis stays unanswered after a STOP); START still re-subscribes."""
    opted_out = Texter(first_contact=False, consent=Consent.OPTED_OUT)
    ds = converse(["my son wont wake up", "yes", "yes he is breathing now", "START"], texter=opted_out)
    assert ds[0].crisis and ds[0].replies == (text("crisis"),)
    for d in ds[1:3]:
        assert d.crisis and not d.consent_changed and d.consent is Consent.OPTED_OUT
        assert d.replies in ((), (text("crisis_update"),))
    subscribed = converse(["my son wont wake up", "yes", "yes he is breathing now"])
    assert subscribed[1].replies == (text("crisis_again"),) and subscribed[2].replies == (text("crisis_update"),)
    assert not any(d.consent_changed for d in subscribed)
    assert ds[3].consent_changed and ds[3].consent is Consent.SUBSCRIBED  # START itself still re-subscribes


def test_someone_who_took_pills_is_told_to_call_911_for_themselves():
    d = converse(["i want to die", "i already took some"])[1]
    assert d.replies == (text("crisis_self_harm_again"),)  # the crisis opened with words of suicide
    assert "If you took something" in d.replies[0] and d.replies[0].index("911") < d.replies[0].index("988")


def test_a_call_asked_for_in_a_crisis_is_queued_once():
    ds = converse(["he wont wake up", "someone call me please", "can you call me"])
    assert ds[1].callback and not ds[2].callback  # already waiting: their place is kept
    assert ds[2].replies == (text("crisis_call"),)


def test_the_short_answers_say_what_to_do_now_and_that_staff_know():
    short = text("crisis_again")
    assert all(part in short for part in ("911", "naloxone", "988", "told our on-call team"))
    spanish = text("crisis_again", "es")
    assert all(part in spanish for part in ("911", "naloxona", "988", "equipo de guardia"))


def test_without_on_call_numbers_no_answer_promises_an_alert():
    alone = replace(POLICY, on_call=False)
    for d in converse(["he is not breathing", "still not breathing", "call me"], policy=alone):
        assert "on-call" not in d.replies[0] and "  " not in d.replies[0]


def test_an_echo_of_our_own_words_is_silence_a_person_never_is():
    ds = converse(["she is not breathing", text("crisis"), "still not breathing", text("crisis_again")])
    assert ds[1].silence is Silence.ECHO and ds[1].replies == () and ds[1].crisis
    assert ds[2].replies and ds[3].silence is Silence.ECHO


def test_the_same_canned_text_a_third_time_is_an_auto_responder():
    canned = "Thanks for your message, I am away until Monday"
    ds = converse(["i want to end my life", canned, canned, canned, "help", "help", "help"])
    assert [bool(d.replies) for d in ds] == [True, True, True, False, True, True, True]


def test_stop_still_wins_in_a_crisis_and_a_crisis_text_after_it_is_still_answered():
    ds = converse(["he overdosed", "STOP", "he is still blue", "ok"])
    assert ds[1].intent is Intent.OPT_OUT and ds[1].consent is Consent.OPTED_OUT and ds[1].replies == (
        FLOWS.message("stop"),)
    assert ds[2].replies == (text("crisis_again"),) and ds[2].consent is Consent.OPTED_OUT
    assert ds[3].replies == () and ds[3].silence is Silence.OPTED_OUT


def test_help_alone_in_a_crisis_gets_the_short_answer_and_the_help_answer():
    ds = converse(["he is not breathing", "HELP"])
    assert ds[1].replies == (text("crisis_again"), FLOWS.message("help"))


def test_a_spanish_parent_is_answered_in_spanish_throughout():
    ds = converse(["mi hijo no respira", "sigue sin respirar", "por favor llamenme"])
    assert ds[0].replies == (text("crisis", "es"),)
    assert ds[1].replies == (text("crisis_again", "es"),)
    assert ds[2].replies == (text("crisis_call", "es"),) and ds[2].callback


def test_a_crisis_ends_a_waiting_question_and_no_question_is_asked_while_it_is_open():
    ds = converse(["SIGNS", "my brother took something and wont wake up", "me"])
    assert ds[0].conversation is not None
    assert ds[1].conversation is None and ds[1].conversation_changed
    assert ds[2].replies == (text("crisis_again"),) and ds[2].conversation is None


def test_a_held_conversation_in_a_crisis_stays_with_staff_but_crisis_texts_are_answered():
    held = Texter(first_contact=False, held=True, crisis_open=True)
    assert decide(FLOWS, POLICY, held, "thank you", NOW).silence is Silence.HELD
    assert decide(FLOWS, POLICY, held, "he is not breathing again", NOW).replies == (text("crisis_again"),)


@pytest.mark.parametrize("body", ["help my brother took something and wont respond", "HELP he's not waking up",
                                  "ayuda mi hermano tomo algo y no responde"])
def test_help_followed_by_an_emergency_is_the_emergency(body):
    d = decide(FLOWS, POLICY, Texter(), body, NOW)
    assert d.crisis and d.opens_crisis and len(d.replies) == 1 and "911" in d.replies[0]
    assert "rates may apply" not in d.replies[0] and "tarifas" not in d.replies[0]
    assert d.disclosure_owed is True  # the next ordinary answer carries it


# -- found in review of the crisis conversation's news and keywords ---------------------------------------------

@pytest.mark.parametrize("body", [
    "he's breathing but barely", "ok hes not responding", "ok. i took the whole bottle", "ok i have a gun",
    "thank you. im going to jump", "bye forever", "im ok but i took 20 pills", "i'm fine i took everything i had",
    "im safe now but i have the pills in my hand", "he is breathing but very slow",
    "called 911 but they arent here and hes gasping", "help is coming but hes dying", "is he ok?",
    "i dont think hes breathing", "he's breathing?", "no help is coming", "911 is coming?? its been 20 min",
    "ok bye"])
def test_worse_news_a_question_or_a_goodbye_in_an_open_crisis_gets_the_crisis_answer_again(body):
    d = converse(["my son overdosed", body])[1]
    assert d.sources in (("crisis_again",), ("crisis_self_harm_again",)), body  # what to do now, never thanks
    assert d.replies == (text(d.sources[0]),) and "911" in d.replies[0]


@pytest.mark.parametrize("body", ["no esta bien", "no estoy bien", "adios, ya no aguanto", "adios para siempre",
                                  "gracias pero no se mueve", "ya respira pero muy poco", "¿ya viene la ambulancia?",
                                  "estoy bien pero me tome todas las pastillas"])
def test_worse_news_in_spanish_gets_the_crisis_answer_again(body):
    d = converse(["mi hijo no respira", body])[1]
    assert d.sources in (("crisis_again",), ("crisis_self_harm_again",)), body
    assert d.replies == (FLOWS.message(d.sources[0], "es", flagged=FLOWS.message("flagged", "es")),)


def test_the_thanks_carries_988_too():
    assert "988" in text("crisis_update")


@pytest.mark.parametrize("body", ["Recovery position?", "Signs he is dying?", "rehab now please"])
def test_a_keyword_inside_a_longer_text_in_a_crisis_gets_the_crisis_answer(body):
    d = converse(["my son overdosed", body])[1]
    assert d.replies == (text("crisis_again"),)


def test_a_longer_start_still_re_subscribes_in_a_crisis():
    opted_out = Texter(first_contact=False, consent=Consent.OPTED_OUT)
    d = converse(["my son wont wake up", "START please"], texter=opted_out)[1]
    assert d.consent_changed and d.consent is Consent.SUBSCRIBED


def test_a_frightened_person_sending_the_same_plea_again_is_answered_each_time():
    plea = "hes not breathing please help"
    ds = converse([plea] * 6)
    assert all(d.replies and "911" in d.replies[0] and d.silence is None for d in ds)
    budget = crisis_talk.REPEATED_PLEA_BUDGET * POLICY.crisis_replies_per_hour
    more = converse([plea] * (budget + 2))  # a machine repeating one can't loop for long
    assert [bool(d.replies) for d in more] == [True] * budget + [False] * 2


# -- found by a tester texting as frightened people do: suicide is answered as suicide, fear of the police,
# news said in other words, the same words again and again, an English sentence after a Spanish "hola" ---

@pytest.mark.parametrize("body,language", [("i just want to die tonight", "en"), ("thinking about ending my life", "en"),
                                           ("i keep cutting myself", "en"), ("ya no quiero vivir mas", "es"),
                                           ("me quiero morir", "es")])
def test_words_of_suicide_are_answered_with_988_first_not_an_overdose(body, language):
    d = converse([body])[0]
    assert d.replies == (text("crisis_self_harm", language),) and d.opens_crisis and d.crisis_kind == "self_harm"
    assert d.replies[0].index("988") < d.replies[0].index("911") and "Narcan" not in d.replies[0]
    assert d.sources == ("crisis_self_harm",)  # the transcript names the text sent


def test_a_suicidal_person_texting_on_is_answered_as_suicidal_with_911_for_what_they_took():
    ds = converse(["i want to kill myself", "nobody would care", "i have a lot of pills here", "please", "ok"])
    assert [d.sources for d in ds[1:4]] == [("crisis_self_harm_again",), ("crisis_self_harm_more",),
                                            ("crisis_self_harm_again",)]  # its kind kept while open, in turn
    assert all("Keep them on their side" not in d.replies[0] and "911" in d.replies[0] for d in ds[1:])
    assert ds[4].sources == ("crisis_self_harm_update",) and "naloxone" not in ds[4].replies[0]


def test_words_of_suicide_later_in_an_overdose_crisis_stay_its_kind():
    ds = converse(["he is blue", "now i want to die too", "please"])
    assert ds[1].crisis_kind == "self_harm" and ds[2].sources == ("crisis_self_harm_more",)


def test_someone_alone_who_took_a_whole_supply_is_told_911_for_themselves_not_to_stay_with_them():
    ds = converse(["i took all my pills tonight because i want to die", "please", "im alone"])
    assert ds[0].sources == ("crisis",) and ds[0].crisis_kind == "overdose"  # an overdose first: 911, naloxone
    assert ds[2].sources == ("crisis_stay",) and ds[2].replies[0].startswith("If you took something yourself, call 911")


def test_overdose_words_come_first_in_a_crisis_that_opened_with_words_of_suicide():
    ds = converse(["my son said he wants to die", "now hes not breathing", "what do i do"])
    assert ds[0].sources == ("crisis_self_harm",)
    assert ds[1].sources == ("crisis_again",) and "naloxone" in ds[1].replies[0] and ds[1].crisis_kind == "overdose"
    assert ds[2].sources == ("crisis_stay",)  # the crisis is an overdose now


def test_fear_of_the_police_in_a_crisis_of_suicide_gets_the_good_samaritan_text_too():
    ds = converse(["i want to die", "if i call 911 will they arrest me"])
    assert ds[1].sources == ("crisis_afraid",)


@pytest.mark.parametrize("body", ["my brother just got out of jail and hes not breathing",
                                  "we called 911 already, the police will come too", "he was charged last year"])
def test_jail_or_the_police_named_without_fear_is_not_a_fear_of_calling(body):
    d = converse(["my son overdosed", body])[1]
    assert "crisis_afraid" not in d.sources


@pytest.mark.parametrize("body", ["i call 911", "we call 911", "just call 911"])
def test_calling_911_now_is_not_news_that_help_is_there(body):
    d = converse(["my son overdosed", body])[1]
    assert d.sources != ("crisis_update",)


def test_an_overdose_with_a_word_of_suicide_later_gets_the_suicide_answer_for_that_text():
    ds = converse(["my brother overdosed", "he said he wanted to die"])
    assert ds[1].replies == (text("crisis_self_harm_again"),)


@pytest.mark.parametrize("body", ["hes not breathing but im scared to call the cops", "if i call 911 will i go to jail",
                                  "she wont wake up, i dont want the police here",
                                  "he's turning blue but I'm undocumented", "hes not breathing and he has a warrant"])
def test_fear_of_calling_911_is_answered_with_the_good_samaritan_laws(body):
    d = converse([body])[0]
    assert d.replies == (text("crisis"), text("crisis_afraid")) and d.sources == ("crisis", "crisis_afraid")
    later = converse(["he overdosed", "what if the police come, will they arrest us"])[1]
    assert later.replies == (text("crisis_afraid"),) and "Good Samaritan" in later.replies[0]


def test_a_parent_texting_on_gets_something_new_to_do_not_the_same_words():
    ds = converse(["my son overdosed", "what do i do", "he is still blue", "please"])
    assert [d.sources for d in ds[1:]] == [("crisis_again",), ("crisis_stay",), ("crisis_again",)]
    assert "rescue breathing" in ds[2].replies[0] and "911" in ds[2].replies[0]


@pytest.mark.parametrize("body", ["the paramedics are here", "we already called 911", "i called 911 already",
                                  "they said the ambulance is on the way", "the cops are at the door",
                                  "ems is taking her to the hospital", "its not an emergency",
                                  "he opened his eyes!!", "false alarm, she's fine", "nvm hes ok",
                                  "the ambulance took him to the hospital", "im on the phone with 911 now",
                                  "called 911, theyre on the line with me", "ambulance is here thank god",
                                  "this is not an emergency i just need information", "sorry wrong number"])
def test_more_ways_of_saying_help_is_there_or_it_was_no_emergency_are_thanked(body):
    d = converse(["my husband overdosed", body])[1]
    assert d.replies == (text("crisis_update"),)


@pytest.mark.parametrize("body", ["ya llegaron", "ya llegaron gracias", "se lo llevaron al hospital",
                                  "no es una emergencia", "numero equivocado", "ya estan bien, gracias a dios",
                                  "abrio los ojos!!", "muchas gracias por todo", "ya llamamos al 911",
                                  "falsa alarma, ya esta bien"])
def test_more_spanish_news_is_thanked(body):
    d = converse(["mi esposo no respira", body])[1]
    assert d.replies == (FLOWS.message("crisis_update", "es", flagged=FLOWS.message("flagged", "es")),)


@pytest.mark.parametrize("body", ["the paramedics are here but he is still not breathing",
                                  "we called 911 but they arent here yet", "wrong number? he is dying"])
def test_news_with_a_doubt_is_still_the_crisis(body):
    d = converse(["my husband overdosed", body])[1]
    assert d.replies != (text("crisis_update"),) and "911" in d.replies[0]


def test_an_english_sentence_after_a_spanish_hola_is_answered_in_english():
    d = converse(["my daughter is not breathing"], Texter(first_contact=False, language="es"))[0]
    assert d.replies == (text("crisis"),) and d.language == "en"
    short = converse(["mi hijo overdosed"], Texter(first_contact=False, language="es"))[0]
    assert short.replies == (text("crisis", "es"),)  # borrowed words in a Spanish sentence: Spanish


@pytest.mark.parametrize("body", ["mi hijo no respira y no tengo papeles", "no despierta, tengo miedo de llamar a la policia"])
def test_fear_of_calling_in_spanish_is_answered_in_spanish(body):
    d = converse([body])[0]
    assert d.sources == ("crisis", "crisis_afraid") and "Buen Samaritano" in d.replies[1]
