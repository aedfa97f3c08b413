"""One inbound text: claim its MessageSid, ask the engine, save everything in one atomic write."""
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from flows.alerts import TEXTS as ALERT_TEXTS
from flows import echo
from flows.engine import Consent, Decision, decide, replayed
from flows.hours import callback_due
from flows.matching import Intent
from service import planning, queues
from service.rekeying import move_to_newest
from service.config import Config
from service.runtime import Services
from service.sms.twiml import render
from service.sms.validate import InboundSms
from service.store import (attention, broadcasts, callbacks, contacts, conversations, crises, daily, erasure, inbound, inbox,
                           journeys, keys, messages, people, unmatched)
from service.store.batch import Batch

log = logging.getLogger("service.inbound")
WAIT_FOR_TWIN = 3.0
BROADCAST_WINDOW = 86400  # a reply or an opt-out within a day of a broadcast text counts for it
TWIN_RETRIES = 5


@dataclass(frozen=True)
class Handled:
    twiml: str
    decision: Decision | None  # None: a duplicate, answered as the first time
    stale: bool = False  # a replayed message older than what the person did since


class Replayed(str, Enum):
    APPLIED = "applied"
    STALE = "stale"  # older than the person's latest message or consent change
    DUPLICATE = "duplicate"  # handled before (the webhook had it after all, or an earlier replay)
    ERASED = "erased"  # received before the person's data was erased: never brought back


def handle(svc: Services, msg: InboundSms) -> Handled:
    """Idempotent on MessageSid: a retry gets the first answer back and changes nothing."""
    pk, now = svc.vault.person_key(msg.e164), svc.now()
    claim, state = inbound.open_inbound(svc.redis, svc.vault, msg.sid, pk, now)
    if not claim.fresh:
        log.info("inbound_duplicate", extra={"sid": msg.sid, "person": pk})
        return Handled(_twiml(claim.answer) if claim.answer is not None else _await_twin(svc, msg.sid), None)
    if claim.replayed:  # signed by Twilio, but handled long ago: someone is replaying a captured request
        log.warning("inbound_replay_refused", extra={"sid": msg.sid, "person": pk})
        return Handled(render(()), None)
    if state.texter.first_contact:
        state = _moved_in(svc, msg, pk, now) or state
    try:
        return process(svc, msg, pk, now, state)
    except BaseException:
        inbound.release_inbound(svc.redis, msg.sid)
        raise


def replay(svc: Services, msg: InboundSms) -> Replayed:
    """A message the fallback URL answered while Redis was down, applied as of when it was received."""
    pk, at = svc.vault.person_key(msg.e164), msg.received_at
    if any(erasure.erased_since(svc.redis, k, at) for k in (pk, *svc.vault.older_person_keys(msg.e164))):
        return Replayed.ERASED
    claim, state = inbound.open_inbound(svc.redis, svc.vault, msg.sid, pk, at)
    if not claim.fresh or claim.replayed:
        return Replayed.DUPLICATE
    if state.texter.first_contact:
        state = _moved_in(svc, msg, pk, at) or state
    def stale_of(current: inbound.State) -> bool:  # against the state each pass reads
        return msg.undated or at < current.latest
    try:
        handled = process(svc, msg, pk, at, state, lambda d, current: replayed(d, current.texter, stale_of(current)),
                          stale_of)
    except BaseException:
        inbound.release_inbound(svc.redis, msg.sid)
        raise
    return Replayed.STALE if handled.stale else Replayed.APPLIED


def process(svc: Services, msg: InboundSms, pk: str, now: float, state: inbound.State,
            adjust=lambda decision, state: decision, stale_of=lambda state: False) -> Handled:
    """Decide and write in one atomic script call, guarded: when another text of the person was handled
    meanwhile (two texts at once), decide again on what it left, so each text sees the one before.
    `adjust` and `stale_of` (a replay from the fallback spool) see the state of each pass."""
    r = svc.redis
    for _ in range(TWIN_RETRIES):
        stale = stale_of(state)
        flows = svc.source.for_version(r, state.flows_version)
        config = svc.current_config(state.settings)
        local = datetime.fromtimestamp(now, config.timezone)
        decision = adjust(decide(flows, svc.policy_for(config), state.texter, msg.body, local, svc.reader), state)
        twiml = render(decision.replies)
        pipe = Batch(r, guard=inbound.guard(r, pk, state))  # one atomic script call: see service/store/batch.py
        _save(svc, config, flows, pipe, msg, pk, now, state, decision, stale)
        alert_ids = _alert(svc, config, flows, pipe, msg, decision, now)
        inbound.finish_inbound(pipe, svc.vault, msg.sid, _sourced(decision), now, flows.shared_texts)
        inbound.bump(pipe, pk)
        if pipe.execute():
            break
        state = inbound.read_state(r, svc.vault, pk, now)
    else:
        raise RuntimeError("the person's texts kept landing at once: the claim is released and Twilio's "
                           "fallback URL answers this one")
    queues.enqueue_messages(r, alert_ids, svc.now())  # a crash before this line: the alert sweeper
    if decision.intent is Intent.OPT_IN and decision.consent_changed:
        queues.enqueue_replan(r, pk)  # back from a STOP: their journeys, from what stands now
    log.info("inbound", extra={"sid": msg.sid, "person": pk, "intent": decision.intent.value, "flow": decision.flow,
                               "replies": len(decision.replies), "crisis": decision.crisis,
                               "silence": decision.silence.value if decision.silence else None})
    _observe(svc, decision)
    return Handled(twiml, decision, stale)


