"""The conversation engine: given a message and what we know of the texter, decide everything. Pure."""
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from flows.alerts import Alert
from flows.crisis import is_crisis
from flows.hours import WeeklyHours, callback_eta
from flows.matching import Intent, match
from flows.model import FlowSet


class Consent(str, Enum):
    SUBSCRIBED = "subscribed"
    OPTED_OUT = "opted_out"


class Silence(str, Enum):
    OPTED_OUT = "opted_out"
    FLOOD = "flood"


@dataclass(frozen=True)
class Policy:
    """Center settings the engine needs; the service builds it from config."""
    business_hours: WeeklyHours
    callback_within_minutes: int = 30
    replies_per_hour: int = 10
    crisis_replies_per_hour: int = 3


@dataclass(frozen=True)
class Texter:
    """What the store knows about the sender when the message arrives."""
    consent: Consent = Consent.SUBSCRIBED
    first_contact: bool = True
    replies_last_hour: int = 0
    crisis_replies_last_hour: int = 0
    callback_open: bool = False  # already waiting for a call back: a second CALL keeps their place


@dataclass(frozen=True)
class ScheduledFollowUp:
    flow: str
    step: int
    after: timedelta


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


def decide(flows: FlowSet, policy: Policy, texter: Texter, body: str, now: datetime) -> Decision:
    """`now` is the center's local time; used for the callback promise."""
    return _finish(texter, _decide(flows, policy, texter, body, now))


def _finish(texter: Texter, decision: Decision) -> Decision:
    """Rules that hold whatever the message asked for: a crisis cancels every gentle follow-up; staff hear
    of a crisis we answered and of a new call back request (not of a repeated CALL)."""
    if decision.crisis:
        decision = replace(decision, cancel_followups=True, schedule=())
    callback = decision.callback and not texter.callback_open
    alerted = decision.crisis_replied or callback
    alert = (Alert.CRISIS if decision.crisis else Alert.CALLBACK) if alerted else None
    return replace(decision, callback=callback, alert=alert)


def _decide(flows: FlowSet, policy: Policy, texter: Texter, body: str, now: datetime) -> Decision:
    crisis = is_crisis(body)
    m = match(body, flows.triggers, crisis=crisis)
    crisis_reply = _crisis_reply(flows, policy, texter, crisis)
    if m.intent is Intent.OPT_OUT:
        return _opt_out(flows, policy, texter, m.word, crisis, crisis_reply)
    if m.intent is Intent.OPT_IN:
        return _limited(policy, texter, Decision(
            Intent.OPT_IN, crisis_reply + (flows.message("start"),), keyword=m.word,
            consent_changed=texter.consent is Consent.OPTED_OUT, crisis=crisis,
            crisis_replied=bool(crisis_reply)))
    if m.intent is Intent.HELP:
        return _limited(policy, texter, Decision(
            Intent.HELP, crisis_reply + (flows.message("help"),), keyword=m.word, consent=texter.consent,
            crisis=crisis, crisis_replied=bool(crisis_reply)))
    if texter.consent is Consent.OPTED_OUT:  # no texts; but a phone call they ask for is not a text
        callback = m.intent is Intent.FLOW and flows.flows[m.flow].action == "callback"
        return Decision(m.intent, crisis_reply, m.flow, m.word, Consent.OPTED_OUT, callback=callback, crisis=crisis,
                        crisis_replied=bool(crisis_reply), silence=None if crisis_reply else Silence.OPTED_OUT)
    if m.intent is Intent.FLOW:
        return _flow(flows, policy, texter, m.flow, m.word, crisis, crisis_reply, now)
    replies = crisis_reply if crisis else (_first(flows, texter, flows.message("menu")),)
    return _limited(policy, texter, Decision(m.intent, replies, crisis=crisis, crisis_replied=bool(crisis_reply),
                                             silence=Silence.FLOOD if not replies else None))


def _flow(flows, policy, texter, name, word, crisis, crisis_reply, now) -> Decision:
    flow = flows.flows[name]
    callback = flow.action == "callback"
    if crisis:  # 911/988 first; a callback still gets queued, but no gentle follow-ups after a crisis
        return Decision(Intent.FLOW, crisis_reply, name, word, callback=callback, crisis=True,
                        crisis_replied=bool(crisis_reply), cancel_followups=True,
                        silence=None if crisis_reply else Silence.FLOOD)
    eta = callback_eta(now, policy.business_hours, policy.callback_within_minutes) if callback else ""
    reply = _first(flows, texter, flows.render(flow.reply, callback_eta=eta))
    schedule = tuple(ScheduledFollowUp(name, i, f.after) for i, f in enumerate(flow.followups))
    return _limited(policy, texter, Decision(Intent.FLOW, (reply,), name, word, callback=callback,
                                             cancel_followups=True, schedule=schedule))


def _opt_out(flows, policy, texter, word, crisis, crisis_reply) -> Decision:
    changed = texter.consent is not Consent.OPTED_OUT
    decision = Decision(Intent.OPT_OUT, crisis_reply + (flows.message("stop"),), keyword=word,
                        consent=Consent.OPTED_OUT, consent_changed=changed, crisis=crisis,
                        crisis_replied=bool(crisis_reply), cancel_followups=True)
    return decision if changed else _limited(policy, texter, decision)  # the first confirmation always goes


def _crisis_reply(flows, policy, texter, crisis) -> tuple[str, ...]:
    if crisis and texter.crisis_replies_last_hour < policy.crisis_replies_per_hour:
        return (_first(flows, texter, flows.message("crisis")),)
    return ()


def _first(flows: FlowSet, texter: Texter, text: str) -> str:
    return text + "\n\n" + flows.message("disclosure") if texter.first_contact else text


def _limited(policy: Policy, texter: Texter, decision: Decision) -> Decision:
    """Beyond the hourly reply budget only the crisis reply survives: no auto-responder ping-pong."""
    if texter.replies_last_hour < policy.replies_per_hour:
        return decision
    kept = (decision.replies[0],) if decision.crisis_replied else ()
    # an unanswered message starts no follow-ups either; consent changes and callbacks still count
    return replace(decision, replies=kept, silence=None if kept else Silence.FLOOD, schedule=(),
                   cancel_followups=decision.cancel_followups and decision.intent is not Intent.FLOW)


def replayed(decision: Decision, texter: Texter, stale: bool) -> Decision:
    """A message the fallback URL answered during an outage, applied afterwards. Its replies went out
    then (from the fallback), so none go now. A stale one (older than the person's latest message or
    consent change) is not news: a STOP still opts out and a crisis still reaches staff, but a START
    or a keyword neither re-subscribes nor starts follow-ups. Call backs asked for are still queued."""
    replay = replace(decision, replies=(), crisis_replied=False, silence=None,
                     alert=Alert.CRISIS if decision.crisis else decision.alert)
    if not stale:
        return replay
    opted_out = decision.consent is Consent.OPTED_OUT and decision.consent_changed
    return replace(replay, schedule=(), consent=Consent.OPTED_OUT if opted_out else texter.consent,
                   consent_changed=opted_out, cancel_followups=opted_out or decision.crisis)
