"""Hand one outbound message to the provider at most once, within the global rate."""
import logging
import time

from flows.engine import Consent
from service import followups, outbound, store
from service.outbound import OutState
from workers.runtime import Runtime
from workers.sender import Failure, SendError

log = logging.getLogger("workers.delivery")
FAILURE_STATE = {Failure.OPTED_OUT: OutState.OPTED_OUT, Failure.UNDELIVERABLE: OutState.UNDELIVERABLE,
                 Failure.UNKNOWN: OutState.UNKNOWN, Failure.REJECTED: OutState.REJECTED}


class RetryLater(Exception):
    """Nothing was sent; raising hands the job to RQ's retry with backoff."""


def deliver(rt: Runtime, mid: str, now: float | None = None) -> OutState:
    r = rt.svc.redis
    rec = outbound.load(r, rt.svc.vault, mid)
    if rec is None or rec["state"] != OutState.QUEUED.value:
        return OutState(rec["state"]) if rec else OutState.SKIPPED
    try:
        rt.limiter.acquire()  # first wait for the slot, so a STOP arriving meanwhile is still seen below
    except TimeoutError as exc:
        raise RetryLater(str(exc)) from None
    if not outbound.claim(r, mid):
        return OutState.SENDING
    if _must_not_send(rt, rec, time.time() if now is None else now):
        outbound.finish(r, mid, OutState.SKIPPED)
        return OutState.SKIPPED
    return _send(rt, mid, rec)


def _must_not_send(rt: Runtime, rec: dict, now: float) -> bool:
    """Opted out since it was queued, or a follow-up whose send window closed (a late retry or requeue)."""
    if rec["person"] and store.consent_of(rt.svc.redis, rec["person"]) is Consent.OPTED_OUT:
        return True
    if rec["kind"] != "followup":
        return False
    config = rt.svc.current_config()
    return followups.send_time(config, followups.recipient_zones(config, rec["to"]), now, "") != now


def _send(rt: Runtime, mid: str, rec: dict) -> OutState:
    r = rt.svc.redis
    try:
        sent = rt.sender.send(rec["to"], rec["body"])
    except SendError as exc:
        if exc.failure is Failure.RETRY:
            outbound.release(r, mid)
            raise RetryLater(str(exc)) from None
        state = FAILURE_STATE[exc.failure]
        outbound.finish(r, mid, state, code=exc.code)
        _stop_texting(rt, rec["person"], exc.failure, mid)
        log.warning("outbound_failed", extra={"mid": mid, "state": state.value, "code": exc.code})
        return state
    outbound.finish(r, mid, OutState.SENT, sent.provider_sid)
    log.info("outbound_sent", extra={"mid": mid, "provider_sid": sent.provider_sid})
    return OutState.SENT


def _stop_texting(rt: Runtime, person: str, failure: Failure, mid: str) -> None:
    """The carrier's word overrides ours: 21610 is an opt-out, a dead number gets nothing more."""
    if not person or failure not in (Failure.OPTED_OUT, Failure.UNDELIVERABLE):
        return
    r, now = rt.svc.redis, time.time()
    pending = followups.pending_of(r, person)
    pipe = r.pipeline()
    if failure is Failure.OPTED_OUT:
        pipe.hset(store.contact_key(person), "consent", Consent.OPTED_OUT.value)
        store.record_consent(pipe, person, Consent.OPTED_OUT, "CARRIER_21610", mid, now)
    else:
        pipe.hset(store.contact_key(person), "undeliverable", int(now))
    followups.cancel(pipe, person, pending)
    pipe.execute()
