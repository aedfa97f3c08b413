"""Send one due follow-up or conversation step, after re-reading everything that may have changed since
it was scheduled. The engine says what the step sends and where the conversation goes; this job checks
consent, send hours, the weekly cap and the horizon, then writes it all in one WATCHed transaction."""
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from redis import WatchError

from flows import schedule
from flows.alerts import TEXTS, Alert
from flows.engine import Consent, Decision, Texter, send_step
from flows.hours import callback_due, parse_weekly
from flows.templates import described
from flows.schedule import SendRules, Timing
from service import channels, planning, queues
from service.phone import recipient_zones
from service.store import (attention, callbacks, conversations, daily, flowdocs, followups, holds, inbox, keys, messages,
                           people)
from service.store.followups import FollowUpId
from service.store.messages import Kind
from workers.delivery import deliver
from workers.runtime import Runtime

ALWAYS = parse_weekly("Mon-Sun 00:00-24:00")  # the simulator's people wait for no window
FIELDS = ("consent", followups.FIELD, "undeliverable", followups.SENT, "phone", "simulated", conversations.FIELD,
          "open_callback", people.LANGUAGE, holds.FIELD, people.LAST_SEEN)


class Outcome(str, Enum):
    SENT = "sent"
    SUPERSEDED = "superseded"
    GONE = "gone"  # its flow or step no longer exists (edited since): dropped and counted
    OPTED_OUT = "opted_out"
    UNDELIVERABLE = "undeliverable"
    EXPIRED = "expired"
    DEFERRED = "deferred"
    HELD = "held"  # a staff member holds the conversation: it waits (store.holds)
    HANDED_OVER = "handed_over"  # already turned into messages: delivery decides
    WINDOW_CLOSED = "window_closed"  # its channel allows only approved templates now, and it has none


@dataclass(frozen=True)
class Plan:
    outcome: Outcome
    due: float | None = None
    phone: str = ""
    decision: Decision | None = None
    sent: tuple[int, ...] = ()
    simulated: bool = False
    version: int = 0
    pending: tuple[str, ...] = ()
    callback: bool = False  # a step queues a call back (the person is not waiting for one already)
    held: str = ""  # why DEFERRED: "send_hours" or "weekly_cap" (the insights count it)
    paused: dict | None = None  # HELD: what already waits for the hand back (store.holds.paused)


def message_id(fid: str, part: int = 0) -> str:
    """The message a follow-up becomes; a step that sends others with it (next without a wait) makes more."""
    return "fu_" + fid.replace(":", "_") + (f"__{part}" if part else "")


def send_followup(rt: Runtime, fid: str) -> Outcome:
    """`fid`: a follow-up's id, or a question's timeout ("person.due", see store.followups)."""
    if messages.exists(rt.svc.redis, message_id(fid)):
        _deliver_all(rt, fid)
        return Outcome.HANDED_OVER
    plan = _prepare(rt, _person(fid), fid, rt.svc.now())
    if plan.outcome is Outcome.SENT:
        _after_commit(rt, fid, plan)
    elif plan.outcome is Outcome.WINDOW_CLOSED and plan.callback:
        queues.enqueue_messages(rt.svc.redis, _alert_ids(rt, fid), rt.svc.now())
    if plan.outcome is Outcome.GONE:
        rt.svc.redis.hincrby(keys.of(rt.svc.redis).METRICS_EVENTS, "followups_gone", 1)
    return plan.outcome


def _deliver_all(rt: Runtime, fid: str) -> None:
    part = 0
    while messages.exists(rt.svc.redis, message_id(fid, part)):
        deliver(rt, message_id(fid, part))  # checks the window again at its rate-limit slot
        part += 1


def _after_commit(rt: Runtime, fid: str, plan: Plan) -> None:
    if plan.callback:
        queues.enqueue_messages(rt.svc.redis, _alert_ids(rt, fid), rt.svc.now())
    _deliver_all(rt, fid)


def _person(fid: str) -> str:
    timeout = followups.parse_timeout(fid)
    return timeout[0] if timeout else FollowUpId.parse(fid).person


def _prepare(rt: Runtime, pk: str, fid: str, now: float) -> Plan:
    """Check and hand over in one WATCHed transaction, so a STOP landing meanwhile wins."""
    key = keys.of(rt.svc.redis).contact(pk)
    with rt.svc.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                plan = _check(rt, pipe, pk, fid, now)
                pipe.multi()
                _apply(rt, pipe, pk, fid, now, plan)
                pipe.execute()
                return plan
            except WatchError:
                continue


