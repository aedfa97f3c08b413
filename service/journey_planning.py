"""A contact's journey events made real: which of the published journeys they are in (a date field
set, the group if the journey names one, consent to outreach), each event's due time in their zone and
send hours (flows.journeys), planned as compact ids (store.journeys). Replanning after any change keeps
the events that still stand (even one held past its raw time by the send window) and drops the rest:
no event of a superseded date survives."""
from flows import fields
from flows.journeys import plan
from flows.model import FlowSet
from service.config import Config
from service.phone import recipient_zones
from service.store import daily, journeys
from service.store.contacts import Contact
from service.store.journeys import EventId


def desired(flowset: FlowSet, config: Config, contact: Contact, existing: dict[str, float],
            now: float) -> tuple[dict[str, float], int]:
    """{event id: due} for every event the contact should have planned now, and how many events the send
    hours would have made late (dropped). `existing`: their planned ids with due times."""
    if not contact.outreach_allowed or not contact.number:
        return {}, 0
    zones = recipient_zones(contact.number, config.timezone)
    out, dropped = {}, 0
    for journey in flowset.journeys.values():
        value = contact.fields.get(journey.field)
        if not value or (journey.group and journey.group not in contact.groups):
            continue
        kind = flowset.program.fields[journey.field]
        stamp = int(fields.moment(kind, value, zones[0]).timestamp())
        found, late = plan(journey, kind, value, zones[0], zones, config.send_rules(), now,
                           f"{contact.pk}:{journey.name}")
        dropped += late
        ids = {str(EventId(contact.pk, journey.name, journey.version, p.event, stamp)): p.due for p in found}
        for i, event in enumerate(journey.events):  # held past its time by the send window, not yet sent
            eid = str(EventId(contact.pk, journey.name, journey.version, i, stamp))
            if eid in existing and eid not in ids:
                ids[eid] = existing[eid] or now
        out.update(ids)
    return out, dropped


def planned_ids(r, pk: str) -> dict[str, float]:
    """The person's planned ids and their due times (read before a transaction's MULTI); one already
    handed to a worker (no longer in the due set) counts as due now."""
    before = journeys.planned_of(r, pk)
    due = journeys.due_times(r, before)
    return {eid: due.get(eid, 0.0) for eid in before}


def replan_into(pipe, flowset: FlowSet, config: Config, contact: Contact, existing: dict[str, float], now: float,
                day: str = "") -> int:
    """Write the contact's plan (pipe in MULTI, WATCHing their contact); returns how many are planned. A
    simulator's person is planned on their own clock (contact.ahead): from their now, each new event as
    much sooner on the real clock."""
    ahead = contact.ahead
    after, dropped = desired(flowset, config, contact, {e: d + ahead for e, d in existing.items()}, now + ahead)
    after = {e: (existing[e] if e in existing else max(now, due - ahead)) for e, due in after.items()}
    journeys.replace_plan(pipe, contact.pk, tuple(existing), after)
    if dropped and day:
        daily.count(pipe, day, "journey_events_dropped", dropped)
    return len(after)
