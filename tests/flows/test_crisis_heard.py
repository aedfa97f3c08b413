"""Texts people wrote that the service once got wrong, found by a reviewer texting as frightened parents:
crisis texts it missed (a reply to our question that says more than its answer, questions about giving
naloxone again, pleas, Spanish for "I used too much") and "cancel my appointment", which unsubscribed.
(The phrases added for these are patterns of what people say, not these sentences; the model reads the
replies.)"""
import pytest

from tests.flows.test_crisis_talk import converse, text

CRISIS = text("crisis")


@pytest.mark.parametrize("keyword,reply", [
    ("SIGNS", "other hes gray and cold"), ("SIGNS", "son is slumped and wont answer"),
    ("SIGNS", "daughter took a bunch of pills"), ("SIGNS", "me i took too much"),
    ("SEÑALES", "mi hijo se tomo muchas pastillas"), ("SEÑALES", "otro, tiene labios grises"),
])
def test_a_reply_to_our_question_that_says_more_than_its_answer_is_heard(keyword, reply):
    d = converse([keyword, reply])[1]
    assert d.crisis and "911" in d.replies[0]


@pytest.mark.parametrize("keyword,reply", [("SIGNS", "OTHER please"), ("SIGNS", "me, im 34"),
                                           ("SEÑALES", "Mi hija tiene 19"), ("SIGNS", "2")])
def test_a_reply_that_only_answers_stays_an_answer(keyword, reply):
    d = converse([keyword, reply])[1]
    assert not d.crisis and d.flow == "signs"


@pytest.mark.parametrize("body", ["is narcan safe to give again", "can i give him more narcan",
                                  "how long does narcan last hes waking up", "what do i do if narcan doesnt work",
                                  "please help", "pls help"])
def test_naloxone_again_and_pleas_get_the_crisis_answer(body):
    [d] = converse([body])
    assert d.crisis and d.replies[0] == CRISIS and "again in 2-3 min" in CRISIS


@pytest.mark.parametrize("body", ["es seguro darle narcan otra vez", "puedo darle mas narcan",
                                  "se volvio a dormir despues del narcan", "creo que use demasiado"])
def test_the_same_in_spanish_in_spanish(body):
    [d] = converse([body])
    assert d.crisis and d.replies[0] == text("crisis", "es") and "otra vez a los 2-3 min" in d.replies[0]


@pytest.mark.parametrize("body", ["where can i get narcan", "how do i use narcan", "donde consigo narcan",
                                  "is narcan free"])
def test_asking_where_to_get_naloxone_is_not_a_crisis(body):
    [d] = converse([body])
    assert not d.crisis


@pytest.mark.parametrize("body", ["cancel my appointment tomorrow", "Cancel appt", "cancel the intake on friday"])
def test_cancelling_an_appointment_is_not_an_opt_out(body):
    from flows.engine import Consent
    [d] = converse([body])
    assert d.consent is not Consent.OPTED_OUT and not d.consent_changed


@pytest.mark.parametrize("body", ["cancel", "CANCEL texts", "cancel please"])
def test_cancel_still_opts_out(body):
    from flows.engine import Consent
    [d] = converse([body])
    assert d.consent is Consent.OPTED_OUT


@pytest.mark.parametrize("body", ["quit heroin cold turkey is it safe", "stop using fentanyl how", "Stop doing drugs?"])
def test_wanting_to_quit_a_drug_is_not_an_opt_out(body):
    from flows.engine import Consent
    [d] = converse([body])
    assert d.consent is not Consent.OPTED_OUT


@pytest.mark.parametrize("body", ["stop using my number", "quit heroin and stop texting me", "STOP texting me"])
def test_a_request_about_our_texts_still_opts_out(body):
    from flows.engine import Consent
    [d] = converse([body])
    assert d.consent is Consent.OPTED_OUT


def test_ayuda_with_a_sentence_is_read_as_what_it_says_and_alone_is_help():
    from flows.matching import Intent
    [d] = converse(["ayuda por favor mi hijo usa heroina"])
    assert d.intent is not Intent.HELP and d.language == "es"
    [d] = converse(["AYUDA"])
    assert d.intent is Intent.HELP


