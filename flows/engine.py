"""The conversation engine: given a message and what we know of the texter (their conversation state
included), decide everything, the next state too. Pure: no I/O, no clock but the `now` it is given.

Rules that always win, in this order: STOP/START/HELP and their variants (STOP ends the conversation,
HELP leaves it waiting where it was); crisis words (911/988 at once, the conversation ends); an answer
to the waiting question; a flow keyword (starts that flow, ending the one waiting); a language asked for
by name (ESPANOL, ENGLISH: confirmed, the question keeps waiting); an unmatched reply to a waiting
question (its `otherwise`, twice in a row ends it with the menu); the menu.

Every text goes out in the person's language: the one their keyword, answer, compliance word or crisis
words were in (SENALES, PARAR, "no respira": Spanish), or the one they asked for, else the one they had,
else the program's default.
"""
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from flows.alerts import Alert
from flows.checks import unprompted
from flows.crisis import crisis_languages, looks_spanish
from flows.hours import WeeklyHours, callback_eta
from flows.matching import Intent, Match, match, match_answer, matched_words
from flows.model import Flow, FlowSet, Step

MAX_CHAIN = 3
MAX_MISSES = 2


class Consent(str, Enum):
    SUBSCRIBED = "subscribed"
    OPTED_OUT = "opted_out"


class Silence(str, Enum):
    OPTED_OUT = "opted_out"
    FLOOD = "flood"
    HELD = "held"  # a staff member took the conversation over: they answer


class Event(str, Enum):
    """What flow results count (per flow version, per step): counts only, never who."""
    REACHED = "reached"
    ANSWER = "answer"
    TIMEOUT = "timeout"
    OTHERWISE = "otherwise"


@dataclass(frozen=True)
class Policy:
    """Center settings the engine needs; the service builds it from config."""
    business_hours: WeeklyHours
    callback_within_minutes: int = 30
    replies_per_hour: int = 10
    crisis_replies_per_hour: int = 3
    conversation_hours: int = 72


@dataclass(frozen=True)
class Conversation:
    """A question waiting for its answer."""
    flow: str
    step: str
    since: float  # when it was asked (epoch seconds)
    misses: int = 0  # unmatched replies in a row


@dataclass(frozen=True)
class Texter:
    """What the store knows about the sender when the message arrives."""
    consent: Consent = Consent.SUBSCRIBED
    first_contact: bool = True
    replies_last_hour: int = 0
    crisis_replies_last_hour: int = 0
    callback_open: bool = False  # already waiting for a call back: a second CALL keeps their place
    conversation: Conversation | None = None
    language: str = ""  # "": the program's default
    held: bool = False  # a staff member took the conversation over from the bot


@dataclass(frozen=True)
class ScheduledFollowUp:
    flow: str
    step: int | str  # int: one of the flow's timed follow-ups; str: a step sent later (next, timeout)
    after: timedelta
    timeout: bool = False  # a question's timeout: at most one per person, dropped when they answer


@dataclass(frozen=True)
class StepEvent:
    kind: Event
    flow: str
    step: str
    answer: int | None = None


@dataclass(frozen=True)
class Decision:
    intent: Intent
    replies: tuple[str, ...] = ()
    flow: str | None = None
    keyword: str = ""
    consent: Consent = Consent.SUBSCRIBED
    consent_changed: bool = False
    callback: bool = False  # queue a new call back request
    crisis: bool = False
    crisis_replied: bool = False
    cancel_followups: bool = False
    schedule: tuple[ScheduledFollowUp, ...] = field(default_factory=tuple)
    silence: Silence | None = None
    alert: Alert | None = None  # text the on-call staff
    sources: tuple[str, ...] = ()  # where each reply came from: "flow/step", or a program message's name
    conversation: Conversation | None = None  # the state after this message...
    conversation_changed: bool = False  # ...to be written (else the stored one stays as it is)
    cancel_timeout: bool = False  # they left a question: its timeout is not to fire
    vars: dict = field(default_factory=dict)  # what steps `set` about the person
    events: tuple[StepEvent, ...] = ()
    language: str = ""  # the person's language from now on, when it changed ("": as it was)


@dataclass
class _Walk:
    """Entering a step and the ones chained after it without a wait."""
    texts: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    conversation: Conversation | None = None
    schedule: list = field(default_factory=list)
    callback: bool = False
    vars: dict = field(default_factory=dict)
    events: list = field(default_factory=list)


