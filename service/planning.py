"""A decision's follow-up changes made real: pending sends dropped (all of them, or a question's
timeout) and new ones scheduled at their first moment in the send window (flows.schedule), stored in
the compact schedule (store.followups). The webhook and the follow-up worker both plan this way; and
what is waiting to be sent to a person, as the console shows it."""
from dataclasses import dataclass

from flows import schedule
from flows.engine import Consent, Decision
from service.config import Config
from service.phone import recipient_zones
from flows.model import FlowSet
from service.store import conversations, daily, followups, journeys, keys
from service.store.followups import FollowUpId
from service.store.journeys import EventId


@dataclass(frozen=True)
class Waiting:
    kind: str  # followup, timeout, journey
    id: str
    flow: str  # a journey's name, for a journey event
    step: str | int  # a step's name, a follow-up's place in its flow, or a journey event's place
    due: float | None  # None: handed to a worker already


def waiting(r, flows: FlowSet, pk: str, with_journeys: bool = False) -> list[Waiting]:
    """What the bot will send this person later: their follow-ups, the waiting question's timeout, and
    (with_journeys) their planned journey events; soonest first."""
    fids = followups.pending_of(r, pk)
    due = followups.due_times(r, fids)
    found = [Waiting("followup", fid, step.flow, step.step, due.get(fid))
             for fid, step in ((fid, FollowUpId.parse(fid)) for fid in fids)]
    conversation = conversations.decode(r.hget(keys.of(r).contact(pk), conversations.FIELD))
    timeout = followups.timeout_of(r, pk)
    flow = flows.flows.get(conversation.flow) if conversation else None
    step = flow.step(conversation.step) if flow else None
    if timeout is not None and step is not None and step.timeout is not None:
        found.append(Waiting("timeout", pk, flow.name, step.timeout.go, timeout))
    if with_journeys:
        planned = journeys.planned_of(r, pk)
        found += [Waiting("journey", eid, event.journey, event.event, when)
                  for eid, when in journeys.due_times(r, planned).items() for event in (EventId.parse(eid),)]
    return sorted(found, key=lambda w: (w.due or 0, w.id))


def replan(config: Config, pipe, pk: str, e164: str, pending: tuple[str, ...], decision: Decision,
           now: float, day: str = "") -> tuple[str, ...]:
    """The person's pending sends after this decision: dropped (all, or a question's timeout), and new
    ones scheduled; returns the ids still pending. With `day`, what was held back is counted there (the
    insights: follow-ups an opt-out cancelled, ones past the horizon before they were planned)."""
    stop_all = decision.cancel_followups or decision.consent is Consent.OPTED_OUT
    keep = () if stop_all else pending
    if keep != pending:
        followups.cancel(pipe, pk, pending, keep)
        if day and decision.consent is Consent.OPTED_OUT:
            daily.count(pipe, day, "followups_held:opted_out", len(pending))
    if stop_all or decision.cancel_timeout:
        followups.clear_timeout(pipe, pk)
    if decision.schedule:
        schedule_followups(config, pipe, pk, e164, decision.schedule, now, keep, day)
    return keep


def schedule_followups(config: Config, pipe, pk: str, e164: str, items, now: float,
                       keep: tuple[str, ...] = (), day: str = "") -> None:
    """Each follow-up at its first moment in the send window, unless that is past the horizon (counted
    on `day` when given)."""
    rules, zones, due = config.send_rules(), recipient_zones(e164, config.timezone), {}
    for item in items:
        fid = str(FollowUpId(pk, item.flow, item.step, int(now)))
        when = now + item.after.total_seconds() if item.silent else \
            schedule.first_due(rules, zones, now, item.after.total_seconds(), fid)  # a silent step sends no text
        if when is None and day:
            daily.count(pipe, day, "followups_held:horizon")
        if when is not None and item.timeout:
            followups.set_timeout(pipe, pk, when)
        elif when is not None:
            due[fid] = when
    followups.add(pipe, pk, due, keep)
