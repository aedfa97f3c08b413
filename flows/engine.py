"""The conversation engine: given a message and what we know of the texter (their conversation state
included), decide everything, the next state too. Pure: no I/O, no clock but the `now` it is given.

Rules that always win, in this order: STOP and its variants (STOP ends the conversation); an open
crisis (flows.crisis_talk: short, calm answers until staff resolve it); START for someone who opted
out, and HELP (HELP leaves a conversation waiting where it was); crisis words or the crisis model (911/988
at once, the conversation ends); an answer to the waiting question (YES and SI too, when it offers
them); a flow keyword, or a request to be called (starts that flow, ending the one waiting); a language
asked for by name; an unmatched reply to a waiting question (a short prompt naming the choices, once);
thanks (a short answer); the menu.

Every text goes out in the person's language: the one their compliance word, crisis text, answer or
keyword was in (SENALES, PARAR, "no respira": Spanish), or the one their free text is written in
(understanding.language), else the one they had, else the program's default.
"""
from dataclasses import replace
from datetime import datetime

from flows import crisis_talk
from flows.alerts import Alert
from flows.decision import (Consent, Conversation, Decision, Event, Policy, ScheduledFollowUp, Silence,
                            StepEvent, Texter)
from flows.matching import Intent, Match, about_an_appointment, asks_for_a_call, match, matched_words, words
from flows.model import FlowSet
from flows.reading import CrisisReading, Reader, default_reader
from flows.steps import active, answer_of, answer_says_more, answered, send_step, start, unmatched, with_disclosure

__all__ = ["Consent", "Conversation", "Decision", "Event", "Policy", "ScheduledFollowUp", "Silence", "StepEvent",
           "Texter", "active", "decide", "replayed", "send_step"]
COMPLIANCE = (Intent.OPT_OUT, Intent.OPT_IN, Intent.HELP)
SHORT_ANSWER = 6  # words: a reply this short that only answers the waiting question is read by the phrases only


def decide(flows: FlowSet, policy: Policy, texter: Texter, body: str, now: datetime,
           reader: Reader | None = None) -> Decision:
    """`now` is the center's local time; used for the callback promise and the conversation's clock.
    `reader` reads crisis and language (the shipped model unless given)."""
    reader = reader or default_reader()
    waiting = active(flows, policy, texter.conversation, now)
    crisis = _crisis(flows, reader, body, waiting)
    m = _intent(flows, texter, body, crisis, waiting)
    if texter.held and not crisis and m.intent not in COMPLIANCE:
        return Decision(m.intent, flow=m.flow, keyword=m.word, consent=texter.consent, silence=Silence.HELD,
                        conversation=texter.conversation, crisis=texter.crisis_open)  # staff answer; nothing moves
    answer = answer_of(flows, waiting, body) if waiting else None
    had = texter.language or flows.program.default_language
    speaks = _speaks(flows, reader, m, body, crisis, waiting, answer) or had
    decision = _finish(texter, _decide(flows, policy, replace(texter, language=speaks), body, m, crisis,
                                       waiting, answer, now))
    decision = _disclosure(flows, texter, decision, speaks)
    if decision.opens_crisis:
        decision = replace(decision, crisis_why="words" if crisis.by_rule or crisis.seeking else "model" if crisis else "")
    if decision.crisis and decision.silence is not Silence.ECHO:  # what it says of it, kept while it is open
        decision = replace(decision, crisis_kind=crisis_talk.kind(flows, body))
    return replace(decision, language=speaks) if speaks != had else decision


def _crisis(flows: FlowSet, reader: Reader, body: str, waiting: Conversation | None) -> CrisisReading:
    """The crisis phrases read every text; the model reads free text, not a request to stop ("ya DETENER",
    "please stop texting me") nor a short reply that only answers the question we asked ("Mi hija tiene 19";
    "son is slumped and wont answer" answers it and says more: the model reads it)."""
    phrases = reader.crisis(body, model=False, languages=flows.languages)
    if match(body, flows.triggers, crisis=phrases.told, languages=flows.languages).intent is Intent.OPT_OUT:
        return phrases
    if waiting is not None and len(words(body)) <= SHORT_ANSWER and answer_of(flows, waiting, body) is not None \
            and not answer_says_more(flows, waiting, body):
        return phrases
    return reader.crisis(body, languages=flows.languages)


