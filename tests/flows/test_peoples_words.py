"""Answers in the person's words: a question that offers YES takes "yes" (and Y, SI, SÍ) as its answer;
YES and START re-subscribe only someone who opted out; a request to be called is a call back; thanks get
a short answer; free text picks the language; plain Spanish requests to stop are opt-outs. Pure."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from flows.engine import Consent, Conversation, Policy, Texter, decide
from flows.hours import parse_weekly
from flows.loader import DEFINITIONS, load_documents
from flows.matching import Intent

NY = ZoneInfo("America/New_York")
NOW = datetime(2025, 1, 15, 10, 0, tzinfo=NY)
DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted(DEFINITIONS.glob("*.yaml"))}
NALOXONE = """\
flow: naloxone
keyword: {en: NALOXONE, es: NALOXONA}
summary: {en: free naloxone, es: naloxona gratis}
start: ask
steps:
  ask:
    text:
      en: Do you have naloxone (Narcan) at home? Reply YES or NO.
      es: ¿Tiene naloxona (Narcan) en casa? Responda SI o NO.
    answers:
      - match: {en: [YES, Y, YEAH], es: [SI, SÍ]}
        go: have
      - match: {en: ["NO", "N", NOPE], es: ["NO"]}
        go: need
    timeout: {after: 2h, go: nudge}
  have:
    text: {en: Good. Keep it where everyone can find it., es: Bien. Guárdela donde todos la encuentren.}
  need:
    text: {en: Reply CALL and we'll help you get some free., es: Responda LLAMAR y le ayudamos a conseguirla gratis.}
  nudge:
    text: {en: "Still there? Reply YES or NO.", es: "¿Sigue ahí? Responda SI o NO."}
"""
FLOWS = load_documents({**DOCS, "naloxone.yaml": NALOXONE})
POLICY = Policy(parse_weekly("Mon-Fri 09:00-17:00"))
ASKED = Conversation("naloxone", "ask", NOW.timestamp() - 60)
MENU = FLOWS.message("menu")


def run(body: str, texter: Texter | None = None):
    return decide(FLOWS, POLICY, texter or Texter(first_contact=False), body, NOW)


def asked(**kwargs) -> Texter:
    return Texter(first_contact=False, conversation=ASKED, **kwargs)


def step(name: str, language: str = "en") -> str:
    return FLOWS.render(FLOWS.text(FLOWS.flows["naloxone"].steps[name].text, language), language=language)


@pytest.mark.parametrize("body,go", [("YES", "have"), ("yes", "have"), ("Y", "have"), ("Yes!", "have"),
                                     ("yeah", "have"), ("NO", "need"), ("nope", "need"), ("n", "need")])
def test_a_yes_or_no_question_takes_yes_and_no_as_answers(body, go):
    d = run(body, asked())
    assert d.intent is Intent.FLOW and d.replies == (step(go),) and not d.consent_changed


@pytest.mark.parametrize("body,go", [("si", "have"), ("SÍ", "have"), ("Si!", "have"), ("no", "need")])
def test_si_is_an_answer_in_spanish(body, go):
    d = run(body, asked(language="es"))
    assert d.replies == (step(go, "es"),)


def test_yes_from_someone_who_never_opted_out_is_never_subscribed_again():
    d = run("YES")
    assert d.replies == (FLOWS.message("unclear"),) and "subscribed" not in d.replies[0] and not d.consent_changed


def test_yes_and_start_re_subscribe_someone_who_opted_out():
    for body in ("YES", "START"):
        d = run(body, Texter(Consent.OPTED_OUT, False))
        assert d.consent_changed and d.consent is Consent.SUBSCRIBED and d.replies == (FLOWS.message("start"),)


def test_stop_and_a_crisis_still_win_at_a_yes_or_no_question():
    assert run("STOP", asked()).consent is Consent.OPTED_OUT
    d = run("yes he is breathing but his lips are blue", asked())
    assert d.crisis and "911" in d.replies[0] and d.conversation is None


def test_a_reply_that_matches_no_answer_gets_the_choices_once_not_the_whole_question():
    d = run("ok thanks", asked())
    assert d.replies == (FLOWS.message("choices", choices="YES or NO"),) and d.conversation.misses == 1
    again = run("sure whatever", Texter(first_contact=False, conversation=d.conversation))
    assert again.replies == (MENU,) and again.conversation is None and not again.understood


@pytest.mark.parametrize("body", ["please someone call me", "can someone call me", "i need someone to call me",
                                  "I want to talk to someone", "quisiera hablar con alguien", "llamenme por favor",
                                  "me pueden llamar?"])
def test_a_request_to_be_called_is_a_call_back(body):
    d = run(body)
    assert d.flow == "call" and d.callback and d.alert is not None


@pytest.mark.parametrize("body", ["he won't call me back", "don't call me", "how do I get him to talk to someone",
                                  "no me llamen"])
def test_someone_elses_calls_are_not_a_request(body):
    assert not run(body).callback


@pytest.mark.parametrize("body,language", [
    ("Hola, necesito informacion para mi hijo", "es"), ("donde consigo narcan gratis", "es"),
    ("quisiera hablar con alguien", "es"), ("how do I help my daughter", "en"),
])
def test_free_text_picks_the_language_of_the_answer(body, language):
    d = run(body)
    assert (d.language or "en") == language
    assert d.replies[0].startswith(("Le saludamos", "Gracias")) if language == "es" else True


def test_a_keyword_still_picks_the_language_as_before():
    assert run("SEÑALES").language == "es" and run("SIGNS", Texter(first_contact=False, language="es")).language == "en"


def test_ok_or_a_number_keeps_the_persons_language():
    for body in ("ok", "2", "narcan"):
        assert run(body, Texter(first_contact=False, language="es")).language == ""


@pytest.mark.parametrize("body", ["Quiero dejar de recibir mensajes", "ya no me manden mensajes",
                                  "no quiero recibir mas mensajes", "por favor ya no me manden mas mensajes"])
def test_plain_spanish_requests_to_stop_are_opt_outs(body):
    d = run(body)
    assert d.intent is Intent.OPT_OUT and d.consent is Consent.OPTED_OUT and d.replies == (FLOWS.message("stop", "es"),)


@pytest.mark.parametrize("body", ["ok thanks", "Thank you!!", "gracias", "ok gracias", "thx"])
def test_thanks_get_a_short_kind_answer_not_the_menu(body):
    d = run(body)
    assert d.intent is Intent.THANKS and MENU not in d.replies and len(d.replies[0]) < 120


def test_help_alone_is_the_carriers_help_answer_and_says_911_and_call():
    assert run("HELP").replies == (FLOWS.message("help"),) and "911" in FLOWS.message("help")
    spanish = run("AYUDA").replies[0]
    assert spanish == FLOWS.message("help", "es") and "911" in spanish and "LLAMAR" in spanish


def test_what_matched_nothing_is_marked_for_staff():
    assert not run("banana bread recipe").understood
    assert run("SIGNS").understood and run("").understood and run("ok thanks").understood