def decide(flows: FlowSet, policy: Policy, texter: Texter, body: str, now: datetime) -> Decision:
    """`now` is the center's local time; used for the callback promise and the conversation's clock."""
    crisis = crisis_languages(body)
    waiting = active(flows, policy, texter.conversation, now)
    m = match(body, flows.triggers, crisis=bool(crisis))
    if m.intent is Intent.LANGUAGE and m.language not in flows.program.languages:
        m = Match(Intent.UNKNOWN, m.word)
    if texter.held and not crisis and m.intent not in (Intent.OPT_OUT, Intent.OPT_IN, Intent.HELP):
        return Decision(m.intent, flow=m.flow, keyword=m.word, consent=texter.consent, silence=Silence.HELD,
                        conversation=texter.conversation)  # staff answer; nothing moves
    answer = _answer(flows, waiting, body) if waiting else None
    had = texter.language or flows.program.default_language
    speaks = _speaks(flows, m, body, crisis, waiting, answer) or had
    decision = _finish(texter, _decide(flows, policy, replace(texter, language=speaks), body, m, bool(crisis),
                                       waiting, answer, now))
    return replace(decision, language=speaks) if speaks != had else decision


def _speaks(flows: FlowSet, m: Match, body: str, crisis: frozenset[str], waiting: Conversation | None,
            answer: int | None) -> str | None:
    """The language this message was in, when it says (and the program has it), by the rule that decides
    the answer: a compliance or language word, crisis words, an answer, a keyword."""
    if m.intent in (Intent.OPT_OUT, Intent.OPT_IN, Intent.HELP, Intent.LANGUAGE) and m.language:
        found = m.language
    elif crisis:  # Spanish crisis words: Spanish; English ones, or a tie the words don't settle: as it was
        found = "es" if "es" in crisis and ("en" not in crisis or looks_spanish(body)) else None
    elif answer is not None:
        found = _answer_language(flows, waiting, answer, body)
    else:
        found = flows.trigger_language.get(m.word) if m.intent is Intent.FLOW else None
    return found if found in flows.program.languages else None


def _answer_language(flows: FlowSet, waiting: Conversation, answer: int, body: str) -> str | None:
    """The answer's language when the words the reply matched belong to one language only ("YO": es)."""
    match = flows.flows[waiting.flow].steps[waiting.step].answers[answer].match
    found = [language for language, options in match.items() if matched_words(body, options)]
    return found[0] if len(found) == 1 else None


def _decide(flows: FlowSet, policy: Policy, texter: Texter, body: str, m: Match, crisis: bool,
            waiting: Conversation | None, answer: int | None, now: datetime) -> Decision:
    crisis_reply = _crisis_reply(flows, policy, texter, crisis)
    if m.intent is Intent.OPT_OUT:
        return _ended(_opt_out(flows, policy, texter, m.word, crisis, crisis_reply), texter)
    if m.intent in (Intent.OPT_IN, Intent.HELP):
        name = "start" if m.intent is Intent.OPT_IN else "help"
        return _limited(policy, texter, Decision(
            m.intent, crisis_reply + (flows.message(name, texter.language),), keyword=m.word,
            consent=Consent.SUBSCRIBED if m.intent is Intent.OPT_IN else texter.consent,
            consent_changed=m.intent is Intent.OPT_IN and texter.consent is Consent.OPTED_OUT, crisis=crisis,
            crisis_replied=bool(crisis_reply), sources=("crisis",) * len(crisis_reply) + (name,)))
    if texter.consent is Consent.OPTED_OUT:  # no texts; but a phone call they ask for is not a text
        callback = m.intent is Intent.FLOW and flows.flows[m.flow].action == "callback"
        return Decision(m.intent, crisis_reply, m.flow, m.word, Consent.OPTED_OUT, callback=callback, crisis=crisis,
                        crisis_replied=bool(crisis_reply), silence=None if crisis_reply else Silence.OPTED_OUT,
                        sources=("crisis",) * len(crisis_reply))
    if crisis:
        return _ended(_crisis(flows, texter, m, crisis_reply), texter)
    if answer is not None:
        return _limited(policy, texter, _answered(flows, policy, texter, waiting, answer, now))
    if m.intent is Intent.FLOW:
        return _limited(policy, texter, _start(flows, policy, texter, m.flow, m.word, now))
    if m.intent is Intent.LANGUAGE:  # confirmed in the new language; a waiting question keeps waiting
        return _limited(policy, texter, Decision(Intent.LANGUAGE, (_first(flows, texter, flows.message(
            "language", texter.language)),), keyword=m.word, sources=("language",)))
    if waiting:
        return _limited(policy, texter, _unmatched(flows, policy, texter, waiting, now))
    return _limited(policy, texter, Decision(m.intent, (_first(flows, texter, flows.message("menu", texter.language)),),
                                             sources=("menu",)))