def _intent(flows: FlowSet, texter: Texter, body: str, crisis: CrisisReading, waiting: Conversation | None) -> Match:
    """What the text asks for, read as a person means it: HELP followed by an emergency is the emergency;
    YES answers a question that offers it, and re-subscribes only someone who opted out; "please someone
    call me" is a call back."""
    m = match(body, flows.triggers, crisis=crisis.told, languages=flows.languages)
    if m.intent is Intent.LANGUAGE and m.language not in flows.program.languages:
        return Match(Intent.UNKNOWN, m.word)
    if m.intent is Intent.HELP and crisis and len(words(body)) > 1:
        return Match(Intent.UNKNOWN)
    if m.intent is Intent.OPT_IN and (texter.consent is Consent.SUBSCRIBED or (
            waiting and m.word in flows.languages.words("answerable") and answer_of(flows, waiting, body) is not None)):
        return Match(Intent.UNKNOWN, m.word)
    if m.intent is Intent.OPT_IN and texter.crisis_open and m.word in flows.languages.words("answerable"):
        return Match(Intent.UNKNOWN, m.word)  # "yes he is breathing now" answers us in a crisis; START re-subscribes
    if m.intent in (Intent.UNKNOWN, Intent.THANKS) and flows.callback_flow and asks_for_a_call(body, flows.languages):
        return Match(Intent.FLOW, "", flows.callback_flow)
    return m


def _speaks(flows: FlowSet, reader: Reader, m: Match, body: str, crisis: CrisisReading, waiting: Conversation | None,
            answer: int | None) -> str | None:
    """The language this message was in, when it says (and the program has it), by the rule that decides
    the answer: a compliance or language word, a crisis text, an answer, a keyword, or free text."""
    if m.intent in (*COMPLIANCE, Intent.LANGUAGE) and m.language:
        found = m.language
    elif crisis.by_rule:  # Spanish crisis phrases, or any in a sentence that is Spanish: Spanish; else as it was
        found = _crisis_words_language(reader, flows, crisis, body)
    elif crisis.seeking and not crisis.by_model:  # only an emergency number: the text's language, when it says
        found = reader.language(body, flows.program.languages, flows.languages)
    elif crisis:  # heard by the model: the language the text is written in, when it says
        found = reader.language(body, flows.program.languages, flows.languages)
    elif answer is not None:
        found = _answer_language(flows, waiting, answer, body)
    elif m.intent is Intent.FLOW and m.word:
        found = flows.trigger_language.get(m.word)
    elif m.intent is Intent.UNKNOWN and m.language:  # a Spanish compliance word read as speech ("AYUDA info")
        found = m.language
    elif m.intent in (Intent.UNKNOWN, Intent.THANKS, Intent.FLOW):
        found = reader.language(body, flows.program.languages, flows.languages)
    else:
        found = None
    return found if found in flows.program.languages else None


def _crisis_words_language(reader: Reader, flows: FlowSet, crisis: CrisisReading, body: str) -> str | None:
    """Crisis phrases of a language whose crisis words are its own ("no respira": Spanish), alone or with
    others' in a text whose words are that language's: that language. Crisis words other languages borrow
    (crisis.shared: "overdose", "OD") in a sentence both its words (two at least: not "mama overdosed") and
    its letters say is in a language with crisis words of its own ("mi hijo tuvo un OD"): that language;
    and so is a sentence (three of its words at least) in the language whose crisis words it uses.
    Otherwise as it was (None): "my son overdosed" from a Spanish speaker is answered in Spanish."""
    languages = flows.languages
    own = [code for code in sorted(crisis.by_rule) if code in languages and not languages[code].shared]
    if len(own) == 1 and (len(crisis.by_rule) == 1 or languages.looks(body, own[0])):
        return own[0]
    guess = reader.language(body, flows.program.languages, languages)
    if guess in languages and not languages[guess].shared and languages.looks(body, guess, at_least=2):
        return guess
    if guess in crisis.by_rule and languages.looks(body, guess, at_least=3):  # a whole sentence in the
        return guess  # language whose crisis words it uses: "my son is not breathing" after a Spanish "hola"
    return None


def _answer_language(flows: FlowSet, waiting: Conversation, answer: int, body: str) -> str | None:
    """The answer's language when the words the reply matched belong to one language only ("YO": es)."""
    match = flows.flows[waiting.flow].steps[waiting.step].answers[answer].match
    found = [language for language, options in match.items() if matched_words(body, options)]
    return found[0] if len(found) == 1 else None


