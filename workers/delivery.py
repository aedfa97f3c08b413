"""Hand one outbound message to the provider at most once, within the global rate."""
import logging
import time

from flows import schedule
from service.phone import recipient_zones
from service.store import daily, messages, people
from service.store.messages import Kind, OutState, SendClaim
from workers.runtime import Runtime
from workers.sender import Failure, SendError

log = logging.getLogger("workers.delivery")
FAILURE_STATE = {Failure.OPTED_OUT: OutState.OPTED_OUT, Failure.UNDELIVERABLE: OutState.UNDELIVERABLE,
                 Failure.UNKNOWN: OutState.UNKNOWN, Failure.REJECTED: OutState.REJECTED}

# A send that would start more than MAX_LATE after its slot gives the slot up and takes a new one: late
# starts are what squeeze cap + 1 requests into one second at the provider.
MAX_LATE = 0.004
MAX_SLOTS = 4
STALLED_AFTER = 30  # seconds: longer than Twilio's client ever waits for an answer
_sleep = time.sleep  # a seam: tests stall a worker here


class RetryLater(Exception):
    """Nothing was sent; raising hands the job to RQ's retry with backoff."""


def deliver(rt: Runtime, mid: str) -> OutState:
    """Wait for an on-pace send slot holding nothing, then one atomic claim (which also sees a STOP or an
    erasure that came during the wait) and the provider call. Everything slow happens before the slot, so
    the gap between the reserved moment and the provider seeing the request stays small and steady, and
    the pacing margin that keeps every 1 s window under the cap can stay small too."""
    r = rt.svc.redis
    rec = messages.load(r, rt.svc.vault, mid)
    if rec is not None and rec["state"] == OutState.SENDING.value and rec["kind"] != Kind.ALERT.value:
        return _stalled(rt, mid, rec)
    if rec is None or rec["state"] != OutState.QUEUED.value:
        return OutState(rec["state"]) if rec else OutState.SKIPPED
    if not _wait_for_slot(rt, rec):
        return _skip(rt, mid)
    claimed = messages.claim(r, mid, rt.svc.now(), rec["person"])
    if claimed is SendClaim.REFUSED:
        messages.finish(r, mid, OutState.SKIPPED, _keep(rt))  # counted; an erased person's record stays gone
        return OutState.SKIPPED
    if not claimed:
        return OutState.SENDING
    return _send(rt, mid, rec)


def _stalled(rt: Runtime, mid: str, rec: dict) -> OutState:
    """A send claimed by a worker that died (SIGKILL, a lost machine) before it recorded the outcome: it
    may or may not have reached Twilio, so it is never sent again; once the claim is older than any
    provider call can take, its outcome is recorded as unknown (a broadcast's funnel can finish). Staff
    alerts are the sweeper's: a second copy beats a lost crisis alert."""
    if rt.svc.now() - float(rec.get("claimed_at") or 0) < STALLED_AFTER:
        raise RetryLater("a send in flight (or its worker just died): its outcome is looked at again shortly")
    messages.finish(rt.svc.redis, mid, OutState.UNKNOWN, _keep(rt))
    log.warning("outbound_stalled", extra={"mid": mid})
    return OutState.UNKNOWN


def _wait_for_slot(rt: Runtime, rec: dict) -> bool:
    """Sleep until an on-pace slot; False when a follow-up's send window is closed at its slot.

    A process that wakes more than MAX_LATE after its slot (GC, a busy CPU) takes a new one, a few times;
    a process that stays that slow sends on its last slot anyway: a text is never dropped for pacing."""
    window_open = _send_window(rt, rec)
    for _ in range(MAX_SLOTS):
        wait = rt.limiter.reserve()
        if wait < 0:
            raise RetryLater(f"outbound rate limit: next slot is {-wait:.1f}s away")
        slot = time.monotonic() + wait
        if not window_open(rt.svc.now() + wait):
            return False
        delay = slot - time.monotonic()
        if delay > 0:
            _sleep(delay)
        if time.monotonic() - slot <= MAX_LATE:
            break
    return True


def _keep(rt: Runtime) -> int:
    return rt.svc.config.retention_seconds


def _skip(rt: Runtime, mid: str) -> OutState:
    r = rt.svc.redis
    if messages.skip(r, mid):  # only if still queued: a twin job may have sent it meanwhile
        messages.finish(r, mid, OutState.SKIPPED, _keep(rt))
        return OutState.SKIPPED
    return messages.state_of(r, mid) or OutState.SKIPPED


def _send_window(rt: Runtime, rec: dict):
    """Whether a moment is inside the recipient's send window: always for staff alerts and the
    simulator's people; for a follow-up (a late retry or requeue may reach a closed window)
    settings and time zones are read once, here, before any slot is reserved, so checking a slot costs
    no I/O."""
    if rec["kind"] not in (Kind.FOLLOWUP.value, Kind.BROADCAST.value) or rec.get("simulated") == "1":
        return lambda at: True
    config = rt.svc.current_config()
    rules, zones = config.send_rules(), recipient_zones(rec["to"], config.timezone)
    return lambda at: schedule.in_window(rules, zones, at)


def _send(rt: Runtime, mid: str, rec: dict) -> OutState:
    r = rt.svc.redis
    try:
        sent = rt.sender_for(rec).send(rec["to"], rec["body"], rec.get("content"))
    except SendError as exc:
        if exc.failure is Failure.RETRY:
            messages.release(r, mid)
            raise RetryLater(str(exc)) from None
        state = FAILURE_STATE[exc.failure]
        messages.finish(r, mid, state, _keep(rt), code=exc.code)
        _stop_texting(rt, rec["person"], exc.failure, mid)
        log.warning("outbound_failed", extra={"mid": mid, "state": state.value, "code": exc.code})
        return state
    messages.finish(r, mid, OutState.SENT, _keep(rt), sent.provider_sid)
    log.info("outbound_sent", extra={"mid": mid, "provider_sid": sent.provider_sid})
    return OutState.SENT


def _stop_texting(rt: Runtime, person: str, failure: Failure, mid: str) -> None:
    """The carrier's word overrides ours: 21610 is an opt-out, a dead number gets nothing more."""
    if not person:
        return
    if failure is Failure.OPTED_OUT:
        now = rt.svc.now()
        people.carrier_opt_out(rt.svc.redis, person, mid, now, daily.day_of(now, rt.svc.current_config().timezone))
    elif failure is Failure.UNDELIVERABLE:
        people.mark_undeliverable(rt.svc.redis, person, rt.svc.now())