def active(flows: FlowSet, policy: Policy, conversation: Conversation | None, now: datetime) -> Conversation | None:
    """The waiting question, unless it expired or its flow or step no longer exists."""
    if conversation is None or now.timestamp() - conversation.since > policy.conversation_hours * 3600:
        return None
    flow = flows.flows.get(conversation.flow)
    step = flow.steps.get(conversation.step) if flow else None
    return conversation if step is not None and step.asks else None


def send_step(flows: FlowSet, policy: Policy, texter: Texter, flow_name: str, ref: int | str,
              now: datetime) -> Decision | None:
    """A step (or a timed follow-up) whose time has come, for the worker to send; None when its flow or
    step no longer exists. Consent, send hours and caps are the worker's to check."""
    flow = flows.flows.get(flow_name)
    if flow is None:
        return None
    if isinstance(ref, int):
        if ref >= len(flow.followups):
            return None
        text = flows.render(flows.text(flow.followups[ref].text, texter.language), language=texter.language)
        return Decision(Intent.FLOW, (text,), flow.name, sources=(f"{flow.name}/followup-{ref + 1}",))
    if ref not in flow.steps:
        return None
    waiting = active(flows, policy, texter.conversation, now)
    timed_out = waiting is not None and waiting.flow == flow.name and \
        flow.steps[waiting.step].timeout is not None and flow.steps[waiting.step].timeout.go == ref
    walk = _walk(flows, policy, texter, flow, ref, now)
    texts = (unprompted(walk.texts[0], texter.language or flows.program.default_language), *walk.texts[1:])
    events = ((StepEvent(Event.TIMEOUT, flow.name, waiting.step),) if timed_out else ()) + tuple(walk.events)
    conversation = walk.conversation or (replace(waiting, since=now.timestamp()) if timed_out else None)
    return Decision(Intent.FLOW, texts, flow.name, callback=walk.callback, schedule=tuple(walk.schedule),
                    sources=tuple(walk.sources), conversation=conversation,
                    conversation_changed=walk.conversation is not None or timed_out, vars=walk.vars, events=events)


def _walk(flows: FlowSet, policy: Policy, texter: Texter, flow: Flow, name: str, now: datetime) -> _Walk:
    walk = _Walk()
    for _ in range(MAX_CHAIN):
        step = flow.steps[name]
        walk.texts.append(_render(flows, policy, texter, step, now))
        walk.sources.append(f"{flow.name}/{step.name}")
        walk.events.append(StepEvent(Event.REACHED, flow.name, step.name))
        walk.vars.update(step.set)
        walk.callback |= step.action == "callback"
        if step.asks:
            walk.conversation = Conversation(flow.name, step.name, now.timestamp())
            if step.timeout:
                walk.schedule.append(ScheduledFollowUp(flow.name, step.timeout.go, step.timeout.after, timeout=True))
            break
        if step.next is None:
            break
        if step.next.after:
            walk.schedule.append(ScheduledFollowUp(flow.name, step.next.go, step.next.after))
            break
        name = step.next.go
    return walk


def _render(flows: FlowSet, policy: Policy, texter: Texter, step: Step, now: datetime) -> str:
    language = texter.language or flows.program.default_language
    eta = callback_eta(now, policy.business_hours, policy.callback_within_minutes, language) \
        if step.action == "callback" else ""
    return flows.render(flows.text(step.text, texter.language), callback_eta=eta, language=texter.language)


def _start(flows: FlowSet, policy: Policy, texter: Texter, name: str, word: str, now: datetime) -> Decision:
    flow = flows.flows[name]
    walk = _walk(flows, policy, texter, flow, flow.start, now)
    texts = [_first(flows, texter, walk.texts[0]), *walk.texts[1:]]
    followups = [ScheduledFollowUp(name, i, f.after) for i, f in enumerate(flow.followups)]
    return Decision(Intent.FLOW, tuple(texts), name, word, callback=walk.callback, cancel_followups=True,
                    schedule=tuple(followups + walk.schedule), sources=tuple(walk.sources),
                    conversation=walk.conversation, conversation_changed=True, vars=walk.vars,
                    events=tuple(walk.events))


def _answer(flows: FlowSet, waiting: Conversation, body: str) -> int | None:
    step = flows.flows[waiting.flow].steps[waiting.step]
    return match_answer(body, [tuple(w for words in a.match.values() for w in words) for a in step.answers])