def _decide(flows: FlowSet, policy: Policy, texter: Texter, body: str, m: Match, crisis: CrisisReading,
            waiting: Conversation | None, answer: int | None, now: datetime) -> Decision:
    crisis_names = crisis_talk.said(flows, policy, texter, body) if crisis else ()
    crisis_reply = tuple(crisis_talk.text(flows, policy, texter, n) for n in crisis_names)
    if m.intent is Intent.OPT_OUT:
        return _ended(_opt_out(flows, policy, texter, m.word, bool(crisis), crisis_reply, crisis_names), texter)
    if texter.crisis_open and m.intent is not Intent.OPT_IN:
        return _ended(crisis_talk.ongoing(flows, policy, replace(texter, conversation=None), body, m, bool(crisis),
                                          now, plea=bool(crisis.by_rule) or crisis.seeking), texter)
    if m.intent in (Intent.OPT_IN, Intent.HELP):
        return _compliance(flows, policy, texter, m, bool(crisis), crisis_reply, crisis_names)
    if texter.consent is Consent.OPTED_OUT:  # no texts; but a phone call they ask for is not a text
        callback = m.intent is Intent.FLOW and flows.flows[m.flow].action == "callback"
        return Decision(m.intent, crisis_reply, m.flow, m.word, Consent.OPTED_OUT, callback=callback,
                        crisis=bool(crisis), crisis_replied=bool(crisis_reply),
                        silence=None if crisis_reply else Silence.OPTED_OUT, sources=crisis_names)
    if crisis:
        return _ended(crisis_talk.opened(flows, policy, texter, m, body), texter)
    return _limited(policy, texter, _ordinary(flows, policy, texter, body, m, waiting, answer, now))


def _ordinary(flows: FlowSet, policy: Policy, texter: Texter, body: str, m: Match, waiting: Conversation | None,
              answer: int | None, now: datetime) -> Decision:
    if answer is not None:
        return answered(flows, policy, texter, waiting, answer, now)
    if m.intent is Intent.FLOW:
        return start(flows, policy, texter, m.flow, m.word or flows.keyword_of(m.flow), now)
    if m.intent is Intent.LANGUAGE:  # confirmed in the new language; a waiting question keeps waiting
        return Decision(Intent.LANGUAGE, (with_disclosure(flows, texter, flows.message("language", texter.language)),),
                        keyword=m.word, sources=("language",))
    if waiting:
        return unmatched(flows, policy, texter, waiting, now)
    if m.intent is Intent.UNKNOWN and about_an_appointment(body, flows.languages):  # staff keep the appointments: before them
        return Decision(Intent.UNKNOWN, (with_disclosure(flows, texter, flows.message("appointment", texter.language)),),
                        sources=("appointment",), inbox="appointment")
    if m.intent is Intent.THANKS:
        return Decision(Intent.THANKS, (with_disclosure(flows, texter, flows.message("thanks", texter.language)),),
                        sources=("thanks",))
    said = "menu" if _greeting(texter, body) else "unclear"
    return Decision(m.intent, (with_disclosure(flows, texter, flows.message(said, texter.language)),),
                    sources=(said,), understood=m.intent is Intent.EMPTY)


def _greeting(texter: Texter, body: str) -> bool:
    """A first short text ("hi", a picture): greeted, with the menu. Someone who texted before, a question
    or a longer text the line did not understand gets no greeting again, and the way to a person first."""
    return texter.first_contact and "?" not in body and len(words(body)) < UNCLEAR_WORDS


UNCLEAR_WORDS = 6  # a text this long says something: "unclear" offers a person, not only the menu


def _compliance(flows: FlowSet, policy: Policy, texter: Texter, m: Match, crisis: bool,
                crisis_reply: tuple[str, ...], crisis_names: tuple[str, ...]) -> Decision:
    """START (from someone who opted out) or HELP: the carrier-required answer, after a crisis answer."""
    name = "start" if m.intent is Intent.OPT_IN else "help"
    return _limited(policy, texter, Decision(
        m.intent, crisis_reply + (flows.message(name, texter.language),), keyword=m.word,
        consent=Consent.SUBSCRIBED if m.intent is Intent.OPT_IN else texter.consent,
        consent_changed=m.intent is Intent.OPT_IN and texter.consent is Consent.OPTED_OUT, crisis=crisis,
        crisis_replied=bool(crisis_reply), sources=crisis_names + (name,)))