def _moved_in(svc: Services, msg: InboundSms, pk: str, now: float) -> inbound.State | None:
    """While PHONE_HASH_KEY is being rotated, someone new under the newest key may be known under an older
    one: they move over now (their consent above all), and their state is read again."""
    return inbound.read_state(svc.redis, svc.vault, pk, now) if move_to_newest(svc, msg.e164, pk, now) else None


def _save(svc: Services, config: Config, flows, pipe, msg: InboundSms, pk: str, now: float, state: inbound.State,
          decision: Decision, stale: bool) -> None:
    texter = state.texter
    changes_consent = decision.consent_changed or texter.first_contact
    people.record_contact(pipe, svc.vault, pk, msg.e164, decision.consent if changes_consent else None, now,
                          texter.first_contact, state.has_phone, state.undeliverable, msg.simulated, touch=not stale,
                          oldest=state.oldest)
    if changes_consent:
        keyword = decision.keyword if decision.intent is not Intent.UNKNOWN else ""  # not the person's words
        people.record_consent(pipe, pk, decision.consent, keyword or "FIRST_MESSAGE", msg.sid, now,
                              first=texter.first_contact and not state.has_trail)
    ids = [f"{msg.sid}/{i}" for i in range(len(decision.replies))]
    people.record_exchange(pipe, svc.vault, pk, [("in", msg.body, msg.sid)]
                           + [("out", text, mid, source) for (text, source), mid in zip(_sourced(decision), ids)],
                           now, flows.shared_texts)
    inbox.arrived(pipe, pk)
    _count(svc, pipe, pk, ids, now, decision)
    simulated = msg.simulated or state.simulated
    day = "" if simulated else daily.day_of(now, config.timezone)  # the simulator's texts aren't the program's
    _crisis(svc, pipe, msg, pk, now, state, decision, day, simulated, daily.hour_of(now, config.timezone))
    if decision.callback:
        callbacks.request(pipe, svc.vault, pk, msg.e164, msg.sid, now, decision.crisis, simulated, day,
                          _promised(config, now), daily.hour_of(now, config.timezone))
    if decision.disclosure_owed is not None:
        people.record_disclosure(pipe, pk, decision.disclosure_owed)
    if not decision.understood and not decision.crisis:
        language = decision.language or texter.language or flows.program.default_language
        unmatched.keep(pipe, svc.vault, msg.sid, pk, msg.body, language, now, day, simulated)
    _outreach(pipe, pk, state, decision, now)
    _after_broadcast(pipe, state, decision, now, day)
    planning.replan(config, pipe, pk, msg.e164, state.pending, decision, now, day)
    if decision.language:
        people.record_language(pipe, svc.vault, pk, decision.language, flows.program.default_language)
    if decision.conversation_changed or decision.vars:
        conversations.save(pipe, svc.vault, pk, decision.conversation if decision.conversation_changed
                           else state.texter.conversation, decision.vars)
    if day:  # the step funnels are the program's too
        conversations.count(pipe, state.flows_version or 0, pk, decision.events)
        language = decision.language or texter.language or flows.program.default_language
        _insights(pipe, day, pk, texter, decision, config.retention_seconds, language)


def _crisis(svc: Services, pipe, msg: InboundSms, pk: str, now: float, state: inbound.State, decision: Decision,
            day: str, simulated: bool, hour: int) -> None:
    """A new crisis is opened (and on-call told, by _alert); a text while one is open updates it. While a
    crisis is open the digests of the latest texts are kept, so an auto-responder's echo is recognised."""
    if decision.opens_crisis:
        crises.open_crisis(pipe, svc.vault, pk, msg.e164, msg.sid, msg.body, now, day, simulated, decision.crisis_why,
                           hour, decision.crisis_kind)
    elif decision.crisis and state.crisis:
        crises.another_text(pipe, state.crisis, now)
        if decision.crisis_kind and decision.crisis_kind != state.texter.crisis_kind:
            crises.mark_kind(pipe, pk, decision.crisis_kind)
    if decision.crisis:
        people.record_recent(pipe, pk, echo.remember(state.texter.recent, msg.body, decision.replies))