def _answered(flows: FlowSet, policy: Policy, texter: Texter, waiting: Conversation, answer: int,
              now: datetime) -> Decision:
    flow = flows.flows[waiting.flow]
    step = flow.steps[waiting.step]
    walk = _walk(flows, policy, texter, flow, step.answers[answer].go, now)
    return Decision(Intent.FLOW, tuple(walk.texts), flow.name, callback=walk.callback, schedule=tuple(walk.schedule),
                    sources=tuple(walk.sources), conversation=walk.conversation, conversation_changed=True,
                    cancel_timeout=step.timeout is not None, vars=walk.vars,
                    events=(StepEvent(Event.ANSWER, flow.name, step.name, answer), *walk.events))


def _unmatched(flows: FlowSet, policy: Policy, texter: Texter, waiting: Conversation, now: datetime) -> Decision:
    """A reply the question did not expect: its `otherwise` (by default, the question again); the second in a
    row ends the conversation with the menu."""
    flow = flows.flows[waiting.flow]
    step = flow.steps[waiting.step]
    event = StepEvent(Event.OTHERWISE, flow.name, step.name)
    if waiting.misses + 1 >= MAX_MISSES:
        return Decision(Intent.UNKNOWN, (flows.message("menu", texter.language),), sources=("menu",),
                        conversation_changed=True, cancel_timeout=step.timeout is not None, events=(event,))
    walk = _walk(flows, policy, texter, flow, step.otherwise or step.name, now)
    conversation = replace(walk.conversation, misses=waiting.misses + 1) if walk.conversation else None
    return Decision(Intent.FLOW, tuple(walk.texts), flow.name, callback=walk.callback, schedule=tuple(walk.schedule),
                    sources=tuple(walk.sources), conversation=conversation, conversation_changed=True,
                    cancel_timeout=step.timeout is not None, vars=walk.vars, events=(event, *walk.events))


def _crisis(flows: FlowSet, texter: Texter, m, crisis_reply: tuple[str, ...]) -> Decision:
    """911/988 first; a call back asked for still gets queued, but no gentle follow-ups after a crisis."""
    callback = m.intent is Intent.FLOW and flows.flows[m.flow].action == "callback"
    keyword = m.word if m.intent is not Intent.UNKNOWN else ""  # never a word of the person's own text
    return Decision(m.intent, crisis_reply, m.flow, keyword, callback=callback, crisis=True,
                    crisis_replied=bool(crisis_reply), silence=None if crisis_reply else Silence.FLOOD,
                    sources=("crisis",) * len(crisis_reply))


def _ended(decision: Decision, texter: Texter) -> Decision:
    """STOP and crisis end a waiting conversation."""
    return replace(decision, conversation=None, conversation_changed=texter.conversation is not None)


def _finish(texter: Texter, decision: Decision) -> Decision:
    """Rules that hold whatever the message asked for: a crisis cancels every gentle follow-up, and none
    is planned within the hour after one (a keyword sent with, or just after, a crisis message starts no
    follow-ups; a question it asks still waits for its answer); staff hear of a crisis we answered and of a new call back request (not of a repeated CALL)."""
    if decision.crisis:
        decision = replace(decision, cancel_followups=True, schedule=())
    elif texter.crisis_replies_last_hour and decision.schedule:
        decision = replace(decision, schedule=tuple(s for s in decision.schedule if s.timeout))
    callback = decision.callback and not texter.callback_open
    alerted = decision.crisis_replied or callback
    alert = (Alert.CRISIS if decision.crisis else Alert.CALLBACK) if alerted else None
    return replace(decision, callback=callback, alert=alert)


def _opt_out(flows, policy, texter, word, crisis, crisis_reply) -> Decision:
    changed = texter.consent is not Consent.OPTED_OUT
    decision = Decision(Intent.OPT_OUT, crisis_reply + (flows.message("stop", texter.language),), keyword=word,
                        consent=Consent.OPTED_OUT, consent_changed=changed, crisis=crisis,
                        crisis_replied=bool(crisis_reply), cancel_followups=True,
                        sources=("crisis",) * len(crisis_reply) + ("stop",))
    return decision if changed else _limited(policy, texter, decision)  # the first confirmation always goes


def _crisis_reply(flows, policy, texter, crisis) -> tuple[str, ...]:
    if crisis and texter.crisis_replies_last_hour < policy.crisis_replies_per_hour:
        return (_first(flows, texter, flows.message("crisis", texter.language)),)
    return ()


def _first(flows: FlowSet, texter: Texter, text: str) -> str:
    return text + "\n\n" + flows.message("disclosure", texter.language) if texter.first_contact else text


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
                     alert=Alert.CRISIS if decision.crisis else decision.alert,
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
