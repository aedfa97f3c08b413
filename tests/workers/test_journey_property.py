"""A property of journeys, whatever happens in whatever order: no event of a superseded date, and none
after a STOP or an erasure, is ever sent.

Hypothesis draws a sequence of what the center and the person do to one contact (a new date, the same
date again, the date cleared, STOP, START, erasure) interleaved with the clock moving and its tick putting
due events into RQ, the jobs being run (late, after later changes), and old jobs run again. Each job
that sends is checked against a model of what stands at that moment. In-process: real Redis, the
outbox sender, a ManualClock."""
from datetime import datetime, time, timedelta, timezone

from hypothesis import HealthCheck, event, example, given, settings, strategies as st

from service import contacts as contact_rules
from service.erase import erase_person
from service.store import journeys, outbox
from service.store.journeys import EventId
from tests.conftest import NOON, NY, Phone
from tests.workers.test_journeys import EVIDENCE, Center
from workers.followup import Outcome
from workers.journey import send_event

NUMBER = "+16175550123"
# a date is drawn relative to the day it is set on: (days ahead, local time in New York, the offset it is written with)
DATE = st.tuples(st.sampled_from([1, 2, 3]), st.sampled_from(["14:30", "09:30", "16:00", "11:00"]),
                 st.sampled_from(["-05:00", "-08:00", "+00:00"]))
STEPS = [86400, 12 * 3600, 4 * 3600, 3600, 600]  # (Hypothesis favours the first: a day)
ARGS = {
    "set": DATE,
    "advance": st.sampled_from(STEPS),  # the clock moves, its tick queues what is due and the workers run it
    "tick": st.sampled_from(STEPS),  # the clock moves and its tick queues what is due; the workers are busy
    "work": st.none(),  # the workers run what is queued (maybe long after it was queued)
    "clear": st.none(), "stop": st.none(), "start": st.none(), "erase": st.none(),
    "stale": st.integers(0, 10_000),  # a job the tick ever queued runs again, late
}
KINDS = ["set", "advance", "tick", "work", "stale", "set", "advance", "stale", "advance", "tick", "set", "advance",
         "clear", "stop", "start", "erase"]  # weighted: enough time passes with a date set for texts to go out
ops = st.sampled_from(KINDS).flatmap(lambda kind: st.tuples(st.just(kind), ARGS[kind]))


def stamp(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp())


def date_value(now: float, drawn: tuple[int, str, str] | str) -> str:
    """The appointment a "set" writes: `drawn` days after today at that New York time (or a literal value)."""
    if isinstance(drawn, str):
        return drawn
    days, clock, offset = drawn
    day = datetime.fromtimestamp(now, NY).date() + timedelta(days=days)
    moment = datetime.combine(day, time.fromisoformat(clock), tzinfo=NY)
    return moment.astimezone(timezone(timedelta(hours=int(offset[:3])))).isoformat()


class Model:
    """What stands for the contact now, as the center and the person made it."""

    def __init__(self):
        self.value: str | None = None  # the appointment the center set last (None: cleared, or erased)
        self.opted_out = False  # a STOP, until their own START (an erasure keeps it)
        self.erased = False
        # set again after an erasure while opted out: events are planned (and refused when due), see
        # tests/workers/test_journeys.py::test_a_contact_set_again_after_stop_and_erasure_has_nothing_planned
        self.replanned_while_opted_out = False

    def may_send(self, eid: str) -> bool:
        return self.value is not None and not self.opted_out and EventId.parse(eid).stamp == stamp(self.value)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ops, min_size=6, max_size=30).flatmap(
    lambda rest: DATE.map(lambda first: [("set", first), *rest])))  # a date first: the rest races it
# an old date's reminder queued, the date moved (its reminder at the same time), then the workers run
@example([("set", (2, "09:30", "-05:00")), ("tick", 86400), ("set", (1, "16:00", "-05:00")), ("work", None),
          ("stale", 0), ("stale", 1)])