def _outreach(pipe, pk: str, state: inbound.State, decision: Decision, now: float) -> None:
    """What this text does to outreach: a STOP or a crisis cancels the person's journey events (as it
    cancels follow-ups); their own START/YES is consent to outreach (re-planned after the commit); a step
    with `action: inbox` puts them before staff."""
    if state.journeys and (decision.crisis or (decision.consent is Consent.OPTED_OUT and decision.consent_changed)):
        journeys.cancel_all(pipe, pk, state.journeys)
    if decision.intent is Intent.OPT_IN and decision.consent_changed:
        contacts.record_opt_in(pipe, pk, now)
    if decision.inbox:
        attention.flag(pipe, pk, decision.inbox, now)


def _after_broadcast(pipe, state: inbound.State, decision: Decision, now: float, day: str) -> None:
    """A text within a day of a broadcast counts in its funnel: a reply, and an opt-out (insights too)."""
    bid, _, at = state.last_broadcast.partition("|")
    if not bid or now - float(at or 0) > BROADCAST_WINDOW:
        return
    broadcasts.count(pipe, bid, "replies")
    if decision.consent is Consent.OPTED_OUT and decision.consent_changed:
        broadcasts.count(pipe, bid, "opt_outs")
        if day:
            daily.count(pipe, day, "broadcast_opt_outs")


def _insights(pipe, day: str, pk: str, texter, decision: Decision, keep_seconds: int, language: str) -> None:
    """This text's part of the day's counts (store/daily.py), in the same atomic write."""
    fields = {"inbound": 1}
    if decision.replies:
        fields["outbound"] = len(decision.replies)
    if texter.first_contact:
        fields["new_people"] = 1
    if decision.intent is Intent.FLOW and decision.keyword and decision.replies and not decision.crisis:
        fields[f"flow_start:{decision.flow}"] = 1
    if decision.consent_changed and decision.consent is Consent.OPTED_OUT:
        fields["opt_outs"] = 1
    daily.counts(pipe, day, fields)
    daily.person(pipe, day, "people", pk, keep_seconds)
    daily.person(pipe, day, f"people:{language}", pk, keep_seconds)
    if decision.replies:
        daily.person(pipe, day, "texted", pk, keep_seconds)


def _promised(config: Config, now: float) -> float | None:
    """When the call back promise made to the texter runs out."""
    due = callback_due(datetime.fromtimestamp(now, config.timezone), config.business_hours,
                       config.callback_within_minutes)
    return due.timestamp() if due else None


def _alert(svc: Services, config: Config, flows, pipe, msg: InboundSms, decision: Decision, now: float) -> list[str]:
    """Alert records are written with the rest, so they exist whenever the message's data does. A
    simulated text's alert goes to the outbox: the simulator never pages real on-call staff."""
    if decision.alert is None:
        return []
    body = flows.render(ALERT_TEXTS[decision.alert])
    return messages.create_alerts(pipe, svc.vault, msg.sid, config.staff_alert_numbers, body, now, msg.simulated,
                                  about=svc.vault.person_key(msg.e164))


def _count(svc: Services, pipe, pk: str, ids: list[str], now: float, decision: Decision) -> None:
    """Replies count toward the hourly budgets; the first reply is the crisis one when there is one."""
    crisis_ids = ids[:1] if decision.crisis_replied else []
    if crisis_ids:
        people.count_replies(pipe, pk, crisis_ids, now, crisis=True)
    if ids[len(crisis_ids):]:
        people.count_replies(pipe, pk, ids[len(crisis_ids):], now, crisis=False)


def _observe(svc: Services, decision: Decision) -> None:
    """The process' metrics, once the write applied (not for a pass the guard refused)."""
    svc.counters.add(keys.of(svc.redis).METRICS_REPLIES, decision.flow or decision.intent.value)
    if decision.consent_changed and decision.consent is Consent.OPTED_OUT:
        svc.counters.add(keys.of(svc.redis).METRICS_EVENTS, "opt_outs")


def _await_twin(svc: Services, sid: str) -> str:
    """The same message is being handled right now (a retry raced the original): wait for its answer."""
    deadline = time.monotonic() + WAIT_FOR_TWIN
    while time.monotonic() < deadline:
        answer = inbound.answer_of(svc.redis, svc.vault, sid)
        if answer is not None:
            return _twiml(answer)
        time.sleep(0.05)
    return render(())  # the original will still answer; never send the texter a second copy


def _sourced(decision: Decision) -> list[tuple[str, str]]:
    """Each reply with where it came from ("" when the engine did not say)."""
    sources = decision.sources
    return [(text, sources[i] if i < len(sources) else "") for i, text in enumerate(decision.replies)]


def _twiml(answer: tuple[str, ...] | str) -> str:
    return answer if isinstance(answer, str) else render(answer)
