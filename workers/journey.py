"""Send one due journey event, after re-reading everything that may have changed since it was planned:
the event still planned (not superseded), the field's date still the one it was planned from (an event
of a moved appointment is never sent), the journey still published in that version, consent to
outreach, the group, a staff hold or an open crisis (it waits), the send hours in the recipient's zone.
A text event is one text; a flow event sends the flow's first step and the conversation goes on like
any other. Journey texts don't count against FOLLOWUPS_PER_WEEK. One WATCHed transaction: a STOP or a
new date landing meanwhile wins."""
from dataclasses import replace
from datetime import datetime

from redis import WatchError

from flows import fields, schedule
from flows.checks import unprompted
from flows.decision import Decision, Texter
from flows.engine import send_step
from flows.matching import Intent
from service import channels, journey_planning, queues
from service.phone import recipient_zones
from service.store import contacts, conversations, crises, daily, flowdocs, followups, holds, journeys, keys, messages
from service.store.journeys import EventId
from workers.delivery import deliver
from workers.followup import Outcome, Plan, record_sent
from workers.followup import callback as followup_callback
from workers.runtime import Runtime

RECHECK_SECONDS = holds.RECHECK_SECONDS  # held by staff, or in an open crisis: looked at again this much later
DISCLOSED = "disclosed"  # contact field: outreach has told them who we are, what it costs and how to stop


def message_id(eid: str, part: int = 0) -> str:
    return "jn_" + eid.replace(":", "_").replace("@", "").replace(".", "_") + (f"__{part}" if part else "")


def send_event(rt: Runtime, eid: str) -> Outcome:
    if messages.exists(rt.svc.redis, message_id(eid)):
        _deliver_all(rt, eid)
        return Outcome.HANDED_OVER
    plan = _prepare(rt, EventId.parse(eid), eid, rt.svc.now())
    if plan.outcome is Outcome.SENT:
        if plan.callback:
            alerts = [f"alert_{source(eid)}_{i}" for i in range(len(rt.svc.current_config().staff_alert_numbers))]
            queues.enqueue_messages(rt.svc.redis, alerts, rt.svc.now())
        _deliver_all(rt, eid)
    return plan.outcome


def _deliver_all(rt: Runtime, eid: str) -> None:
    part = 0
    while messages.exists(rt.svc.redis, message_id(eid, part)):
        deliver(rt, message_id(eid, part))
        part += 1


def _prepare(rt: Runtime, ev: EventId, eid: str, now: float) -> Plan:
    with rt.svc.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(keys.of(pipe).contact(ev.person))
                existing = journey_planning.planned_ids(pipe, ev.person)
                plan, contact = _check(rt, pipe, ev, eid, existing, now)
                pipe.multi()
                _apply(rt, pipe, ev, eid, now, plan, contact, existing)
                pipe.execute()
                return plan
            except WatchError:
                continue


def _check(rt: Runtime, r, ev: EventId, eid: str, existing: dict, now: float):
    k = keys.of(r)
    svc = rt.svc
    cfg = svc.current_config()
    contact = contacts.read(r, svc.vault, ev.person)
    flows = svc.source.for_version(r, flowdocs.published_version(r))
    journey = flows.journeys.get(ev.journey)
    if contact is None or eid not in existing:
        return Plan(Outcome.SUPERSEDED), contact
    zones = recipient_zones(contact.number, cfg.timezone)
    value = contact.fields.get(journey.field) if journey else None
    kind = flows.program.fields.get(journey.field) if journey else None
    if journey is None or journey.version != ev.version or not value or ev.event >= len(journey.events) \
            or int(fields.moment(kind, value, zones[0]).timestamp()) != ev.stamp:
        return Plan(Outcome.SUPERSEDED), contact  # replanned from what stands now (in _apply)
    if not contact.outreach_allowed or (journey.group and journey.group not in contact.groups):
        return Plan(Outcome.OPTED_OUT), contact
    if r.hget(k.contact(ev.person), holds.FIELD) is not None or crises.open_of(r, ev.person):
        return Plan(Outcome.HELD, now + RECHECK_SECONDS), contact
    if r.hget(k.contact(ev.person), "undeliverable") is not None:
        return Plan(Outcome.UNDELIVERABLE), contact
    when = fields.moment(kind, value, zones[0]).timestamp()
    if journey.events[ev.event].offset.total_seconds() < 0 and now >= when:
        return Plan(Outcome.EXPIRED), contact  # held (staff, a crisis, a backlog) past the moment it leads up to
    rules = cfg.send_rules() if not contact.simulated else None
    if rules is not None and not schedule.in_window(rules, zones, now):
        due = schedule.send_time(rules, zones, now, eid)
        if journey.events[ev.event].offset.total_seconds() < 0 and due >= when:
            return Plan(Outcome.EXPIRED), contact  # a reminder that could only go out after the appointment
        return Plan(Outcome.DEFERRED, due, held="send_hours"), contact
    decision = _decision(rt, flows, journey, ev, contact, zones, kind, now, cfg)
    if decision is None:
        return Plan(Outcome.GONE), contact
    if contact.consent is None and r.hget(k.contact(ev.person), DISCLOSED) is None and decision.replies:
        # the first text to someone who never texted us says who we are, what it costs and how to stop
        first = decision.replies[0] + "\n\n" + flows.message("disclosure", contact.language)
        decision = replace(decision, replies=(first, *decision.replies[1:]))
    decision = channels.fit(decision, contact.number, contact.last_message_at, now)
    if decision is None:  # WhatsApp after its 24-hour window, and no approved template: held, counted
        return Plan(Outcome.WINDOW_CLOSED), contact
    return Plan(Outcome.SENT, phone=contact.number, decision=decision, simulated=contact.simulated,
                version=flowdocs.published_version(r) or 0, pending=followups.pending_of(r, ev.person),
                callback=decision.callback and r.hget(k.contact(ev.person), "open_callback") is None), contact


