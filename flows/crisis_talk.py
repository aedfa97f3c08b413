"""Talking with someone in a crisis. A new crisis gets the full answer (911, naloxone, 988) at once;
while it stays open (until staff resolve it) every text gets a short, calm answer that still says what
to do now, and that our team knows when on-call staff were told: news that help is there or things are
better is thanked (and what to do if it gets worse); a request to be called is a call back; a keyword
gets its answer (once, no follow-ups); never a menu or a keyword prompt, and never silence, except to an
echo (flows.echo): our own words back, or the same text a third time unless it reads as a crisis."""
from dataclasses import dataclass, replace
from datetime import datetime

from flows.decision import Consent, Decision, Policy, Silence, Texter
from flows.echo import is_echo, is_ours
from flows.matching import Intent, Match, words
from flows.model import FlowSet
from flows.steps import start
from understanding.phrases import is_update

FULL, SHORT, CALL, UPDATE = "crisis", "crisis_again", "crisis_call", "crisis_update"
AFRAID = "crisis_afraid"  # a fear of calling 911 (each language's crisis.afraid): the Good Samaritan laws


@dataclass(frozen=True)
class Kind:
    """The texts of one kind of crisis: the full answer, the short ones a person texting on gets in turn
    (a different useful thing each time, not the same words), and the thanks for news."""
    full: str
    shorts: tuple[str, ...]
    update: str


# Words of suicide or self-harm alone (each language's crisis.self_harm) are answered with 988 first; words
# of an overdose come first whatever else a text says. A crisis is of the kind its latest text that said
# one was (kept on the person's record while it is open), and its other texts are answered as that kind.
OVERDOSE = Kind(FULL, (SHORT, "crisis_stay"), UPDATE)
KINDS = {"": OVERDOSE, "overdose": OVERDOSE,
         "self_harm": Kind("crisis_self_harm", ("crisis_self_harm_again", "crisis_self_harm_more"),
                           "crisis_self_harm_update")}
# A frightened person sends the same plea again and again: a text with a crisis phrase or a plea for
# emergency help is answered each time, up to this many times the hour's crisis reply budget (repetition
# is a machine's sign, so the model's reading alone is not enough, and a machine can't loop for long)
REPEATED_PLEA_BUDGET = 2


def text(flows: FlowSet, policy: Policy, texter: Texter, name: str) -> str:
    """A crisis message in the person's language; it says our team knows only when someone was told."""
    flagged = flows.message("flagged", texter.language) if policy.on_call else ""
    return flows.message(name, texter.language, flagged=flagged)


def kind(flows: FlowSet, body: str) -> str:
    """What a crisis text is about, when its words say: "overdose" (an overdose, not breathing, not waking:
    first, whatever else it says), "self_harm" (words of suicide or self-harm alone), else ""."""
    if flows.languages.overdose(body):
        return "overdose"
    return "self_harm" if flows.languages.crisis("self_harm", body) else ""


def afraid(flows: FlowSet, body: str) -> bool:
    """The text fears what calling 911 brings (arrest, the police)."""
    return bool(flows.languages.crisis("afraid", body))


def said(flows: FlowSet, policy: Policy, texter: Texter, body: str = "") -> tuple[str, ...]:
    """The names of the texts answering a crisis text: the full one, or a short one after a few full ones
    this hour (and while a crisis is open: each time the next of its kind's); of its kind, by its words
    or the open crisis's; the Good Samaritan laws for a fear of calling 911."""
    heard = kind(flows, body)
    texts = KINDS[heard or (texter.crisis_kind if texter.crisis_open else "")]
    fears = afraid(flows, body)
    if texter.crisis_open:
        turn = texts.shorts[max(texter.crisis_replies_last_hour - 1, 0) % len(texts.shorts)]
        if fears:  # the fear answered; what to do now too when this text says what is happening
            return (turn, AFRAID) if heard else (AFRAID,)
        return (turn,)
    if texter.crisis_replies_last_hour >= policy.crisis_replies_per_hour:
        return (texts.shorts[0],)
    return (texts.full, AFRAID) if fears else (texts.full,)


def opened(flows: FlowSet, policy: Policy, texter: Texter, m: Match, body: str) -> Decision:
    """A crisis text outside a keyword: 911/988 first; a call asked for is still queued."""
    callback = m.intent is Intent.FLOW and flows.flows[m.flow].action == "callback"
    names = said(flows, policy, texter, body)
    keyword = m.word if m.intent is not Intent.UNKNOWN else ""  # never a word of the person's own text
    return Decision(m.intent, tuple(text(flows, policy, texter, n) for n in names), m.flow, keyword,
                    callback=callback, crisis=True, crisis_replied=True, sources=names)


def _repeated_plea(policy: Policy, texter: Texter, body: str, plea: bool) -> bool:
    """The same plea again from a person, not our own words back, within the hour's budget."""
    return plea and not is_ours(texter.recent, body) and \
        texter.crisis_replies_last_hour < REPEATED_PLEA_BUDGET * policy.crisis_replies_per_hour


def ongoing(flows: FlowSet, policy: Policy, texter: Texter, body: str, m: Match, crisis: bool,
            now: datetime, plea: bool = False) -> Decision:
    """Any text of a person whose crisis is open (STOP is answered before this). `plea`: the text has a
    crisis phrase or asks for emergency help."""
    keyword = m.word if m.intent in (Intent.FLOW, Intent.HELP, Intent.OPT_IN) else ""
    if is_echo(texter.recent, body) and not _repeated_plea(policy, texter, body, plea):
        return Decision(m.intent, keyword=keyword, consent=texter.consent, crisis=True, silence=Silence.ECHO)
    if texter.consent is Consent.OPTED_OUT and not crisis:  # their STOP holds: only crisis texts are answered
        return Decision(m.intent, keyword=keyword, consent=texter.consent, crisis=True, silence=Silence.OPTED_OUT)
    call = m.intent is Intent.FLOW and flows.flows[m.flow].action == "callback"
    if m.intent is Intent.FLOW and not call and not crisis and len(words(body)) == 1:
        # the keyword alone: its information, never its question (nothing would wait for the answer) and
        # nothing timed; a keyword in a longer text ("Recovery position?") gets the crisis answer
        answer = start(flows, policy, texter, m.flow, m.word, now)
        kept = len(answer.replies) - (1 if answer.conversation is not None else 0)
        if kept > 0:
            return replace(answer, replies=answer.replies[:kept], sources=answer.sources[:kept], keyword=keyword,
                           consent=texter.consent, crisis=True, schedule=(), conversation=None, events=(),
                           conversation_changed=False, cancel_followups=True)
    if call:
        names = (CALL,)
    elif is_update(body, flows.languages):  # news never carries a crisis phrase
        names = (KINDS[kind(flows, body) or texter.crisis_kind].update,)
    else:
        names = said(flows, policy, texter, body)
    replies = tuple(text(flows, policy, texter, n) for n in names)
    if m.intent is Intent.HELP:
        replies, names = replies + (flows.message("help", texter.language),), names + ("help",)
    return Decision(m.intent, replies, m.flow if call else None, keyword, consent=texter.consent, callback=call,
                    crisis=True, crisis_replied=True, sources=names)
