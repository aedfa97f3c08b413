"""A simulated person's clock: what is pending for a fictional number (follow-ups, the waiting question's
timeout, journey events), when each would go out for a real person, and moving their clock ahead so what
falls due is handed to the workers now.

The stored due times stay on the real clock; the person's clock is the real one plus how far staff moved
it (store.simclock). Moving it by N seconds brings each pending item N seconds closer, so an item's time on
the person's clock is always its stored due time plus that offset, whatever was planned before or after."""
import math
from dataclasses import dataclass
from datetime import datetime

from flows import schedule
from service import contacts as contact_rules
from service.phone import is_fictional, recipient_zones
from service.runtime import Services
from service.store import conversations, followups, journeys, keys, people, simclock
from service.store.followups import FollowUpId
from service.store.journeys import EventId

HOUR, DAY = 3600, 86400


@dataclass(frozen=True)
class Pending:
    id: str
    kind: str  # followup, timeout, journey
    label: str
    due: float  # on the real clock, as stored
    at: float  # on the person's clock (due + ahead)
    real: float  # when it would go out for a real person: `at` moved into the send hours of their zones


def pending(svc: Services, pk: str, number: str) -> list[Pending]:
    """Everything the bot will send this person later, soonest first."""
    r, flows = svc.redis, svc.flows()
    ahead = simclock.ahead(r, pk)
    cfg = svc.current_config()
    zones = recipient_zones(number, cfg.timezone)
    items = []
    fids = followups.pending_of(r, pk)
    for fid, due in followups.due_times(r, fids).items():
        step = FollowUpId.parse(fid)
        items.append(("followup", fid, _step_label(step.flow, step.step), due))
    conversation = conversations.decode(r.hget(keys.contact(pk), conversations.FIELD))
    timeout = followups.timeout_of(r, pk)
    flow = flows.flows.get(conversation.flow) if conversation else None
    step = flow.steps.get(conversation.step) if flow else None
    if timeout is not None and step is not None and step.timeout is not None:
        items.append(("timeout", pk, f"{flow.name}/{step.timeout.go}", timeout))
    eids = journeys.planned_of(r, pk)
    for eid, due in journeys.due_times(r, eids).items():
        event = EventId.parse(eid)
        items.append(("journey", eid, f"journey {event.journey}, event {event.event + 1}", due))
    out = [Pending(i, kind, label, due, due + ahead,
                   schedule.send_time(cfg.send_rules(), zones, due + ahead, i)) for kind, i, label, due in items]
    return sorted(out, key=lambda p: (p.due, p.id))


def now_of(svc: Services, pk: str) -> float:
    """The person's clock."""
    return svc.now() + simclock.ahead(svc.redis, pk)


def zone_of(svc: Services, number: str):
    return recipient_zones(number, svc.current_config().timezone)[0]


def gap_to_next(svc: Services, pk: str, number: str) -> int | None:
    """Seconds until the next pending item falls due (0 when one already has), None with nothing pending."""
    items = pending(svc, pk, number)
    return max(0, math.ceil(items[0].due - svc.now())) if items else None


def advance(svc: Services, pk: str, number: str, seconds: int) -> list[Pending]:
    """Move a fictional person's clock `seconds` ahead: every pending item comes that much closer, and what
    falls due goes to the workers (a timeout only after its question was asked). Returns what fell due."""
    if not is_fictional(number):
        raise ValueError("only a simulator's fictional number has a clock of its own")
    now, items = svc.now(), pending(svc, pk, number)
    conversation = conversations.decode(svc.redis.hget(keys.contact(pk), conversations.FIELD))
    fired = [p for p in items if p.due - seconds <= now]
    pipe = svc.redis.pipeline()
    for p in items:
        due = max(now, p.due - seconds)
        if p.kind == "followup":
            followups.defer(pipe, p.id, due)
        elif p.kind == "journey":
            journeys.defer(pipe, p.id, due)
        elif conversation is not None:  # a timeout fires only after the question was asked
            followups.set_timeout(pipe, pk, max(due, int(conversation.since) + 1))
    simclock.move(pipe, pk, seconds)
    pipe.execute()
    return fired


def set_contact(svc: Services, number: str, change: contact_rules.Change) -> contact_rules.Outcome:
    """The contact set on the person's clock: their journeys planned from their now, and each new event
    brought as much closer on the real clock as their clock is ahead."""
    if not is_fictional(number):
        raise ValueError("only a simulator's fictional number plays a contact")
    pk, r = svc.vault.person_key(number), svc.redis
    people.mark_simulated(r, pk)
    ahead, before = simclock.ahead(r, pk), set(journeys.planned_of(r, pk))
    outcome, _ = contact_rules.apply(svc, number, change, svc.now() + ahead)
    new = tuple(e for e in journeys.planned_of(r, pk) if e not in before)
    if ahead and new:
        pipe = r.pipeline()
        for eid, due in journeys.due_times(r, new).items():
            journeys.defer(pipe, eid, max(svc.now(), due - ahead))
        pipe.execute()
    return outcome


def iso(svc: Services, number: str) -> str:
    """The person's now as ISO 8601 with its offset."""
    pk = svc.vault.person_key(number)
    return datetime.fromtimestamp(now_of(svc, pk), zone_of(svc, number)).isoformat(timespec="seconds")


def local(moment: float, zone) -> str:
    """"Thu Nov 26, 9:00 AM" in the person's zone."""
    return datetime.fromtimestamp(moment, zone).strftime("%a %b %d, %I:%M %p").replace(" 0", " ")


def _step_label(flow: str, step) -> str:
    return f"{flow}/{step}" if isinstance(step, str) else f"{flow}, follow-up {step + 1}"


def span(seconds: float) -> str:
    """"1 hour", "2 days 3 hours", "5 minutes"."""
    days, rest = divmod(int(seconds), DAY)
    hours, rest = divmod(rest, HOUR)
    parts = [(days, "day"), (hours, "hour")] if days or hours else [(max(1, round(rest / 60)) if rest else 0, "minute")]
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n or len(parts) == 1)