def _check(rt: Runtime, r, pk: str, fid: str, now: float) -> Plan:
    svc = rt.svc
    cfg = svc.current_config()
    consent, pending, undeliverable, sent, phone, simulated, conversation, open_callback, language, held_by, seen = \
        r.hmget(keys.of(r).contact(pk), *FIELDS)
    pending = tuple((pending or b"").decode().split())
    version = flowdocs.published_version(r)
    flows = svc.source.for_version(r, version)
    texter = Texter(Consent(consent.decode()) if consent else Consent.SUBSCRIBED, False,
                    conversation=conversations.decode(conversation), language=people.language_of(svc.vault, language))
    fu = _what(flows, texter.conversation, pk, fid, pending)
    if fu is None or not phone:
        return Plan(Outcome.SUPERSEDED)
    if held_by is not None:  # staff are talking with them: the bot's texts wait until they hand back
        return Plan(Outcome.HELD, now + holds.RECHECK_SECONDS, paused=holds.paused(r, pk)[1])
    decision = send_step(flows, svc.policy_for(cfg), texter, fu.flow, fu.step, datetime.fromtimestamp(now, cfg.timezone))
    if decision is None:
        return Plan(Outcome.GONE)
    if texter.consent is Consent.OPTED_OUT:
        return Plan(Outcome.OPTED_OUT, simulated=bool(simulated))
    if undeliverable:
        return Plan(Outcome.UNDELIVERABLE)
    number = svc.vault.decrypt(phone)
    fitted = channels.fit(decision, number, float(seen) if seen else None, now)
    if fitted is None:  # WhatsApp after its 24-hour window, and a text without an approved template
        return Plan(Outcome.WINDOW_CLOSED, phone=number, decision=decision, simulated=bool(simulated),
                    callback=decision.callback and open_callback is None)
    decision = fitted
    history = tuple(int(t) for t in (sent or b"").decode().split())
    if not decision.replies:  # a silent step (action: inbox) sends nothing: no send hours, no weekly cap
        return Plan(Outcome.SENT, phone=number, decision=decision, sent=schedule.recent_sends(history, now),
                    simulated=bool(simulated), version=version or 0, pending=pending)
    slot = schedule.next_slot(_rules(cfg, bool(simulated)), recipient_zones(number, cfg.timezone), fu.scheduled_at,
                              history, now, fid)
    if slot.timing is Timing.EXPIRED:
        return Plan(Outcome.EXPIRED, simulated=bool(simulated))
    if slot.timing is Timing.LATER:
        return Plan(Outcome.DEFERRED, slot.at, held=slot.held, simulated=bool(simulated))
    return Plan(Outcome.SENT, phone=number, decision=decision, sent=schedule.recent_sends(history, now),
                simulated=bool(simulated), version=version or 0, pending=pending,
                callback=decision.callback and open_callback is None)


def _what(flows, conversation, pk: str, fid: str, pending: tuple[str, ...]) -> FollowUpId | None:
    """What this job sends, if it is still to be sent: a follow-up still pending, or the timeout of the
    question the person has been waiting at since before it came due (a later question has its own)."""
    timeout = followups.parse_timeout(fid)
    if timeout is None:
        return FollowUpId.parse(fid) if fid in pending else None
    due = timeout[1]
    if conversation is None or int(conversation.since) >= due:
        return None
    flow = flows.flows.get(conversation.flow)
    step = flow.step(conversation.step) if flow else None
    if step is None or step.timeout is None:
        return None
    return FollowUpId(pk, conversation.flow, step.timeout.go, int(conversation.since))


def _rules(cfg, simulated: bool) -> SendRules:
    rules = cfg.send_rules()
    return SendRules(ALWAYS, rules.center_zone, rules.per_week, rules.horizon_days) if simulated else rules


HELD_BACK = {Outcome.EXPIRED: "horizon", Outcome.OPTED_OUT: "opted_out", Outcome.WINDOW_CLOSED: "channel_window"}


def _apply(rt: Runtime, pipe, pk: str, fid: str, now: float, plan: Plan) -> None:
    _insights(rt, pipe, pk, now, plan)
    timeout = followups.parse_timeout(fid) is not None
    if plan.outcome is Outcome.HELD:  # remembered when it came due: the hand back resumes it from there
        due = followups.parse_timeout(fid)[1] if timeout else now  # a follow-up's job runs as it falls due
        holds.pause(pipe, pk, plan.paused, pk if timeout else fid, min(due, now))
    if plan.outcome in (Outcome.DEFERRED, Outcome.HELD):
        if timeout:
            followups.set_timeout(pipe, pk, plan.due)
        else:
            followups.defer(pipe, fid, plan.due)
        return
    if not timeout:  # a timeout left the due set when its job was made; a newer one there is not this one
        followups.remove(pipe, pk, fid)
    if plan.outcome is Outcome.WINDOW_CLOSED:
        _unreachable(rt, pipe, pk, fid, plan, now)
    if plan.outcome is not Outcome.SENT:
        return
    if plan.decision.replies:  # the weekly cap counts texts
        pipe.hset(keys.of(pipe).contact(pk), followups.SENT, " ".join(map(str, (*plan.sent, int(now)))))
    record_sent(rt, pipe, pk, lambda part: message_id(fid, part), plan, tuple(p for p in plan.pending if p != fid), now)
    if plan.callback:
        callback(rt, pipe, pk, _source(fid), plan, now)


