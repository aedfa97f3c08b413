"""Talking with someone in a crisis. A new crisis gets the full answer (911, naloxone, 988) at once;
while it stays open (until staff resolve it) every text gets a short, calm answer that still says what
to do now, and that our team knows when on-call staff were told: news that help is there or things are
better is thanked (and what to do if it gets worse); a request to be called is a call back; a keyword
gets its answer (once, no follow-ups); never a menu or a keyword prompt, and never silence, except to an
echo (flows.echo): our own words back, or the same text a third time unless it reads as a crisis."""
from dataclasses import replace
from datetime import datetime

from flows.decision import Consent, Decision, Policy, Silence, Texter
from flows.echo import is_echo, is_ours
from flows.matching import Intent, Match, words
from flows.model import FlowSet
from flows.steps import start
from understanding.phrases import is_update

FULL, SHORT, CALL, UPDATE = "crisis", "crisis_again", "crisis_call", "crisis_update"
# Words of suicide or self-harm (each language's crisis.self_harm) are answered with 988 first, in the
# crisis that opened with them too; fear of calling 911 (crisis.afraid) with the Good Samaritan laws.
SELF_HARM, SELF_HARM_SHORT, AFRAID = "crisis_self_harm", "crisis_self_harm_again", "crisis_afraid"
# A frightened person texting on gets a different useful thing each time, not the same words: what to do
# now, then staying with them and the dispatcher's help; and round again.
SHORTS = (SHORT, "crisis_stay")
KINDS = {"self_harm": (SELF_HARM, SELF_HARM_SHORT)}  # a crisis's kind (stored while it is open): its texts
# A frightened person sends the same plea again and again: a text with a crisis phrase or a plea for
# emergency help is answered each time, up to this many times the hour's crisis reply budget (repetition
# is a machine's sign, so the model's reading alone is not enough, and a machine can't loop for long)
REPEATED_PLEA_BUDGET = 2


def text(flows: FlowSet, policy: Policy, texter: Texter, name: str) -> str:
    """A crisis message in the person's language; it says our team knows only when someone was told."""
    flagged = flows.message("flagged", texter.language) if policy.on_call else ""
    return flows.message(name, texter.language, flagged=flagged)


def kind(flows: FlowSet, body: str) -> str:
    """What a crisis text is about, when its words say: "self_harm", else "" (an overdose, or unsaid)."""
    return "self_harm" if flows.languages.crisis("self_harm", body) else ""


def afraid(flows: FlowSet, body: str) -> bool:
    """The text fears what calling 911 brings (arrest, the police)."""
    return bool(flows.languages.crisis("afraid", body))


def said(flows: FlowSet, policy: Policy, texter: Texter, body: str = "") -> tuple[str, ...]:
    """The names of the texts answering a crisis text: the full one, or a short one after a few full ones
    this hour (and while a crisis is open: each time the next of SHORTS); 988 first for words of suicide
    or self-harm, now or when the crisis opened; the Good Samaritan laws for a fear of calling 911."""
    about = kind(flows, body) or (texter.crisis_kind if texter.crisis_open else "")
    full, short = KINDS.get(about, (FULL, None))
    fears = afraid(flows, body) and short is None
    if texter.crisis_open:
        turn = SHORTS[max(texter.crisis_replies_last_hour - 1, 0) % len(SHORTS)]
        return (short or (AFRAID if fears else turn),)
    if texter.crisis_replies_last_hour >= policy.crisis_replies_per_hour:
        return (short or SHORT,)
    return (full, AFRAID) if fears else (full,)


def opening(flows: FlowSet, policy: Policy, texter: Texter, body: str = "") -> tuple[str, ...]:
    """The answer to a crisis text (said): its texts."""
    return tuple(text(flows, policy, texter, name) for name in said(flows, policy, texter, body))


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
    names = (CALL,) if call else (UPDATE,) if is_update(body, flows.languages) else said(flows, policy, texter, body)
    replies = tuple(text(flows, policy, texter, n) for n in names)  # news never carries a crisis phrase
    if m.intent is Intent.HELP:
        replies, names = replies + (flows.message("help", texter.language),), names + ("help",)
    return Decision(m.intent, replies, m.flow if call else None, keyword, consent=texter.consent, callback=call,
                    crisis=True, crisis_replied=True, sources=names)
