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


# A send that starts more than MAX_LATE after its slot gives the slot up and takes a new one: late
# starts are what squeeze cap + 1 requests into one second at the provider.
MAX_LATE = 0.004
MAX_RESLOTS = 5


class RetryLater(Exception):
    """Nothing was sent; raising hands the job to RQ's retry with backoff."""


def deliver(rt: Runtime, mid: str, now: float | None = None) -> OutState:
    """Everything that needs reading or computing happens before the wait for the send slot; after it,
    one atomic claim (which also sees a STOP that arrived meanwhile) and the provider call. The gap
    between the reserved moment and the provider seeing the request stays small and steady, so the
    pacing margin that keeps every 1 s window under the cap can stay small too."""
    r = rt.svc.redis
    rec = outbound.load(r, rt.svc.vault, mid)
    if rec is None or rec["state"] != OutState.QUEUED.value:
        return OutState(rec["state"]) if rec else OutState.SKIPPED
    slot = _reserve(rt)
    if _outside_send_window(rt, rec, (time.time() if now is None else now) + slot - time.monotonic()):
        return _skip(r, mid)
    _sleep_until(slot)
    claimed = outbound.claim(r, mid, rec["person"])
    if claimed == outbound.TAKEN:
        return OutState.SENDING
    if claimed == outbound.OPTED_OUT_SINCE:
        return _skip(r, mid)
    _start_on_pace(rt, mid, slot)
    return _send(rt, mid, rec)


def _start_on_pace(rt: Runtime, mid: str, slot: float) -> None:
    """Return within MAX_LATE of a reserved slot: a stalled process (GC, a busy CPU) takes a new slot
    rather than send off its pace. Never on pace: the claim is released and RQ retries later."""
    for _ in range(MAX_RESLOTS):
        if time.monotonic() - slot <= MAX_LATE:
            return
        slot = _reserve(rt, release=mid)
        _sleep_until(slot)
    outbound.release(rt.svc.redis, mid)
    raise RetryLater("could not start the send on its slot")


def _reserve(rt: Runtime, release: str | None = None) -> float:
    """A send slot as a time.monotonic() moment; none within the limiter's horizon means retry later."""
    wait = rt.limiter.reserve()
    if wait < 0:
        if release:
            outbound.release(rt.svc.redis, release)  # claimed but never sent: queued again for the retry
        raise RetryLater(f"outbound rate limit: next slot is {-wait:.1f}s away")
    return time.monotonic() + wait


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _skip(r, mid: str) -> OutState:
    outbound.finish(r, mid, OutState.SKIPPED)
    return OutState.SKIPPED


def _outside_send_window(rt: Runtime, rec: dict, at: float) -> bool:
    """A follow-up whose send window is closed at its slot (a late retry or requeue) waits for none."""
    if rec["kind"] != "followup":
        return False
    config = rt.svc.current_config()
    return followups.send_time(config, followups.recipient_zones(config, rec["to"]), at, "") != at


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