# STOP with a job queued, START, the same job run late
@example([("set", (3, "11:00", "-05:00")), ("tick", 86400), ("tick", 86400), ("stop", None), ("start", None),
          ("work", None), ("stale", 0), ("advance", 86400), ("work", None)])
# erased with a job queued, set again to the same date: the same id stands again and may go
@example([("set", (2, "16:00", "-05:00")), ("tick", 86400), ("erase", None), ("work", None),
          ("set", (1, "16:00", "-05:00")), ("work", None), ("stale", 0), ("advance", 86400)])
# cleared and set again, a STOP between the tick and the work
@example([("set", (1, "14:30", "-05:00")), ("clear", None), ("set", (1, "14:30", "-08:00")), ("tick", 3600),
          ("tick", 86400), ("stop", None), ("work", None), ("start", None), ("work", None), ("advance", 86400),
          ("work", None)])
def test_no_event_of_a_superseded_date_or_after_stop_or_erasure_is_ever_sent(app, redis, clock, steps):
    redis.flushdb()
    clock.set(NOON)
    center = Center(app, None)
    svc, vault = center.svc, center.svc.vault
    pk = vault.person_key(NUMBER)
    phone = Phone(center.client, NUMBER)
    model, checked, sent = Model(), 0, 0  # sent: since the last erasure (it takes the outbox's copies too)

    def check_new_outcomes():
        nonlocal checked, sent
        for eid, outcome in center.outcomes[checked:]:
            if "@" not in eid:
                continue  # a follow-up of a conversation a journey started (the confirm's timeout)
            if outcome is Outcome.SENT:
                assert model.may_send(eid), (eid, model.value, model.opted_out, steps)
                sent += 1
        checked = len(center.outcomes)

    for step in steps:
        kind = step[0]
        if kind == "set":
            value = date_value(center.now, step[1])
            contact_rules.apply(svc, NUMBER, contact_rules.Change(fields={"appointment_at": value},
                                                                  consent=EVIDENCE), center.now)
            model.value = value
            model.replanned_while_opted_out |= model.erased and model.opted_out
            model.erased = False
        elif kind == "clear":
            contact_rules.apply(svc, NUMBER, contact_rules.Change(fields={"appointment_at": None}), center.now)
            model.value = None
        elif kind == "stop":
            phone.text("STOP")
            model.opted_out = True
        elif kind == "start":
            phone.text("START")
            model.opted_out = model.replanned_while_opted_out = False
        elif kind == "erase":
            erase_person(svc, pk)
            model.value, model.erased, sent = None, True, 0
        elif kind in ("advance", "tick"):
            center.at(center.now + step[1])
            center.dispatch()
            if kind == "advance":
                center.run_jobs()
        elif kind == "work":
            center.run_jobs()
        elif kind == "stale":
            queued = sorted(a for a in center.dispatched if "@" in a)  # journey events' jobs (not follow-ups')
            if queued:
                eid = queued[step[1] % len(queued)]
                center.outcomes.append((eid, send_event(center.rt, eid)))
        check_new_outcomes()

        planned = journeys.planned_of(redis, pk)
        # what stays planned is only ever of the date that stands, and nothing at all after a STOP
        for eid in planned:
            assert model.value is not None and EventId.parse(eid).stamp == stamp(model.value), (eid, steps)
        if model.opted_out and not model.replanned_while_opted_out:
            assert planned == (), steps

        # every text that reached the outbox is one of those checked
        assert len([m for m in outbox.read(redis, vault) if m["to"] == NUMBER]) == sent, steps

    outcomes = {o for e, o in center.outcomes if "@" in e}
    for outcome in (Outcome.SENT, Outcome.SUPERSEDED, Outcome.OPTED_OUT, Outcome.HANDED_OVER):
        event(f"{outcome.value}: {'yes' if outcome in outcomes else 'no'}")  # --hypothesis-show-statistics
