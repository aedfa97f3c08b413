"""Send one due follow-up, after re-reading everything that may have changed since it was scheduled."""
from dataclasses import dataclass
from enum import Enum

from redis import WatchError

from flows import schedule
from flows.engine import Consent
from flows.schedule import SendRules, Timing
from flows.hours import parse_weekly
from service.phone import recipient_zones
from service.store import followups, keys, messages
from service.store.followups import FollowUpId
from service.store.messages import Kind
from workers.delivery import deliver
from workers.runtime import Runtime

ALWAYS = parse_weekly("Mon-Sun 00:00-24:00")  # the simulator's people wait for no window


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
    simulated: bool = False


def message_id(fid: str) -> str:
    return "fu_" + fid.replace(":", "_")


def send_followup(rt: Runtime, fid: str) -> Outcome:
    mid = message_id(fid)
    if messages.exists(rt.svc.redis, mid):
        deliver(rt, mid)
        return Outcome.HANDED_OVER
    outcome = _prepare(rt, FollowUpId.parse(fid), fid, mid, rt.svc.now())
    if outcome is Outcome.SENT:
        deliver(rt, mid)  # delivery checks the window again at its rate-limit slot
    return outcome


def _prepare(rt: Runtime, fu: FollowUpId, fid: str, mid: str, now: float) -> Outcome:
    """Check and hand over in one WATCHed transaction, so a STOP landing meanwhile wins."""
    key = keys.contact(fu.person)
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
    consent, pending, undeliverable, sent, phone, simulated = r.hmget(
        keys.contact(fu.person), "consent", followups.FIELD, "undeliverable", "followups_sent", "phone", "simulated")
    text = _text(rt, fu)
    if fid not in (pending or b"").decode().split() or text is None or not phone:
        return Plan(Outcome.SUPERSEDED)
    if consent and consent.decode() == Consent.OPTED_OUT.value:
        return Plan(Outcome.OPTED_OUT)
    if undeliverable:
        return Plan(Outcome.UNDELIVERABLE)
    number = vault.decrypt(phone)
    history = tuple(int(t) for t in (sent or b"").decode().split())
    slot = schedule.next_slot(_rules(cfg, bool(simulated)), recipient_zones(number, cfg.timezone), fu.scheduled_at,
                              history, now, fid)
    if slot.timing is Timing.EXPIRED:
        return Plan(Outcome.EXPIRED)
    if slot.timing is Timing.LATER:
        return Plan(Outcome.DEFERRED, slot.at)
    return Plan(Outcome.SENT, phone=number, text=text, sent=schedule.recent_sends(history, now),
                simulated=bool(simulated))


def _rules(cfg, simulated: bool) -> SendRules:
    rules = cfg.send_rules()
    return SendRules(ALWAYS, rules.center_zone, rules.per_week, rules.horizon_days) if simulated else rules


def _apply(rt: Runtime, pipe, fu: FollowUpId, fid: str, mid: str, now: float, plan: Plan) -> None:
    if plan.outcome is Outcome.DEFERRED:
        followups.defer(pipe, fid, plan.due)
        return
    followups.remove(pipe, fu.person, fid)
    if plan.outcome is Outcome.SENT:
        messages.create(pipe, rt.svc.vault, mid, plan.phone, plan.text, Kind.FOLLOWUP, fu.person, now, plan.simulated)
        pipe.hset(keys.contact(fu.person), "followups_sent", " ".join(map(str, (*plan.sent, int(now)))))


def _text(rt: Runtime, fu: FollowUpId) -> str | None:
    flows = rt.svc.flows()
    flow = flows.flows.get(fu.flow)
    if flow is None or fu.step >= len(flow.followups):
        return None
    return flows.render(flow.followups[fu.step].text)