def _ended(decision: Decision, texter: Texter) -> Decision:
    """STOP and crisis end a waiting conversation."""
    return replace(decision, conversation=None, conversation_changed=texter.conversation is not None)


def _finish(texter: Texter, decision: Decision) -> Decision:
    """Rules that hold whatever the message asked for: a crisis cancels every gentle follow-up, and none
    is planned within the hour after one (a keyword sent with, or just after, a crisis message starts no
    follow-ups; a question it asks still waits for its answer). On-call staff hear of a new crisis once
    (not of every text while it is open), and of a new call back request outside a crisis."""
    if decision.crisis:
        decision = replace(decision, cancel_followups=True, schedule=())
    elif texter.crisis_replies_last_hour and decision.schedule:
        decision = replace(decision, schedule=tuple(s for s in decision.schedule if s.timeout))
    callback = decision.callback and not texter.callback_open
    opens = decision.crisis and not texter.crisis_open
    alert = Alert.CRISIS if opens else Alert.CALLBACK if callback and not decision.crisis else None
    return replace(decision, callback=callback, opens_crisis=opens, alert=alert)


def _disclosure(flows: FlowSet, texter: Texter, decision: Decision, language: str) -> Decision:
    """A first answer that was a crisis answer carries no "Msg&data rates" line: the next ordinary one does."""
    if not (texter.first_contact or texter.owes_disclosure):
        return decision
    disclosure = flows.message("disclosure", language)
    carried = any(disclosure in r for r in decision.replies) or \
        any(s in ("help", "start", "stop") for s in decision.sources)
    owed = not carried
    return replace(decision, disclosure_owed=owed) if owed != texter.owes_disclosure else decision


def _opt_out(flows, policy, texter, word, crisis, crisis_reply, crisis_names) -> Decision:
    changed = texter.consent is not Consent.OPTED_OUT
    decision = Decision(Intent.OPT_OUT, crisis_reply + (flows.message("stop", texter.language),), keyword=word,
                        consent=Consent.OPTED_OUT, consent_changed=changed, crisis=crisis,
                        crisis_replied=bool(crisis_reply), cancel_followups=True,
                        sources=crisis_names + ("stop",))
    return decision if changed else _limited(policy, texter, decision)  # the first confirmation always goes


def _limited(policy: Policy, texter: Texter, decision: Decision) -> Decision:
    """Beyond the hourly reply budget only the crisis reply survives: no auto-responder ping-pong."""
    if texter.replies_last_hour < policy.replies_per_hour:
        return decision
    kept = 1 if decision.crisis_replied else 0
    # an unanswered message starts no follow-ups and moves no conversation; consent and call backs still count
    return replace(decision, replies=decision.replies[:kept], sources=decision.sources[:kept],
                   silence=None if kept else Silence.FLOOD, schedule=(), vars={}, events=(),
                   conversation=texter.conversation, conversation_changed=False, cancel_timeout=False,
                   cancel_followups=decision.cancel_followups and decision.intent is not Intent.FLOW)


def replayed(decision: Decision, texter: Texter, stale: bool) -> Decision:
    """A message the fallback URL answered during an outage, applied afterwards. Its replies went out
    then (from the fallback), so none go now, and no conversation moves on. A stale one (older than the
    person's latest message or consent change) is not news: a STOP still opts out and a crisis still
    reaches staff, but a START or a keyword neither re-subscribes, nor starts follow-ups, nor changes the
    person's language. Call backs asked for are still queued."""
    replay = replace(decision, replies=(), sources=(), crisis_replied=False, silence=None, events=(),
                     alert=Alert.CRISIS if decision.opens_crisis else decision.alert, disclosure_owed=None,
                     conversation=None if decision.conversation_changed and decision.conversation is None
                     else texter.conversation,
                     conversation_changed=decision.conversation_changed and decision.conversation is None,
                     schedule=tuple(s for s in decision.schedule if isinstance(s.step, int)))
    if not stale:
        return replay
    opted_out = decision.consent is Consent.OPTED_OUT and decision.consent_changed
    return replace(replay, schedule=(), consent=Consent.OPTED_OUT if opted_out else texter.consent,
                   consent_changed=opted_out, cancel_followups=opted_out or decision.crisis, cancel_timeout=False,
                   language="")
