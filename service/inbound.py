"""One inbound text: claim its MessageSid, ask the engine, save everything in one transaction."""
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from twilio.twiml.messaging_response import MessagingResponse

from flows.engine import Consent, Decision, decide
from service import alerts, callbacks, followups, metrics, store
from service.batch import Batch
from service.context import Services

log = logging.getLogger("service.inbound")
WAIT_FOR_TWIN = 3.0


@dataclass(frozen=True)
class InboundSms:
    sid: str
    e164: str
    body: str


@dataclass(frozen=True)
class Handled:
    twiml: str
    decision: Decision | None
    person: str
    callback_id: str | None = None


def handle(svc: Services, msg: InboundSms) -> Handled:
    """Idempotent on MessageSid: a retry gets the first answer back and changes nothing."""
    pk, now = svc.vault.person_key(msg.e164), time.time()
    claim, state = store.open_inbound(svc.redis, msg.sid, pk, now)
    if not claim.fresh:
        log.info("inbound_duplicate", extra={"sid": msg.sid, "person": pk})
        return Handled(claim.answer or _await_twin(svc, msg.sid), None, pk)
    try:
        return _process(svc, msg, pk, now, state)
    except BaseException:
        store.release_inbound(svc.redis, msg.sid)
        raise


def _process(svc: Services, msg: InboundSms, pk: str, now: float, state: store.State) -> Handled:
    r = svc.redis
    flows = svc.source.for_version(r, state.flows_version)
    config = svc.current_config(state.settings)
    local = datetime.fromtimestamp(now, config.timezone)
    decision = decide(flows, svc.policy_for(config), state.texter, msg.body, local)
    twiml = render(decision.replies)
    reuse_callback = callbacks.open_callback_id(r, pk) if decision.callback else None
    pipe = Batch(r)  # one atomic script call: see service/batch.py
    _save(svc, config, pipe, msg, pk, now, state, decision)
    callback_id = reuse_callback or (_callback(svc, pipe, msg, pk, now, decision) if decision.callback else None)
    alert_ids = alerts.prepare(svc, config, flows, pipe, msg.sid, decision.crisis) \
        if decision.crisis_replied or (callback_id and not reuse_callback) else []
    store.finish_inbound(pipe, msg.sid, twiml)
    pipe.execute()
    alerts.enqueue(svc, alert_ids)  # a crash before this line is caught by the sweeper (alerts.sweep)
    log.info("inbound", extra={"sid": msg.sid, "person": pk, "intent": decision.intent.value, "flow": decision.flow,
                               "replies": len(decision.replies), "crisis": decision.crisis,
                               "silence": decision.silence.value if decision.silence else None})
    return Handled(twiml, decision, pk, callback_id)


def _save(svc, config, pipe, msg, pk, now, state, decision) -> None:
    texter = state.texter
    changes_consent = decision.consent_changed or texter.first_contact
    store.record_contact(pipe, svc.vault, pk, msg.e164, decision.consent if changes_consent else None, now, state)
    if changes_consent:
        store.record_consent(pipe, pk, decision.consent, decision.keyword or "FIRST_MESSAGE", msg.sid, now)
    ids = [f"{msg.sid}/{i}" for i in range(len(decision.replies))]
    store.record_messages(pipe, svc.vault, pk, [("in", msg.body, msg.sid)]
                          + [("out", reply, i) for reply, i in zip(decision.replies, ids)], now)
    _count(svc, pipe, pk, ids, now, decision)
    if decision.crisis:
        callbacks.flag_crisis(pipe, svc.vault, pk, msg.e164, msg.sid, msg.body, now)
    if (decision.cancel_followups or decision.consent is Consent.OPTED_OUT) and state.pending:
        followups.cancel(pipe, pk, state.pending)
    if decision.schedule:
        followups.schedule(pipe, config, pk, msg.e164, decision.schedule, now)


def _count(svc: Services, pipe, pk: str, ids: list[str], now: float, decision: Decision) -> None:
    """Replies count toward the hourly budgets; the first reply is the crisis one when there is one."""
    crisis_ids = ids[:1] if decision.crisis_replied else []
    if crisis_ids:
        store.count_replies(pipe, pk, crisis_ids, now, crisis=True)
    if ids[len(crisis_ids):]:
        store.count_replies(pipe, pk, ids[len(crisis_ids):], now, crisis=False)
    svc.counters.add(metrics.REPLIES, decision.flow or decision.intent.value)
    if decision.consent_changed and decision.consent is Consent.OPTED_OUT:
        svc.counters.add(metrics.EVENTS, "opt_outs")


def _callback(svc, pipe, msg, pk, now, decision) -> str:
    return callbacks.request_callback(pipe, svc.vault, pk, msg.e164, msg.sid, now, decision.crisis)


@lru_cache(maxsize=256)
def render(replies: tuple[str, ...]) -> str:
    """TwiML for the replies; the same few texts go out again and again, so answers are cached."""
    response = MessagingResponse()
    for text in replies:
        response.message(text)
    return response.to_xml()


def _await_twin(svc: Services, sid: str) -> str:
    """The same message is being handled right now (a retry raced the original): wait for its answer."""
    deadline = time.monotonic() + WAIT_FOR_TWIN
    while time.monotonic() < deadline:
        answer = svc.redis.get(store.inbound_key(sid))
        if answer:
            return answer.decode()
        time.sleep(0.05)
    return render(())  # the original will still answer; never send the texter a second copy