def record_sent(rt: Runtime, pipe, pk: str, mid_of, plan: Plan, pending: tuple[str, ...], now: float) -> None:
    """What a step sent unprompted leaves behind (a follow-up's, a journey event's): its message records,
    the transcript, the conversation it moves, the funnel counts, the timeouts it plans, and the inbox
    when a step puts the person before staff."""
    svc, decision = rt.svc, plan.decision
    today = daily.day_of(now, svc.current_config().timezone)
    for part, text in enumerate(decision.replies):
        messages.create(pipe, svc.vault, mid_of(part), plan.phone, text, Kind.FOLLOWUP, pk, now, plan.simulated, today,
                        content=decision.templates[part] if decision.templates else None)
    if decision.replies:
        shown = [described(t) if t else text for text, t in
                 zip(decision.replies, decision.templates or (None,) * len(decision.replies))]
        people.record_exchange(pipe, svc.vault, pk, [("out", text, mid_of(part), source) for part, (text, source)
                                                     in enumerate(zip(shown, decision.sources))], now,
                               svc.source.for_version(svc.redis, plan.version).shared_texts)
    inbox.changed(pipe)
    if decision.conversation_changed or decision.vars:
        conversations.save(pipe, svc.vault, pk, decision.conversation, decision.vars)
    day = "" if plan.simulated else today
    if day:  # the simulator's steps are not the program's
        conversations.count(pipe, plan.version, pk, decision.events)
    planning.schedule_followups(svc.current_config(), pipe, pk, plan.phone, decision.schedule, now, pending, day)
    if decision.inbox:
        attention.flag(pipe, pk, decision.inbox, now)


def _unreachable(rt: Runtime, pipe, pk: str, fid: str, plan: Plan, now: float) -> None:
    """A step whose text can't go (WhatsApp past its window, no approved template) still does what it does
    for staff: a call back it asks for is queued; a question's timeout, or a step that puts them before
    staff, puts them before staff to be called (the conversation stays where it was: nothing was asked).
    A plain follow-up is only counted."""
    if followups.parse_timeout(fid) is not None or plan.decision.inbox or plan.callback:
        attention.flag(pipe, pk, "channel_window", now)
    if plan.callback:
        callback(rt, pipe, pk, _source(fid), plan, now)


def _insights(rt: Runtime, pipe, pk: str, now: float, plan: Plan) -> None:
    """This job's part of the day's counts: a follow-up held back, and why (each time it waits; one sent
    is counted when the provider accepts it: store/lua/finish_send.lua)."""
    reason = plan.held if plan.outcome is Outcome.DEFERRED else HELD_BACK.get(plan.outcome, "")
    if reason and not plan.simulated:
        daily.count(pipe, daily.day_of(now, rt.svc.current_config().timezone), f"followups_held:{reason}")


def callback(rt: Runtime, pipe, pk: str, source: str, plan: Plan, now: float) -> None:
    """A step with `action: callback`, reached later: queued like a CALL, and staff hear of it."""
    svc = rt.svc
    config = svc.current_config()
    due = callback_due(datetime.fromtimestamp(now, config.timezone), config.business_hours,
                       config.callback_within_minutes)
    callbacks.request(pipe, svc.vault, pk, plan.phone, source, now, crisis=False, simulated=plan.simulated,
                      day=daily.day_of(now, config.timezone), promised_at=due.timestamp() if due else None,
                      hour=daily.hour_of(now, config.timezone))
    flows = svc.flows()
    messages.create_alerts(pipe, svc.vault, source, svc.current_config().staff_alert_numbers,
                           flows.render(TEXTS[Alert.CALLBACK]), now, plan.simulated, about=pk)


def _alert_ids(rt: Runtime, fid: str) -> list[str]:
    return [f"alert_{_source(fid)}_{i}" for i in range(len(rt.svc.current_config().staff_alert_numbers))]


def _source(fid: str) -> str:
    return "step_" + fid.replace(":", "_")