def _decision(rt: Runtime, flows, journey, ev: EventId, contact, zones, kind, now: float, cfg) -> Decision | None:
    language = contact.language or flows.program.default_language
    said = {name: fields.display(flows.program.fields[name], value, zones[0], language, flows.languages)
            for name, value in contact.fields.items() if name in flows.program.fields}
    event = journey.events[ev.event]
    if event.text is not None:
        text, template = flows.filled(event, contact.language, lambda t: flows.render(
            t, language=contact.language, **{name: said.get(name, "") for name in flows.program.fields}))
        return Decision(Intent.FLOW, (unprompted(text, language, flows.languages),),
                        sources=(f"{journey.name}/event-{ev.event + 1}",), templates=(template,))
    flow = flows.flows.get(event.flow)
    if flow is None:
        return None
    conversation = conversations.decode(rt.svc.redis.hget(keys.of(rt.svc.redis).contact(ev.person), conversations.FIELD))
    texter = Texter(first_contact=False, language=contact.language, fields=said, conversation=conversation)
    return send_step(flows, rt.svc.policy_for(cfg), texter, flow.name, flow.start, datetime.fromtimestamp(now, cfg.timezone))


def _apply(rt: Runtime, pipe, ev: EventId, eid: str, now: float, plan: Plan, contact, existing: dict) -> None:
    svc = rt.svc
    cfg = svc.current_config()
    day = "" if contact is None or contact.simulated else daily.day_of(now, cfg.timezone)
    if plan.outcome in (Outcome.DEFERRED, Outcome.HELD):
        journeys.defer(pipe, eid, plan.due)
        return
    journeys.done(pipe, ev.person, eid)
    if day:
        daily.count(pipe, day, f"journey_events:{plan.outcome.value}")
    if plan.outcome is Outcome.SUPERSEDED and contact is not None:  # a new date, a new version: plan afresh
        journey_planning.replan_into(pipe, svc.flows(), cfg, contact, {k: v for k, v in existing.items() if k != eid},
                                     now, day)
    if plan.outcome is not Outcome.SENT:
        return
    record_sent(rt, pipe, ev.person, lambda part: message_id(eid, part), plan, plan.pending, now)
    if not plan.decision.templates:  # an approved template carries no disclosure: the next free-form text does
        pipe.hset(keys.of(pipe).contact(ev.person), DISCLOSED, 1)
    if plan.callback:
        followup_callback(rt, pipe, ev.person, source(eid), plan, now)


def replan(rt: Runtime, pk: str) -> int:
    """Plan a person's events from what stands now, in one WATCHed transaction; how many are planned."""
    svc = rt.svc
    with svc.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(keys.of(pipe).contact(pk))
                contact = contacts.read(pipe, svc.vault, pk)
                if contact is None:
                    return 0
                existing = journey_planning.planned_ids(pipe, pk)
                pipe.multi()
                cfg = svc.current_config()
                count = journey_planning.replan_into(pipe, svc.flows(), cfg, contact, existing, svc.now(),
                                                     "" if contact.simulated else daily.day_of(svc.now(), cfg.timezone))
                pipe.execute()
                return count
            except WatchError:
                continue


def replan_everyone(rt: Runtime, batch: int = 500) -> int:
    """Every contact's journey events planned again (after a publish changed the journeys), in batches,
    each a WATCHed transaction; how many events are planned in all."""
    svc, start, planned = rt.svc, 0, 0
    while True:
        pks, _ = contacts.known(svc.redis, start, batch)
        if not pks:
            return planned
        planned += _replan_batch(rt, pks)
        start += batch


def _replan_batch(rt: Runtime, pks: list[str]) -> int:
    svc = rt.svc
    cfg, flows, now = svc.current_config(), svc.flows(), svc.now()
    day = daily.day_of(now, cfg.timezone)
    with svc.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(*(keys.of(pipe).contact(pk) for pk in pks))
                found = contacts.read_batch(svc.redis, svc.vault, pks)
                pipe.multi()
                count = sum(journey_planning.replan_into(pipe, flows, cfg, contact, existing, now,
                                                         "" if contact.simulated else day)
                            for contact, existing, _ in found.values() if contact is not None)
                pipe.execute()
                return count
            except WatchError:
                continue


def source(eid: str) -> str:
    """What a call back or a staff alert a journey event caused is named after."""
    return "jrn_" + message_id(eid)[3:]