@pytest.mark.parametrize("body", ["stop doing it", "stop doing this", "quit it", "stop using it"])
def test_in_doubt_it_still_opts_out(body):
    from flows.engine import Consent
    [d] = converse([body])
    assert d.consent is Consent.OPTED_OUT


@pytest.mark.parametrize("body,language", [("hablan español?", "es"), ("Hablan espanol", "es"),
                                           ("do you speak spanish", "es"), ("alguien habla ingles?", "en")])
def test_asking_whether_we_speak_a_language_switches_to_it(body, language):
    from flows.matching import Intent
    [d] = converse([body])
    assert d.intent is Intent.LANGUAGE and not d.callback and (d.language or "en") == language


# What a second reviewer of these fixes found.
@pytest.mark.parametrize("body", ["how long does naloxone last", "how often can you give narcan",
                                  "he needs another dose of narcan", "the narcan wore off", "narcan isnt working",
                                  "cuantas dosis de narcan se pueden dar", "mi hijo uso demasiado", "help please",
                                  "ayuda por favor por favor"])
def test_naloxone_again_of_any_length_is_never_overruled_by_the_model(body):
    [d] = converse([body])
    assert d.crisis


@pytest.mark.parametrize("body", ["can i get narcan again", "is the narcan training again next week",
                                  "how long does narcan last on the shelf", "how many narcan kits can i get",
                                  "narcan doesnt work on benzos", "cuanto narcan dan gratis", "use demasiado mi tarjeta"])
def test_getting_or_learning_about_naloxone_is_no_crisis_cue(body):
    from understanding.phrases import crisis_languages
    assert not crisis_languages(body)


@pytest.mark.parametrize("body", ["Cancel appointment. STOP", "cancel my appointment and cancel these texts",
                                  "cancel appointment reminders", "stop heroin messages", "STOP drug texts",
                                  "stop using our number", "STOP. Drugs? Wrong number", "stop, drugs are not my thing",
                                  "stop using", "END this session", "cancel group"])
def test_anything_about_our_texts_or_in_doubt_still_opts_out(body):
    from flows.engine import Consent
    [d] = converse([body])
    assert d.consent is Consent.OPTED_OUT


def test_ayuda_with_a_sentence_stays_spanish():
    [d] = converse(["AYUDA info"])
    assert d.language == "es"


@pytest.mark.parametrize("body", ["he is breathing now he went limp again", "hes breathing now, dosent respond",
                                  "she is awake now then went out again"])
def test_worse_news_after_good_news_gets_the_crisis_answer_again(body):
    d = converse(["my husband overdosed", body])[1]
    assert d.replies == (text("crisis_again"),)


@pytest.mark.parametrize("body", ["he's breathing again", "hes breathing now thank god"])
def test_good_news_alone_is_thanked(body):
    d = converse(["my husband overdosed", body])[1]
    assert d.replies == (text("crisis_update"),)


@pytest.mark.parametrize("body", ["R cant make it", "R can't come", "C will be there", "R no ride"])
def test_a_code_and_a_reason_at_a_question_that_does_not_listen_is_its_answer(body):
    from datetime import timedelta
    from flows.engine import Conversation, Texter
    from tests.flows.test_crisis_talk import NOW
    asked = Texter(first_contact=False, conversation=Conversation("confirm", "ask", (NOW - timedelta(minutes=5)).timestamp()),
                   fields={"appointment_at": "Friday at 10:00"})
    [d] = converse([body], asked)
    assert not d.crisis and d.flow == "confirm"


def test_cancelling_an_appointment_puts_them_before_staff_with_a_kind_answer():
    [d] = converse(["cancel my appointment tomorrow"])
    assert d.inbox == "appointment" and "reach out about your appointment" in d.replies[0]
    [d] = converse(["cancelar mi cita"])  # CANCELAR is a Spanish opt-out word only as the whole message
    assert d.consent is not None
