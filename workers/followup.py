"""Send one due follow-up, after re-reading everything that may have changed since it was scheduled."""
import time
from dataclasses import dataclass
from enum import Enum

from redis import WatchError

from flows.engine import Consent
from service import followups, outbound, store
from service.followups import FollowUpId
from workers.delivery import deliver
from workers.runtime import Runtime

WEEK = 7 * 86400


class Outcome(str, Enum):
    SENT = "sent"
    SUPERSEDED = "superseded"
    OPTED_OUT = "opted_out"
    UNDELIVERABLE = "undeliverable"
    EXPIRED = "expired"
    DEFERRED = "deferred"
    HANDED_OVER = "handed_over"  # already turned into a message: delivery decides


@dataclass(frozen=True)
class Plan:
    outcome: Outcome
    due: float | None = None
    phone: str = ""
    text: str = ""
    sent: tuple[int, ...] = ()


def message_id(fid: str) -> str:
    return "fu_" + fid.replace(":", "_")


def send_followup(rt: Runtime, fid: str, now: float | None = None) -> Outcome:
    mid = message_id(fid)
    if rt.svc.redis.exists(outbound.message_key(mid)):
        deliver(rt, mid, now)
        return Outcome.HANDED_OVER
    outcome = _prepare(rt, FollowUpId.parse(fid), fid, mid, time.time() if now is None else now)
    if outcome is Outcome.SENT:
        deliver(rt, mid, now)  # None: delivery checks the window on the clock after the rate-limit wait
    return outcome


def _prepare(rt: Runtime, fu: FollowUpId, fid: str, mid: str, now: float) -> Outcome:
    """Check and hand over in one WATCHed transaction, so a STOP landing meanwhile wins."""
    key = store.contact_key(fu.person)
    with rt.svc.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                plan = _check(rt, pipe, fu, fid, now)
                pipe.multi()
                _apply(rt, pipe, fu, fid, mid, now, plan)
                pipe.execute()
                return plan.outcome
            except WatchError:
                continue


def _check(rt: Runtime, r, fu: FollowUpId, fid: str, now: float) -> Plan:
    cfg, vault = rt.svc.current_config(), rt.svc.vault
    consent, pending, undeliverable, sent, phone = r.hmget(
        store.contact_key(fu.person), "consent", followups.FIELD, "undeliverable", "followups_sent", "phone")
    text = _text(rt, fu)
    if fid not in (pending or b"").decode().split() or text is None or not phone:
        return Plan(Outcome.SUPERSEDED)
    if consent and consent.decode() == Consent.OPTED_OUT.value:
        return Plan(Outcome.OPTED_OUT)
    if undeliverable:
        return Plan(Outcome.UNDELIVERABLE)
    recent = tuple(sorted(int(t) for t in (sent or b"").decode().split() if int(t) > now - WEEK))
    earliest = now if len(recent) < cfg.followups_per_week else recent[-cfg.followups_per_week] + WEEK
    number = vault.decrypt(phone)
    due = followups.send_time(cfg, followups.recipient_zones(cfg, number), earliest, fid)
    if due > fu.scheduled_at + cfg.followup_horizon_days * 86400:
        return Plan(Outcome.EXPIRED)
    if due > now + 1:
        return Plan(Outcome.DEFERRED, due)
    return Plan(Outcome.SENT, phone=number, text=text, sent=recent)


def _apply(rt: Runtime, pipe, fu: FollowUpId, fid: str, mid: str, now: float, plan: Plan) -> None:
    if plan.outcome is Outcome.DEFERRED:
        pipe.zadd(followups.DUE, {fid: plan.due})
        return
    followups.remove(pipe, fu.person, fid)
    if plan.outcome is Outcome.SENT:
        outbound.create(pipe, rt.svc.vault, mid, plan.phone, plan.text, "followup", fu.person, now)
        pipe.hset(store.contact_key(fu.person), "followups_sent", " ".join(map(str, (*plan.sent, int(now)))))


def _text(rt: Runtime, fu: FollowUpId) -> str | None:
    flows = rt.svc.flows()
    flow = flows.flows.get(fu.flow)
    if flow is None or fu.step >= len(flow.followups):
        return None
    return flows.render(flow.followups[fu.step].text)
