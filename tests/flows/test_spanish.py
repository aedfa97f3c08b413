"""Spanish, as tables: keywords, answers, opt-out (words and plain requests), opt-in, HELP, language
commands and crisis words in both languages; the person's language and where it comes from; every text
in it, plain (no á í ó ú) and GSM-7. Pure: the shipped FlowSet and fixed times."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import crisis_talk, gsm
from flows.alerts import Alert
from flows.engine import Consent, Conversation, Policy, Texter, decide, send_step
from flows.hours import callback_eta, parse_weekly
from flows.loader import DEFINITIONS, FlowError, load_documents, shippable
from flows.matching import Intent

NY = ZoneInfo("America/New_York")
NOW = datetime(2025, 1, 15, 10, 0, tzinfo=NY)  # a Wednesday, staff in
DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted(DEFINITIONS.glob("*.yaml"))}
YES_NO = """\
flow: consulta
keyword: {en: CHECKUP, es: CONSULTA}
summary: {en: did our team reach you, es: si nuestro equipo le llamo}
start: ask
steps:
  ask:
    text:
      en: Did our team reach you? Reply YES or NO.
      es: ¿Le llamó nuestro equipo? Responda SI o NO.
    answers:
      - match: {en: [Y, YEP], es: [SI, SÍ]}
        go: good
      - match: {en: [NOPE, "NO"], es: ["NO"]}
        go: bad
  good:
    text: {en: Glad to hear it., es: Nos alegra.}
  bad:
    text: {en: We'll try again., es: Lo intentaremos de nuevo.}
"""
FLOWS = load_documents({**DOCS, "consulta.yaml": YES_NO})
SHORT_SIGNS = """\
flow: signs
keyword: {en: SIGNS, es: SEÑALES}
summary: {en: the signs, es: las señales}
reply:
  en: Signs of heroin use include tiny pupils. Reply CALL to talk.
  es: Una señal son las pupilas diminutas. Responda LLAMAR.
"""
POLICY = Policy(parse_weekly("Mon-Fri 09:00-17:00"))
ES, EN = "es", "en"


def msg(name: str, language: str) -> str:
    if name.startswith("crisis"):  # says our team was told (POLICY has on-call numbers)
        return crisis_talk.text(FLOWS, POLICY, Texter(language=language), name)
    return FLOWS.message(name, language)


def step(flow: str, name: str, language: str) -> str:
    return FLOWS.render(FLOWS.text(FLOWS.flows[flow].steps[name].text, language), language=language)


def texter(language: str = "", first: bool = False, consent: Consent = Consent.SUBSCRIBED, **kwargs) -> Texter:
    return Texter(consent, first, language=language, **kwargs)


def run(body: str, who: Texter | None = None):
    return decide(FLOWS, POLICY, who or texter(), body, NOW)


ASKED = Conversation("signs", "ask", NOW.timestamp() - 60)


# -- keywords and the language they set ----------------------------------------------------------------------

@pytest.mark.parametrize("body", ["SEÑALES", "señales", "Señales", "SENALES", "senales", "Senales?", "SEÑAL",
                                  "sintomas", "SÍNTOMAS", "senalez"])
def test_a_spanish_keyword_answers_in_spanish_and_remembers_it(body):
    d = run(body)
    assert d.flow == "signs" and d.language == ES
    assert d.replies == (step("signs", "signs", ES), step("signs", "ask", ES))


@pytest.mark.parametrize("body,flow", [("TRATAMIENTO", "treatment"), ("desintoxicación", "treatment"),
                                       ("LLAMAR", "call"), ("llámenme", "call"), ("Teléfono", "call")])
def test_every_spanish_keyword(body, flow):
    d = run(body)
    assert d.flow == flow and d.language == ES and d.replies[0].startswith(
        FLOWS.render(FLOWS.text(FLOWS.flows[flow].reply, ES), callback_eta="", language=ES)[:20])


def test_an_english_keyword_switches_a_spanish_speaker_back():
    d = run("SIGNS", texter(ES))
    assert d.language == EN and d.replies[0] == step("signs", "signs", EN)


def test_a_keyword_in_the_persons_language_changes_nothing():
    assert run("SEÑALES", texter(ES)).language == "" and run("SIGNS", texter(EN)).language == ""
    assert run("SIGNS", texter("")).language == ""  # the default, already


def test_the_spanish_call_back_promise_is_spanish():
    d = run("LLAMAR")
    assert d.callback and d.alert is Alert.CALLBACK
    assert "le llamara en unos 30 minutos" in d.replies[0]
    assert callback_eta(datetime(2025, 1, 17, 18, 0, tzinfo=NY), POLICY.business_hours, 30, ES) == \
        "después de las 9:00 (EST) el lunes"
    assert callback_eta(datetime(2025, 1, 15, 18, 0, tzinfo=NY), POLICY.business_hours, 30, ES) == \
        "después de las 9:00 (EST) mañana"


def test_the_first_reply_to_a_spanish_speaker_carries_the_spanish_disclosure():
    d = run("SEÑALES", texter(first=True))
    assert d.replies[0].endswith(msg("disclosure", ES)) and "AYUDA" in d.replies[0] and "PARAR" in d.replies[0]


def test_the_menu_is_in_the_persons_language_and_names_spanish_keywords():
    d = run("hola", texter(ES))
    assert d.replies == (msg("unclear", ES),) and "LLAMAR" in d.replies[0]  # texted before: no greeting again
    assert "SEÑALES: las señales de la dependencia de la heroina. TRATAMIENTO: como funciona el tratamiento. " \
           "LLAMAR: nuestro equipo le llama. CONSULTA: si nuestro equipo le llamo." in d.replies[0]


# -- answers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body,go,language", [
    ("yo", "self", ES), ("Yo mismo", "self", ES), ("YO MISMA", "self", ES), ("otro", "other", ES),
    ("Otra", "other", ES), ("mi hijo", "other", ES), ("Mi hija tiene 19", "other", ES), ("alguien", "other", ES),
    ("ME", "self", EN), ("other", "other", EN), ("1", "self", ""), ("2", "other", ""),
])
def test_answers_in_either_language_pick_the_branch_and_say_the_language(body, go, language):
    d = run(body, texter(EN, conversation=ASKED))
    assert d.replies[0] == step("signs", go, language or EN)
    assert d.language == ("" if language in ("", EN) else language)


def test_a_number_keeps_the_persons_language():
    assert run("2", texter(ES, conversation=ASKED)).replies[0] == step("signs", "other", ES)


def test_a_spanish_no_to_a_question_is_an_answer_not_an_opt_out():
    d = run("No", texter(ES, conversation=Conversation("consulta", "ask", NOW.timestamp() - 60)))
    assert d.intent is Intent.FLOW and d.replies == ("Lo intentaremos de nuevo.",)


# -- compliance -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["PARAR", "parar", "Alto", "ALTO!", "CANCELAR", "baja", "Detener", "DETENER ya"])
@pytest.mark.parametrize("who", [texter(), texter(EN), texter(ES, conversation=ASKED), texter(first=True)])
def test_spanish_opt_out_words(body, who):
    d = run(body, who)
    assert d.intent is Intent.OPT_OUT and d.consent is Consent.OPTED_OUT and d.cancel_followups
    assert d.replies == (msg("stop", ES),) and d.conversation is None
    assert "COMENZAR" in d.replies[0] and "START" in d.replies[0]


@pytest.mark.parametrize("who,language", [(texter(ES), ES), (texter(EN), EN), (texter(), EN)])
def test_stop_is_answered_in_the_persons_language(who, language):
    assert run("STOP", who).replies == (msg("stop", language),)


@pytest.mark.parametrize("body", ["COMENZAR", "comenzar", "Iniciar", "INICIAR"])
def test_spanish_opt_in_words(body):
    d = run(body, texter(EN, consent=Consent.OPTED_OUT))
    assert d.intent is Intent.OPT_IN and d.consent is Consent.SUBSCRIBED and d.consent_changed
    assert d.replies == (msg("start", ES),) and d.language == ES


def test_start_is_answered_in_the_persons_language():
    assert run("START", texter(ES, consent=Consent.OPTED_OUT)).replies == (msg("start", ES),)


def test_ayuda_is_the_spanish_help():
    d = run("AYUDA", texter(ES, conversation=ASKED))
    [help_text] = d.replies
    assert d.intent is Intent.HELP and help_text == msg("help", ES)
    for part in ("Roaring Brook Recovery", "855.590.9944", "Pueden aplicarse tarifas de mensajes y datos", "PARAR"):
        assert part in help_text
    assert not d.conversation_changed  # the question keeps waiting


@pytest.mark.parametrize("body", ["HELP", "info"])
def test_help_is_answered_in_the_persons_language(body):
    assert run(body, texter(ES)).replies == (msg("help", ES),)


# -- language commands ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body,language", [("ESPAÑOL", ES), ("espanol", ES), ("Español por favor", ES),
                                           ("SPANISH", ES), ("ENGLISH", EN), ("ingles", EN), ("Inglés", EN)])
def test_asking_for_a_language_by_name(body, language):
    other = EN if language == ES else ES
    d = run(body, texter(other, conversation=ASKED))
    assert d.intent is Intent.LANGUAGE and d.language == language
    assert d.replies == (msg("language", language),)
    assert not d.conversation_changed  # still waiting at the question, answered in either language


def test_a_language_command_in_the_language_already_spoken_is_confirmed_and_changes_nothing():
    d = run("ESPAÑOL", texter(ES))
    assert d.replies == (msg("language", ES),) and d.language == ""


def test_without_spanish_in_the_program_espanol_is_just_a_word():
    program = DOCS["program.yaml"].replace("languages: [en, es]", "languages: [en]")
    english_only = load_documents({**DOCS, "program.yaml": program})
    d = decide(english_only, POLICY, texter(), "ESPAÑOL", NOW)
    assert d.intent is Intent.UNKNOWN and d.language == ""


# -- crisis -------------------------------------------------------------------------------------------------

SPANISH_SELF_HARM = ["pienso en el suicidio", "quiero suicidarme", "voy a matarme", "quiero quitarme la vida",
                     "ya no quiero vivir", "No quiero vivir más"]  # 988 first (crisis_self_harm)
SPANISH_CRISIS = ["mi hermano tuvo una sobredosis y no respira", "Creo que es una sobredosis", "no respira",
                  "NO ESTÁ RESPIRANDO", "no esta respirando", "no despierta", "No se despierta",
                  "no lo puedo despertar", *SPANISH_SELF_HARM]


@pytest.mark.parametrize("body", SPANISH_CRISIS)
@pytest.mark.parametrize("who", [texter(), texter(EN, conversation=ASKED), texter(ES), texter(first=True)])
def test_spanish_crisis_words_get_the_spanish_crisis_answer_at_once(body, who):
    d = run(body, who)
    assert d.crisis and d.crisis_replied and d.alert is Alert.CRISIS and d.cancel_followups
    crisis = d.replies[0]
    self_harm = body in SPANISH_SELF_HARM
    assert crisis.startswith(msg("crisis_self_harm" if self_harm else "crisis", ES))
    for part in ("911", "llame al 988 y marque 2", "envie AYUDA al 988", *(() if self_harm else ("naloxona (Narcan)",))):
        assert part in crisis
    assert d.conversation is None and d.language in ("", ES)


def test_english_crisis_words_from_a_spanish_speaker_are_answered_in_spanish():
    assert run("my son overdosed", texter(ES)).replies[0] == msg("crisis", ES)
    assert run("my son overdosed", texter(EN)).replies[0] == msg("crisis", EN)


def test_a_crisis_word_both_languages_share_goes_by_the_message():
    assert run("quiero suicidarme ya", texter(EN)).replies[0] == msg("crisis_self_harm", ES)
    assert run("i feel suicidal", texter(EN)).replies[0] == msg("crisis_self_harm", EN)


@pytest.mark.parametrize("body,answer", [("suicidio", "crisis_self_harm"), ("Suicida", "crisis_self_harm"),
                                         ("suicidarme", "crisis_self_harm"), ("mi hijo tuvo una overdosis", "crisis")])
def test_a_spanish_crisis_word_alone_from_a_new_texter_is_answered_in_spanish(body, answer):
    assert run(body, texter(EN)).replies[0] == msg(answer, ES)


@pytest.mark.parametrize("body,answer", [("PARAR mi hermano no respira", "crisis"), ("Alto, no despierta", "crisis"),
                                         ("Detener, quiero matarme", "crisis_self_harm"),
                                         ("cancelar todo, quiero quitarme la vida", "crisis_self_harm")])
def test_a_spanish_opt_out_word_inside_a_crisis_message_is_speech(body, answer):
    d = run(body, texter(ES))
    assert d.crisis and d.consent is Consent.SUBSCRIBED and not d.consent_changed
    assert d.replies == (msg(answer, ES),)


def test_stop_inside_a_spanish_crisis_message_still_opts_out_after_the_crisis_answer():
    d = run("STOP mi hermano no respira", texter(ES))
    assert d.crisis and d.consent is Consent.OPTED_OUT and d.replies == (msg("crisis", ES), msg("stop", ES))


def test_staff_alerts_stay_in_english():
    from flows.alerts import TEXTS
    assert "a text mentioned overdose or suicide" in FLOWS.render(TEXTS[Alert.CRISIS])


# -- later texts -------------------------------------------------------------------------------------------

def test_timed_follow_ups_and_later_steps_go_in_the_persons_language():
    es = texter(ES)
    followup = send_step(FLOWS, POLICY, es, "treatment", 0, NOW)
    assert followup.replies == (FLOWS.render(FLOWS.text(FLOWS.flows["treatment"].followups[0].text, ES), language=ES),)
    checkin = send_step(FLOWS, POLICY, es, "signs", "self_checkin", NOW)
    assert checkin.replies == (step("signs", "self_checkin", ES),) and "PARAR" in checkin.replies[0]


def test_a_timeout_goes_in_the_persons_language():
    d = send_step(FLOWS, POLICY, texter(ES, conversation=ASKED), "signs", "nudge", NOW + timedelta(days=1))
    assert d.replies == (step("signs", "nudge", ES),)


def test_a_missing_translation_is_never_shipped_and_a_live_version_from_before_falls_back_to_the_default():
    docs = {**DOCS, "extra.yaml": "flow: extra\nkeyword: {en: EXTRA, es: EXTRAS}\nreply: Only in English.\nsummary: {en: extra, es: extra}\n"}
    flows = load_documents(docs)  # a version published before translations were required still loads
    assert decide(flows, POLICY, texter(ES), "EXTRAS", NOW).replies == ("Only in English.",)
    assert [w.message for w in flows.warnings] == ["no Spanish text (es): every language the program offers needs one"]
    assert flows.warnings[0].file == "extra.yaml" and flows.warnings[0].line == 3
    with pytest.raises(FlowError):
        shippable(flows)  # but nothing half-translated starts or is published


def test_a_later_step_without_its_spanish_says_how_to_stop_in_spanish():
    docs = {**DOCS, "extra.yaml": ("flow: extra\nkeyword: {en: EXTRA, es: EXTRAS}\nsummary: extra\nstart: a\nsteps:\n"
                                   "  a:\n    text: {en: First., es: Primero.}\n    next: {after: 1d, go: b}\n"
                                   "  b:\n    text: Later, in English only.\n")}
    d = send_step(load_documents(docs), POLICY, texter(ES), "extra", "b", NOW)
    assert d.replies == ("Later, in English only. Responda PARAR para cancelar.",)


# -- every Spanish text goes out plain and GSM-7 -----------------------------------------------------------

SPANISH_BODIES = ["SEÑALES", "TRATAMIENTO", "LLAMAR", "hola", "AYUDA", "PARAR", "COMENZAR", "ESPAÑOL",
                  "mi hermano tuvo una sobredosis", "LLAMAR no respira"]


@pytest.mark.parametrize("body", SPANISH_BODIES)
@pytest.mark.parametrize("first", [True, False])
def test_every_spanish_reply_is_plain_gsm7_and_at_most_three_segments(body, first):
    consent = Consent.OPTED_OUT if body == "COMENZAR" else Consent.SUBSCRIBED
    for reply in run(body, texter(ES, first=first, consent=consent)).replies:
        assert not set("áéíóúÁÉÍÓÚ") & set(reply)
        info = gsm.segment_info(reply)
        assert info.encoding == "GSM-7" and info.segments <= 3, (reply, info)


def test_with_plain_spanish_off_accents_stay_and_texts_are_counted_as_ucs2():
    """á, í, ó, ú make a text UCS-2 (67 characters a segment): the shipped texts are then too long."""
    program = DOCS["program.yaml"].replace("plain_spanish: true", "plain_spanish: false")
    with pytest.raises(FlowError) as refused:
        load_documents({**DOCS, "program.yaml": program})
    assert "signs.yaml:12: signs step signs: 7 segments (es) (at most 3, with the first-contact disclosure)" \
        in refused.value.problems
    assert not any("non-GSM" in p for p in refused.value.problems)  # the four vowels are allowed, as UCS-2
    short = {**DOCS, "program.yaml": program, "signs.yaml": SHORT_SIGNS}
    with pytest.raises(FlowError) as still:
        load_documents(short)
    assert not any("signs.yaml" in p for p in still.value.problems)


def test_other_characters_outside_gsm7_are_still_refused_in_spanish():
    curly = DOCS["signs.yaml"].replace("¿Es sobre usted", "\u201cEs sobre usted")
    with pytest.raises(FlowError) as refused:
        load_documents({**DOCS, "signs.yaml": curly})
    assert any("non-GSM characters (es) '\u201c'" in p for p in refused.value.problems)


# -- property: a Spanish opt-out request only ever gets the opt-out confirmation ---------------------------

OPT_OUT_PHRASES = ["PARAR", "ALTO", "CANCELAR", "BAJA", "DETENER", "no me manden más mensajes",
                   "no me manden mas mensajes", "No me envíen más mensajes", "no me escriban más",
                   "ya no quiero mensajes", "no quiero recibir más mensajes", "No quiero más mensajes",
                   "déjenme en paz", "Déjeme en paz", "dejame en paz", "dejen de escribirme",
                   "dejen de mandarme mensajes", "quítenme de la lista", "sáquenme de su lista",
                   "borren mi número", "quiero darme de baja", "no más mensajes", "basta", "paren ya",
                   "cancelar mi suscripción"]
DECORATIONS = st.sampled_from(["", "!", "!!!", ".", " 🙏", " por favor", " ya", ",", " 😡"])
PREFIXES = st.sampled_from(["", "Por favor ", "ya ", "POR FAVOR, ", "porfa "])


def _case(text: str, how: int) -> str:
    return [text, text.upper(), text.lower(), text.title(), text.swapcase()][how]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(phrase=st.sampled_from(OPT_OUT_PHRASES), prefix=PREFIXES, suffix=DECORATIONS, how=st.integers(0, 4),
       language=st.sampled_from(["", EN, ES]), first=st.booleans(), asked=st.booleans(),
       consent=st.sampled_from(list(Consent)), replies=st.integers(0, 9))
def test_no_spanish_opt_out_request_is_answered_with_anything_but_the_opt_out(phrase, prefix, suffix, how,
                                                                              language, first, asked, consent,
                                                                              replies):
    body = _case(prefix + phrase + suffix, how)
    conversation = Conversation("consulta", "ask", NOW.timestamp() - 60) if asked else None
    who = Texter(consent, first, replies, language=language, conversation=conversation)
    d = run(body, who)
    assert d.intent is Intent.OPT_OUT and d.consent is Consent.OPTED_OUT, body
    assert d.replies == (msg("stop", ES),), body
    assert d.conversation is None and d.schedule == ()


# -- the loader, per language ---------------------------------------------------------------------------------

def _edit_program(change) -> dict[str, str]:
    import yaml
    doc = yaml.safe_load(DOCS["program.yaml"])
    change(doc)
    return {**DOCS, "program.yaml": yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)}


@pytest.mark.parametrize("name", ["disclosure", "menu", "help", "stop", "start", "crisis"])
def test_a_program_with_spanish_needs_every_compliance_message_in_spanish(name):
    with pytest.raises(FlowError) as refused:
        load_documents(_edit_program(lambda d: d["messages"][name].pop("es")))
    assert [p.message for p in refused.value.problems] == [
        "needs its Spanish text (es): the program texts in en, es"]


@pytest.mark.parametrize("name,part,expected", [
    ("help", "Pueden aplicarse tarifas de mensajes y datos", "Pueden aplicarse tarifas de mensajes y datos"),
    ("help", "PARAR", "PARAR"), ("help", "{phone}", "{phone}"),
    ("disclosure", "AYUDA: ayuda.", "AYUDA"), ("start", "PARAR", "PARAR"),
    ("crisis", "marque 2", "marque 2"), ("crisis", "AYUDA", "AYUDA"),
])
def test_spanish_compliance_messages_must_say_what_the_rules_require(name, part, expected):
    def change(doc):
        doc["messages"][name]["es"] = " ".join(doc["messages"][name]["es"].split()).replace(part, "xx")
    with pytest.raises(FlowError) as refused:
        load_documents(_edit_program(change))
    assert f"message (es) must include {expected}" in [p.message for p in refused.value.problems]


def test_the_spanish_stop_must_say_how_to_come_back_in_either_word():
    def change(doc, keep):
        doc["messages"]["stop"]["es"] = f"Ya no recibira mensajes de {{program}}. Responda {keep} para volver."
    for keep in ("COMENZAR", "START"):
        load_documents(_edit_program(lambda d: change(d, keep)))
    with pytest.raises(FlowError) as refused:
        load_documents(_edit_program(lambda d: change(d, "HOLA")))
    assert "message (es) must include COMENZAR or START" in [p.message for p in refused.value.problems]


def test_a_spanish_follow_up_must_say_how_to_stop():
    import yaml
    doc = yaml.safe_load(DOCS["treatment.yaml"])
    doc["followups"][0]["text"]["es"] = "Seguimos aqui para usted."
    with pytest.raises(FlowError) as refused:
        load_documents({**DOCS, "treatment.yaml": yaml.safe_dump(doc, allow_unicode=True)})
    assert [p.message for p in refused.value.problems] == ["must say how to stop (PARAR or STOP)"]


def test_language_words_are_not_flow_keywords():
    with pytest.raises(FlowError) as refused:
        load_documents({**DOCS, "extra.yaml": "flow: extra\nkeyword: {en: EXTRA, es: ESPAÑOL}\nreply: Hi.\n"})
    assert "'ESPANOL' asks for a language and can't be a flow keyword" in [p.message for p in refused.value.problems]


def test_spanish_compliance_words_are_reserved():
    with pytest.raises(FlowError) as refused:
        load_documents({**DOCS, "extra.yaml": "flow: extra\nkeyword: {en: EXTRA, es: AYUDA}\nreply: Hi.\n"})
    assert "'AYUDA' is a reserved compliance keyword" in [p.message for p in refused.value.problems]


def test_missing_spanish_texts_are_listed_with_lines_and_a_keyword_may_be_one_word_for_all():
    flows = load_documents({**DOCS, "extra.yaml": "flow: extra\nkeyword: EXTRA\nstart: a\nsteps:\n  a:\n    text: Hi.\nsummary: extra\n"})
    assert [str(w) for w in flows.warnings] == [
        "extra.yaml:6: extra step a: no Spanish text (es): every language the program offers needs one",
        "extra.yaml:7: extra summary: no Spanish summary (es): every language the program offers needs one"]


def test_a_word_in_both_languages_sets_no_language():
    flows = load_documents({**DOCS, "extra.yaml": "flow: extra\nkeyword: {en: NALOXONE, es: NALOXONA}\nsummary: naloxone\n"
                                              "aliases: {en: [NARCAN], es: [NARCAN]}\nreply: {en: Hi., es: Hola.}\n"})
    assert flows.trigger_language["NALOXONA"] == "es" and "NARCAN" not in flows.trigger_language
    assert decide(flows, POLICY, texter(ES), "NARCAN", NOW).replies == ("Hola.",)  # their language, kept


# -- found in review: words both languages share, everyday Spanish, other people's words ----------------------

@pytest.mark.parametrize("body", ["feeling suicidal no one cares", "suicidal no hope left", "no hope, suicidal"])
def test_english_crisis_texts_stay_english(body):
    d = run(body, texter(EN))
    assert d.crisis and d.replies[0] == msg("crisis_self_harm", EN) and d.language == ""


@pytest.mark.parametrize("body,answer", [
    *((body, "crisis_self_harm") for body in ("me voy a suicidar", "pienso en el suicidio a veces", "me quiero matar",
                                              "me voy a matar", "me quiero quitar la vida", "quiero acabar con mi vida")),
    *((body, "crisis") for body in ("no lo podemos despertar", "no reacciona", "se está muriendo",
                                    "tomó demasiadas pastillas"))])
def test_more_spanish_crisis_phrases(body, answer):
    d = run(body, texter(EN))
    assert d.crisis and d.alert is Alert.CRISIS and d.replies[0] == msg(answer, ES)


@pytest.mark.parametrize("body", ["Baja de peso es normal?", "Alto consumo de alcohol también?",
                                  "Parar de consumir, como?", "Cancelar la cita de mañana",
                                  "mi hijo nunca deja de escribirme", "mi esposo siempre me dice deja de molestarme",
                                  "Mi hija me dijo: no me escribas más"])
def test_everyday_spanish_and_other_peoples_words_are_not_opt_outs(body):
    d = run(body, texter(ES))
    assert d.intent is not Intent.OPT_OUT and d.consent is Consent.SUBSCRIBED, body


@pytest.mark.parametrize("body", ["para ya", "no más", "Baja", "ALTO", "cancelar por favor"])
def test_short_spanish_pleas_are_opt_outs(body):
    assert run(body, texter(ES)).intent is Intent.OPT_OUT


def test_a_language_named_in_a_question_is_not_a_language_command():
    d = run("Spanish speaking counselors?", texter(EN))
    assert d.intent is not Intent.LANGUAGE and d.language == ""


# -- found by texting the service as frightened people would ------------------------------------------------

@pytest.mark.parametrize("body", ["mi hijo tuvo un OD", "creo que mi esposo hizo overdose",
                                  "mi hija esta unresponsive", "por favor mi novio overdosed"])
def test_english_crisis_words_in_a_spanish_sentence_are_answered_in_spanish(body):
    assert run(body, texter(EN)).replies[0] == msg("crisis", ES)


@pytest.mark.parametrize("body", ["auxilio", "AUXILIO!!", "socorro", "socorro mi hijo", "ayudame", "AYÚDAME",
                                  "ayudame por favor", "ayudenme porfa"])
def test_a_cry_for_help_in_spanish_gets_the_crisis_answer(body):
    d = run(body, texter(EN))
    assert d.crisis and d.replies[0] == msg("crisis", ES)


@pytest.mark.parametrize("body", ["ayudame a encontrar tratamiento", "AYUDA"])
def test_a_request_for_help_with_something_or_the_help_word_is_not_a_crisis(body):
    assert not run(body, texter(ES)).crisis


@pytest.mark.parametrize("body", ["should i call 911", "911", "will i get arrested if i call 911",
                                  "whats the number for the crisis line", "help me please", "HELP ME"])
def test_asking_about_911_or_the_crisis_line_or_a_plea_gets_the_crisis_answer(body):
    d = run(body, texter(EN))
    assert d.crisis and d.replies[0] == msg("crisis", EN)


@pytest.mark.parametrize("body", ["HELP", "help me find treatment", "our zip is 98801", "it cost $911.50"])
def test_help_alone_or_other_numbers_are_not_a_crisis(body):
    assert not run(body, texter(EN)).crisis


@pytest.mark.parametrize("body", ["no respira 911", "sobredosis 911", "no despierta, llamé al 911"])
def test_an_emergency_number_never_decides_the_language(body):
    assert run(body, texter(EN)).replies[0] == msg("crisis", ES)


@pytest.mark.parametrize("body", ["mama overdosed", "papa took too many pills", "OD at la quinta"])
def test_an_english_crisis_text_with_a_spanish_looking_word_stays_english(body):
    d = run(body, texter(EN))
    assert d.replies[0] == msg("crisis", EN) and d.language in ("", EN)


@pytest.mark.parametrize("body", ["¡Ayúdame!", "Ayudame!!", "Ayúdenme!!", "ayudame porfavor!"])
def test_a_spanish_plea_with_its_punctuation(body):
    d = run(body, texter(EN))
    assert d.crisis and d.replies[0] == msg("crisis", ES)


@pytest.mark.parametrize("body", ["my number is 988-555-0134, call me about treatment", "(988) 555-0134",
                                  "call me at 859 988 4412", "1-988-555-0199", "my address is 911 Oak Street",
                                  "room 911 at the clinic", "I drive a Porsche 911", "#911", "the rent is 911 dollars",
                                  "me llamo Maria del Socorro", "vivo en Socorro, NM", "Nuestra Señora del Perpetuo Socorro"])
def test_numbers_and_names_that_only_look_like_a_cry_for_help(body):
    from understanding.phrases import crisis_languages, seeks_emergency_help
    assert not seeks_emergency_help(body) and not crisis_languages(body), body


@pytest.mark.parametrize("body", ["cancel, I already called 911", "END - we called 911", "QUIT 988 already helped"])
def test_an_opt_out_word_with_an_emergency_number_still_opts_out(body):
    assert run(body, texter(EN)).consent is Consent.OPTED_OUT
