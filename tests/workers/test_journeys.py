"""Care journeys end to end, in-process: a contact set through the API (or service.contacts.apply), their
events planned in their zone and send hours, the clock's tick (dispatch_due) moving due events into RQ,
the jobs run here by workers.journey.send_event (and follow-ups by send_followup), Twilio's own client
sending to the local fake Twilio over real HTTP; the person's answers come in as signed webhooks.

Real Redis, a ManualClock (Wednesday 2026-11-25, noon in New York): nothing reads the machine's time."""
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job

from flows.loader import DEFINITIONS
from service import handoff, queues
from service.store import (apitokens, attention, callbacks, contacts, crises, followups, journeys, keys, messages,
                           people)
from service.store.crises import CrisisOutcome
from service.store.journeys import EventId
from tests.conftest import NOON, NY, Phone, make_app, make_env, replies, svc_of
from workers import erasure as provider_erasure
from workers.delivery import deliver
from workers.dispatch import dispatch_due
from workers.followup import Outcome, send_followup
from workers.journey import DISCLOSED, message_id, replan, send_event
from workers.runtime import make_runtime

LA = ZoneInfo("America/Los_Angeles")
FROM = "+18555909944"
STAFF = "+16175550100"
NUMBER = "+16175550123"  # Boston: New York's zone
LA_NUMBER = "+12135550123"
EVIDENCE = {"source": "intake form, signed", "at": "2026-11-20T10:00:00-05:00"}
APPOINTMENT = "2026-12-03T14:30:00-05:00"  # Thursday December 3, 14:30 in New York
REMINDER_AT = datetime(2026, 12, 2, 10, 0, tzinfo=NY).timestamp()
CONFIRM_AT = datetime(2026, 12, 3, 12, 30, tzinfo=NY).timestamp()
DISCLOSURE = {"en": "Roaring Brook Recovery texts. Msg&data rates may apply. Reply HELP for help, STOP to cancel.",
              "es": "Mensajes de Roaring Brook Recovery. Pueden aplicarse tarifas de mensajes y datos. AYUDA: ayuda. "
                    "PARAR: cancelar."}
DAY = 86400


@pytest.fixture
def env(redis_url, redis, fake):
    return make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM, STAFF_ALERT_NUMBERS=STAFF)


class Center:
    """The center's systems and the workers, driven by hand: PUT through the API, run the clock forward."""

    def __init__(self, app, fake):
        self.app, self.fake = app, fake
        self.svc = svc_of(app)
        self.rt = make_runtime(self.svc)
        self.r = self.svc.redis
        self.client = app.test_client()
        self.token, _ = apitokens.create(self.r, "ehr", "tests", self.svc.now())
        self.outcomes: list[tuple[str, Outcome]] = []  # every send job run, in order
        self.dispatched: set[str] = set()  # every job argument the tick ever queued

    # -- the API ------------------------------------------------------------------------------------------
    def put(self, number: str, body: dict, expect=(200, 201)):
        response = self.client.put(f"/api/v1/contacts/{number}", json=body,
                                   headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code in expect, response.get_json()
        return response

    def appointment(self, number: str, when: str | None, **extra):
        return self.put(number, {"fields": {"appointment_at": when}, "consent": EVIDENCE, **extra})

    def delete(self, number: str):
        return self.client.delete(f"/api/v1/contacts/{number}", headers={"Authorization": f"Bearer {self.token}"})

    # -- what is planned ----------------------------------------------------------------------------------
    def pk(self, number: str) -> str:
        return self.svc.vault.person_key(number)

    def planned(self, number: str) -> dict[str, float | None]:
        """{event id: due} of the person's planned events (due None: handed to a worker, its job in RQ)."""
        ids = journeys.planned_of(self.r, self.pk(number))
        due = journeys.due_times(self.r, ids)
        return {eid: due.get(eid) for eid in ids}

    def events(self, number: str) -> list[EventId]:
        planned = self.planned(number)
        return [EventId.parse(eid) for eid in sorted(planned, key=lambda e: planned[e] or 0)]

    def due_set(self) -> dict[str, float]:
        return {m.decode(): s for m, s in self.r.zrange(keys.of(self.r).JOURNEYS_DUE, 0, -1, withscores=True)}

    # -- time and the workers -----------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.svc.now()

    def at(self, moment: float) -> "Center":
        self.svc.clock.set(moment)
        return self

    def dispatch(self) -> int:
        """The clock's tick: due events into RQ (noted: a job that exists may run again, late)."""
        moved = dispatch_due(self.rt)
        self.dispatched.update(a for job in queues.queue(self.r, queues.FOLLOWUPS).jobs for a in job.args)
        return moved

    def tick(self) -> int:
        """The clock's tick, then every job it (and the jobs) queued, run here."""
        moved = self.dispatch()
        self.run_jobs()
        return moved

    def run_jobs(self) -> None:
        """Every queued job, in priority order then queue order, as a worker would take them (a job id queued
        twice, like a second START's replan, runs once: RQ skips an id whose job is gone)."""
        for _ in range(50):
            ran = False
            for name in (queues.ALERTS, queues.REPLIES, queues.FOLLOWUPS, queues.MAINTENANCE):
                queue = queues.queue(self.r, name)
                for job_id in queue.job_ids:
                    queue.remove(job_id)
                    try:
                        job = Job.fetch(job_id, connection=self.r)
                    except NoSuchJobError:
                        continue
                    self._run(job)
                    job.delete()
                    ran = True
            if not ran:
                return
        raise AssertionError("jobs kept coming")

    def _run(self, job) -> None:
        fn, arg = job.func_name.rsplit(".", 1)[1], job.args[0]
        if fn == "send_journey":
            self.outcomes.append((arg, send_event(self.rt, arg)))
        elif fn == "send_followup":
            self.outcomes.append((arg, send_followup(self.rt, arg)))
        elif fn in ("send_message", "send_reply"):
            deliver(self.rt, arg)
        elif fn == "replan_journeys":
            replan(self.rt, arg)
        elif fn == "erase_at_provider":
            provider_erasure.erase_at_provider(self.rt, arg)
        else:
            raise AssertionError(f"unexpected job {job.func_name}")
        if fn in queues.SEND_JOBS:
            queues.ran(self.r, fn, arg)

    def run_until(self, moment: float) -> "Center":
        """Move the clock forward to `moment`, stopping at every due follow-up or journey event on the way
        (as the clock's tick each second would), running what falls due."""
        for _ in range(500):
            first = self.r.zrange(keys.of(self.r).JOURNEYS_DUE, 0, 0, withscores=True) + \
                self.r.zrange(keys.of(self.r).FOLLOWUPS_DUE, 0, 0, withscores=True)
            due = min((s for _, s in first), default=None)
            if due is None or due > moment:
                break
            self.at(max(due, self.now))
            self.tick()
        else:
            raise AssertionError("the schedule never settled")
        self.at(max(moment, self.now))
        self.tick()
        return self

    def sent_to(self, number: str) -> list[str]:
        return [r.params["Body"] for r in self.fake.sent() if r.params["To"] == number]

    def outcome_of(self, eid: str) -> list[Outcome]:
        return [o for e, o in self.outcomes if e == eid]


@pytest.fixture
def center(app, fake):
    return Center(app, fake)


def local(ts: float, zone=NY) -> datetime:
    return datetime.fromtimestamp(ts, zone)


# -- the appointment journey, from the API to Twilio -------------------------------------------------------------

@pytest.mark.parametrize("language,said,stop", [
    ("en", "your appointment is Thursday, December 3 at 2:30 PM.", "Reply STOP to opt out."),
    ("es", "su cita es el jueves 3 de diciembre a las 14:30.", "Responda PARAR para cancelar."),
])
def test_the_reminder_goes_out_the_day_before_at_ten_in_the_persons_language(center, fake, language, said, stop):
    response = center.appointment(NUMBER, APPOINTMENT, language=language)
    assert response.status_code == 201
    [reminder, confirm] = center.events(NUMBER)
    assert (reminder.journey, reminder.event, confirm.event) == ("appointment", 0, 1)
    assert reminder.stamp == int(datetime.fromisoformat(APPOINTMENT).timestamp())
    assert center.planned(NUMBER) == {str(reminder): REMINDER_AT, str(confirm): CONFIRM_AT}

    center.run_until(REMINDER_AT - 1)
    assert fake.sent() == []
    center.run_until(REMINDER_AT)
    [sent] = fake.sent()
    assert sent.params["To"] == NUMBER and sent.params["From"] == FROM
    body = sent.params["Body"]
    assert said in body and stop in body
    # they never texted us: the first outreach text says who we are, what it costs and how to stop
    assert body.endswith("\n\n" + DISCLOSURE[language])
    assert center.outcome_of(str(reminder)) == [Outcome.SENT]
    assert [str(e) for e in center.events(NUMBER)] == [str(confirm)]
    record = messages.load(center.r, center.svc.vault, message_id(str(reminder)))
    assert record["state"] == "sent" and record["provider_sid"] == sent.sid


def test_a_los_angeles_number_gets_it_at_ten_in_los_angeles_with_the_time_said_there(center, fake):
    center.appointment(LA_NUMBER, APPOINTMENT)  # the center wrote 14:30 New York time: 11:30 in LA
    ten_la = datetime(2026, 12, 2, 10, 0, tzinfo=LA).timestamp()
    assert sorted(center.planned(LA_NUMBER).values()) == [ten_la, datetime(2026, 12, 3, 9, 30, tzinfo=LA).timestamp()]
    center.run_until(ten_la - 1)  # 12:59 in New York, 9:59 in LA
    assert fake.sent() == []
    center.run_until(ten_la)
    [body] = center.sent_to(LA_NUMBER)
    assert "your appointment is Thursday, December 3 at 11:30 AM." in body


def test_the_confirmation_two_hours_before_and_C_confirms(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    center.run_until(CONFIRM_AT - 1)
    assert len(center.sent_to(NUMBER)) == 1  # the reminder
    center.run_until(CONFIRM_AT)
    [_, confirm] = center.sent_to(NUMBER)
    assert confirm == ("Roaring Brook Recovery: your appointment is Thursday, December 3 at 2:30 PM. Reply C to "
                       "confirm or R to reschedule. Reply STOP to opt out.")  # the disclosure went with the first
    pk = center.pk(NUMBER)
    assert followups.timeout_of(center.r, pk) == CONFIRM_AT + 3600  # no answer in an hour: the inbox
    center.at(CONFIRM_AT + 600)
    [answer] = replies(Phone(center.client, NUMBER).text("C"))
    assert answer == "Thank you, you're confirmed. See you soon. If something comes up, call 855.590.9944."
    assert followups.timeout_of(center.r, pk) is None
    center.run_until(CONFIRM_AT + 3 * 3600)
    assert attention.waiting(center.r) == [] and callbacks.waiting(center.r, center.svc.vault) == []
    assert len(center.sent_to(NUMBER)) == 2


def test_R_asks_for_a_call_back_and_staff_are_told(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    center.run_until(CONFIRM_AT)
    center.at(CONFIRM_AT + 300)
    [answer] = replies(Phone(center.client, NUMBER).text("R"))
    assert answer.startswith("No problem. A Roaring Brook Recovery team member will call you")
    [callback] = callbacks.waiting(center.r, center.svc.vault)
    assert callback.person == center.pk(NUMBER) and callback.phone == NUMBER and not callback.crisis
    center.run_jobs()
    assert len(center.sent_to(STAFF)) == 1  # the on-call alert for the call back
    assert followups.timeout_of(center.r, center.pk(NUMBER)) is None
    center.run_until(CONFIRM_AT + 3 * 3600)
    assert attention.waiting(center.r) == []


def test_no_answer_in_an_hour_puts_them_in_the_inbox(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    center.run_until(CONFIRM_AT + 3600 - 1)
    assert attention.waiting(center.r) == []
    center.run_until(CONFIRM_AT + 3600)
    pk = center.pk(NUMBER)
    assert attention.waiting(center.r) == [(pk, CONFIRM_AT + 3600)]
    assert attention.reason_of(center.r, pk) == "confirm/no_answer"
    assert len(center.sent_to(NUMBER)) == 2  # the inbox step says nothing to them


def test_no_answer_reaches_the_inbox_even_when_the_weeks_follow_ups_are_used_up(redis_url, redis, fake, clock):
    """The confirm flow's silent inbox step sends no text: neither the weekly cap nor the send hours hold it."""
    app = make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM,
                            FOLLOWUPS_PER_WEEK="1"), clock=clock)
    center = Center(app, fake)
    Phone(center.client, NUMBER).text("TREATMENT")  # its first follow-up, Thursday noon, uses the week's one
    center.appointment(NUMBER, "2026-11-27T14:30:00-05:00")
    confirm_at = datetime(2026, 11, 27, 12, 30, tzinfo=NY).timestamp()
    center.run_until(confirm_at + 3600)
    assert any("Reply C to confirm" in b for b in center.sent_to(NUMBER))
    assert attention.reason_of(center.r, center.pk(NUMBER)) == "confirm/no_answer"
    assert len(center.r.hget(keys.of(redis).contact(center.pk(NUMBER)), "followups_sent").split()) == 1  # not counted


def test_no_answer_reaches_the_inbox_after_the_send_window_closes(center, fake):
    """A confirmation at 19:30 for a 21:30 appointment: its silent step at 20:30 waits for no window."""
    center.appointment(NUMBER, "2026-12-03T21:30:00-05:00")
    confirm_at = datetime(2026, 12, 3, 19, 30, tzinfo=NY).timestamp()
    center.run_until(confirm_at + 3600)
    assert attention.waiting(center.r) == [(center.pk(NUMBER), confirm_at + 3600)]
    assert attention.reason_of(center.r, center.pk(NUMBER)) == "confirm/no_answer"


def test_a_silent_inbox_step_uses_none_of_the_weeks_follow_ups(center):
    center.appointment(NUMBER, APPOINTMENT)
    center.run_until(CONFIRM_AT + 3600)
    pk = center.pk(NUMBER)
    assert attention.reason_of(center.r, pk) == "confirm/no_answer"
    assert center.r.hget(keys.of(center.r).contact(pk), "followups_sent") is None


# -- the aftercare journey ------------------------------------------------------------------------------------

DAY1 = datetime(2026, 11, 26, 11, 0, tzinfo=NY).timestamp()


def test_aftercare_checks_in_on_days_1_7_30_90_at_eleven(center, fake):
    center.put(NUMBER, {"fields": {"discharged_on": "2026-11-25"}, "consent": EVIDENCE})
    assert [local(d) for d in sorted(center.planned(NUMBER).values())] == [
        datetime(2026, 11, 26, 11, 0, tzinfo=NY), datetime(2026, 12, 2, 11, 0, tzinfo=NY),
        datetime(2026, 12, 25, 11, 0, tzinfo=NY), datetime(2027, 2, 23, 11, 0, tzinfo=NY)]
    center.run_until(DAY1)
    [ask] = center.sent_to(NUMBER)
    assert ask.startswith("Roaring Brook Recovery checking in. How are you doing? Reply 1 good, 2 struggling")
    [answer] = replies(Phone(center.client, NUMBER).text("1"))
    assert answer.startswith("Glad to hear it.")
    center.run_until(DAY1 + 3 * DAY)
    assert attention.waiting(center.r) == []


def test_aftercare_answer_2_puts_them_in_the_inbox(center, fake):
    center.put(NUMBER, {"fields": {"discharged_on": "2026-11-25"}, "consent": EVIDENCE})
    center.run_until(DAY1)
    center.at(DAY1 + 1800)
    [answer] = replies(Phone(center.client, NUMBER).text("2"))
    assert answer.startswith("Thank you for telling us. Someone from our team will reach out soon.")
    pk = center.pk(NUMBER)
    assert attention.waiting(center.r) == [(pk, DAY1 + 1800)]
    assert attention.reason_of(center.r, pk) == "wellbeing/struggling"
    assert followups.timeout_of(center.r, pk) is None


def test_aftercare_silence_for_two_days_puts_them_in_the_inbox(center, fake):
    center.put(NUMBER, {"fields": {"discharged_on": "2026-11-25"}, "consent": EVIDENCE, "language": "es"})
    center.run_until(DAY1)
    [ask] = center.sent_to(NUMBER)
    assert ask.startswith("Le saludamos desde Roaring Brook Recovery.")
    pk = center.pk(NUMBER)
    center.run_until(DAY1 + 2 * DAY - 1)
    assert attention.waiting(center.r) == []
    center.run_until(DAY1 + 2 * DAY)
    assert attention.waiting(center.r) == [(pk, DAY1 + 2 * DAY)]
    assert attention.reason_of(center.r, pk) == "wellbeing/no_answer"
    assert len(center.sent_to(NUMBER)) == 1
    assert attention.done(center.r, pk) and attention.waiting(center.r) == []  # staff mark it done


# -- a new date, a cleared one, a group left --------------------------------------------------------------------

NEW_APPOINTMENT = "2026-12-10T15:45:00-05:00"  # a week later, Thursday December 10 at 3:45 PM


def test_a_new_date_replans_and_the_old_dates_texts_never_go(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    old = center.planned(NUMBER)
    assert center.appointment(NUMBER, NEW_APPOINTMENT).status_code == 200
    new = center.planned(NUMBER)
    assert not set(old) & set(new) and set(center.due_set()) == set(new)
    assert {EventId.parse(e).stamp for e in new} == {int(datetime.fromisoformat(NEW_APPOINTMENT).timestamp())}
    assert sorted(local(d) for d in new.values()) == [datetime(2026, 12, 9, 10, 0, tzinfo=NY),
                                                      datetime(2026, 12, 10, 13, 45, tzinfo=NY)]
    center.run_until(datetime(2026, 12, 11, tzinfo=NY).timestamp())
    bodies = center.sent_to(NUMBER)
    assert len(bodies) == 2 and all("Thursday, December 10 at 3:45 PM" in b for b in bodies)
    assert not any("December 3" in b for b in bodies)


def test_the_same_date_again_changes_nothing(center):
    center.appointment(NUMBER, APPOINTMENT)
    before = center.planned(NUMBER)
    assert center.appointment(NUMBER, APPOINTMENT).status_code == 200
    assert center.planned(NUMBER) == before
    center.appointment(NUMBER, "2026-12-03T19:30:00+00:00")  # the same moment, written in UTC
    assert center.planned(NUMBER) == before


def test_an_old_dates_job_already_queued_is_superseded(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    [old_reminder, _] = center.events(NUMBER)
    center.at(REMINDER_AT)
    assert dispatch_due(center.rt) == 1  # its job is in RQ...
    [job] = queues.queue(center.r, queues.FOLLOWUPS).jobs
    assert job.args == (str(old_reminder),)
    center.appointment(NUMBER, NEW_APPOINTMENT)  # ...when the date moves
    new = center.planned(NUMBER)
    center.run_jobs()
    assert center.outcome_of(str(old_reminder)) == [Outcome.SUPERSEDED]
    assert fake.sent() == [] and center.planned(NUMBER) == new
    assert not messages.exists(center.r, message_id(str(old_reminder)))
    assert send_event(center.rt, str(old_reminder)) is Outcome.SUPERSEDED  # and again, a retry: the same


def test_an_old_dates_event_still_listed_is_recognised_by_its_stamp(center, fake):
    """A replan that read the old date raced the new one and left the old id planned: the id carries the
    date it was planned from, so the worker sees the date changed and plans afresh instead."""
    center.appointment(NUMBER, APPOINTMENT)
    [old_reminder, _] = center.events(NUMBER)
    center.appointment(NUMBER, NEW_APPOINTMENT)
    new = center.planned(NUMBER)
    pk, eid = center.pk(NUMBER), str(old_reminder)
    center.r.hset(keys.of(center.r).contact(pk), journeys.FIELD, " ".join(sorted([eid, *new])))
    center.r.zadd(keys.of(center.r).JOURNEYS_DUE, {eid: REMINDER_AT})
    center.at(REMINDER_AT)
    assert send_event(center.rt, eid) is Outcome.SUPERSEDED
    assert fake.sent() == [] and center.planned(NUMBER) == new
    center.run_until(REMINDER_AT + DAY)
    assert fake.sent() == []  # the new date's reminder is on December 9


def test_clearing_the_date_cancels_even_a_queued_job(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    [reminder, _] = center.events(NUMBER)
    center.at(REMINDER_AT)
    dispatch_due(center.rt)
    center.put(NUMBER, {"fields": {"appointment_at": None}})
    assert center.planned(NUMBER) == {} and center.due_set() == {}
    center.run_jobs()
    assert center.outcome_of(str(reminder)) == [Outcome.SUPERSEDED]
    center.run_until(CONFIRM_AT + DAY)
    assert fake.sent() == []


OUTPATIENT = """\
journey: outpatient
version: 1
field: discharged_on
group: outpatient
events:
  - offset: 1d
    at: "15:00"
    text: "{program}: how was your first day home? Call {phone} anytime. Reply STOP to opt out."
"""


@pytest.fixture
def group_app(tmp_path, redis_url, redis, fake, clock):
    flows = tmp_path / "flows"
    shutil.copytree(DEFINITIONS, flows)
    (flows / "outpatient.yaml").write_text(OUTPATIENT)
    return make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM,
                             FLOWS_DIR=str(flows)), clock=clock)


def test_a_group_journey_is_for_its_group_and_leaving_the_group_cancels(group_app, fake):
    center = Center(group_app, fake)
    body = {"fields": {"discharged_on": "2026-11-25"}, "consent": EVIDENCE}
    center.put(NUMBER, {**body, "groups": ["residential"]})
    assert {e.journey for e in center.events(NUMBER)} == {"aftercare"}
    center.put(NUMBER, {"groups": ["outpatient", "residential"]})
    [outpatient] = [e for e in center.events(NUMBER) if e.journey == "outpatient"]
    three = datetime(2026, 11, 26, 15, 0, tzinfo=NY).timestamp()
    assert center.planned(NUMBER)[str(outpatient)] == three
    center.at(three)
    dispatch_due(center.rt)  # its job is queued...
    center.put(NUMBER, {"groups": ["residential"]})  # ...when they leave the group
    assert {e.journey for e in center.events(NUMBER)} == {"aftercare"}
    center.run_jobs()
    assert center.outcome_of(str(outpatient)) == [Outcome.SUPERSEDED]
    assert not any("first day home" in b for b in center.sent_to(NUMBER))


def test_the_worker_itself_checks_the_group(group_app, fake):
    """Even with the event left planned (a racing write), the worker reads the groups at send time."""
    center = Center(group_app, fake)
    center.put(NUMBER, {"fields": {"discharged_on": "2026-11-25"}, "consent": EVIDENCE, "groups": ["outpatient"]})
    [outpatient] = [str(e) for e in center.events(NUMBER) if e.journey == "outpatient"]
    planned = center.planned(NUMBER)
    center.put(NUMBER, {"groups": []})
    center.r.hset(keys.of(center.r).contact(center.pk(NUMBER)), journeys.FIELD, " ".join(sorted(planned)))
    center.at(planned[outpatient])
    assert send_event(center.rt, outpatient) is Outcome.OPTED_OUT
    assert fake.sent() == [] and outpatient not in center.planned(NUMBER)


def test_the_group_journey_goes_to_its_group(group_app, fake):
    center = Center(group_app, fake)
    center.put(NUMBER, {"fields": {"discharged_on": "2026-11-25"}, "consent": EVIDENCE, "groups": ["outpatient"]})
    center.run_until(datetime(2026, 11, 26, 15, 0, tzinfo=NY).timestamp())
    assert [b.split("\n\n")[0] for b in center.sent_to(NUMBER)][-1] == (
        "Roaring Brook Recovery: how was your first day home? Call 855.590.9944 anytime. Reply STOP to opt out.")


# -- STOP, START, erasure, consent ----------------------------------------------------------------------------

def test_stop_cancels_the_plan_and_a_queued_job(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    [reminder, confirm] = center.events(NUMBER)
    center.at(REMINDER_AT)
    dispatch_due(center.rt)
    Phone(center.client, NUMBER).text("STOP")
    assert center.planned(NUMBER) == {} and center.due_set() == {}
    center.run_jobs()
    assert center.outcome_of(str(reminder)) == [Outcome.SUPERSEDED]
    center.appointment(NUMBER, NEW_APPOINTMENT)  # the center's system writes again: a STOP is never undone
    assert center.planned(NUMBER) == {}
    assert center.client.get(f"/api/v1/contacts/{NUMBER}", headers={
        "Authorization": f"Bearer {center.token}"}).get_json()["opted_out"] is True
    center.run_until(datetime(2026, 12, 11, tzinfo=NY).timestamp())
    assert center.sent_to(NUMBER) == []
    # even an id of the current date left planned by a racing write is refused by the worker's own check
    pk = center.pk(NUMBER)
    eid = str(EventId(pk, "appointment", 1, 0, int(datetime.fromisoformat(NEW_APPOINTMENT).timestamp())))
    center.r.hset(keys.of(center.r).contact(pk), journeys.FIELD, eid)
    assert send_event(center.rt, eid) is Outcome.OPTED_OUT
    assert center.sent_to(NUMBER) == [] and center.planned(NUMBER) == {}


def test_the_worker_checks_consent_at_send_time(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    planned = center.planned(NUMBER)
    [reminder, _] = center.events(NUMBER)
    pk = center.pk(NUMBER)
    people.carrier_opt_out(center.r, pk, "mid", center.now)  # Twilio's 21610: opted out by the carrier
    assert center.planned(NUMBER) == planned  # still listed: the worker decides at send time
    center.at(REMINDER_AT)
    assert send_event(center.rt, str(reminder)) is Outcome.OPTED_OUT
    center.run_until(CONFIRM_AT)
    assert fake.sent() == []


def test_start_after_stop_plans_again(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    phone = Phone(center.client, NUMBER)
    phone.text("STOP")
    center.at(NOON + 3600)
    phone.text("START")
    assert center.planned(NUMBER) == {}  # planned by a worker, after the commit
    center.run_jobs()
    assert sorted(center.planned(NUMBER).values()) == [REMINDER_AT, CONFIRM_AT]
    center.run_until(REMINDER_AT)
    assert [b for b in center.sent_to(NUMBER) if "Reminder" in b] == [
        "Reminder from Roaring Brook Recovery: your appointment is Thursday, December 3 at 2:30 PM. Questions, or "
        "need to change it? Call 855.590.9944. Reply STOP to opt out."]  # they texted us: no disclosure


def test_erasure_cancels_the_plan_and_a_queued_job(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    [reminder, _] = center.events(NUMBER)
    center.at(REMINDER_AT)
    dispatch_due(center.rt)
    assert center.delete(NUMBER).status_code == 204
    assert center.due_set() == {}
    pk = center.pk(NUMBER)
    assert contacts.read(center.r, center.svc.vault, pk) is None
    center.run_jobs()
    assert center.outcome_of(str(reminder)) == [Outcome.SUPERSEDED]
    assert contacts.read(center.r, center.svc.vault, pk) is None  # nothing written back for them
    assert center.r.hget(keys.of(center.r).contact(pk), "phone") is None and center.r.hget(keys.of(center.r).contact(pk), journeys.FIELD) is None
    center.run_until(CONFIRM_AT + DAY)
    assert center.sent_to(NUMBER) == []


def stop_erase_and_set_again(center):
    center.appointment(NUMBER, APPOINTMENT)
    Phone(center.client, NUMBER).text("STOP")
    assert center.delete(NUMBER).status_code == 204  # erased: only the opt-out itself is kept
    return center.appointment(NUMBER, NEW_APPOINTMENT)  # the center's system writes them again


def test_a_stop_outlives_erasure_nothing_is_sent(center, fake):
    stop_erase_and_set_again(center)
    got = center.client.get(f"/api/v1/contacts/{NUMBER}", headers={"Authorization": f"Bearer {center.token}"})
    assert got.get_json()["opted_out"] is True
    center.run_until(datetime(2026, 12, 11, tzinfo=NY).timestamp())
    assert center.sent_to(NUMBER) == []
    assert {o for _, o in center.outcomes} <= {Outcome.OPTED_OUT}


def test_a_contact_set_again_after_stop_and_erasure_has_nothing_planned(center):
    response = stop_erase_and_set_again(center)
    assert response.get_json()["opted_out"] is True
    assert center.planned(NUMBER) == {}


def test_without_consent_evidence_nothing_is_planned_or_sent(center, fake):
    center.put(NUMBER, {"fields": {"appointment_at": APPOINTMENT}})
    assert center.planned(NUMBER) == {}
    phone = Phone(center.client, NUMBER)
    phone.text("SIGNS")  # texting a keyword is not consent to outreach
    center.run_jobs()
    assert center.planned(NUMBER) == {}
    center.put(NUMBER, {"fields": {"first_name": "Sam"}})
    assert center.planned(NUMBER) == {}
    center.run_until(CONFIRM_AT + DAY)
    assert not any("appointment" in b for b in center.sent_to(NUMBER))


def test_without_evidence_opting_in_by_text_is_consent(center, fake):
    center.put(NUMBER, {"fields": {"appointment_at": APPOINTMENT}})
    phone = Phone(center.client, NUMBER)
    phone.text("STOP")
    center.at(NOON + 60)
    phone.text("START")  # their own START: consent to outreach by text
    center.run_jobs()
    assert sorted(center.planned(NUMBER).values()) == [REMINDER_AT, CONFIRM_AT]
    center.run_until(CONFIRM_AT)
    outreach = [b for b in center.sent_to(NUMBER) if "appointment" in b]
    assert len(outreach) == 2
    phone.text("STOP")  # and a STOP ends it again
    center.put(NUMBER, {"fields": {"appointment_at": NEW_APPOINTMENT}})
    assert center.planned(NUMBER) == {}


def test_the_worker_checks_consent_evidence_at_send_time(center, fake):
    """No evidence and no opt-in: an id planned by a racing write is still refused when it falls due."""
    center.put(NUMBER, {"fields": {"appointment_at": APPOINTMENT}})
    pk = center.pk(NUMBER)
    eid = str(EventId(pk, "appointment", 1, 0, int(datetime.fromisoformat(APPOINTMENT).timestamp())))
    center.r.hset(keys.of(center.r).contact(pk), journeys.FIELD, eid)
    center.r.zadd(keys.of(center.r).JOURNEYS_DUE, {eid: REMINDER_AT})
    center.run_until(REMINDER_AT)
    assert center.outcome_of(eid) == [Outcome.OPTED_OUT]
    assert fake.sent() == [] and center.planned(NUMBER) == {}


# -- a staff hold, an open crisis ------------------------------------------------------------------------------

def test_a_staff_hold_makes_the_event_wait_and_then_it_goes(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    [reminder, _] = center.events(NUMBER)
    pk = center.pk(NUMBER)
    assert handoff.take_over(center.svc, pk, "nurse@center.org")
    center.run_until(REMINDER_AT + 1500)
    assert center.outcome_of(str(reminder)) == [Outcome.HELD, Outcome.HELD, Outcome.HELD]  # 10:00, 10:10, 10:20
    assert fake.sent() == [] and center.planned(NUMBER)[str(reminder)] == REMINDER_AT + 1800
    center.at(REMINDER_AT + 1700)
    assert handoff.hand_back(center.svc, pk, "nurse@center.org")
    center.run_until(REMINDER_AT + 1800)
    assert center.outcome_of(str(reminder))[-1] is Outcome.SENT
    [body] = center.sent_to(NUMBER)
    assert "December 3 at 2:30 PM" in body
    assert messages.load(center.r, center.svc.vault, message_id(str(reminder)))["state"] == "sent"


def test_a_crisis_text_cancels_the_plan_an_open_crisis_holds_new_events_and_resolving_plans_again(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    pk = center.pk(NUMBER)
    phone = Phone(center.client, NUMBER)
    [crisis_answer] = replies(phone.text("my brother is not breathing"))
    assert "911" in crisis_answer
    flag = crises.open_of(center.r, pk)
    assert flag and center.planned(NUMBER) == {}  # a crisis cancels their journey events
    center.appointment(NUMBER, NEW_APPOINTMENT)  # the center's system writes a new date meanwhile
    new = center.planned(NUMBER)
    [reminder, _] = center.events(NUMBER)
    reminder_at = new[str(reminder)]
    center.run_jobs()
    center.run_until(reminder_at + 1200)
    assert center.outcome_of(str(reminder)) == [Outcome.HELD] * 3  # while the crisis is open: it waits
    assert not any("December 10" in b for b in center.sent_to(NUMBER))
    center.at(reminder_at + 1500)
    assert crises.resolve(center.r, flag, "nurse@center.org", center.now, 86400, CrisisOutcome.REACHED_SAFE)
    queues.enqueue_replan(center.r, pk)  # as the console does
    center.run_until(reminder_at + 1800)
    assert center.outcome_of(str(reminder))[-1] is Outcome.SENT
    assert [b for b in center.sent_to(NUMBER) if "December 10" in b]
    assert str(reminder) not in center.planned(NUMBER) and len(center.planned(NUMBER)) == 1


def test_a_resolved_crisis_plans_the_cancelled_events_again(center):
    center.appointment(NUMBER, APPOINTMENT)
    before = center.planned(NUMBER)
    phone = Phone(center.client, NUMBER)
    phone.text("my brother is not breathing")
    assert center.planned(NUMBER) == {}
    flag = crises.open_of(center.r, center.pk(NUMBER))
    assert crises.resolve(center.r, flag, "nurse@center.org", center.now, 86400, CrisisOutcome.REACHED_SAFE)
    queues.enqueue_replan(center.r, center.pk(NUMBER))
    center.run_jobs()
    assert center.planned(NUMBER) == before


# -- send hours at send time, late events ----------------------------------------------------------------------

def test_a_closed_window_at_send_time_defers_to_the_morning(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    [reminder, _] = center.events(NUMBER)
    night = datetime(2026, 12, 1, 22, 0, tzinfo=NY).timestamp()  # as if its job ran the evening before
    center.at(night)
    assert send_event(center.rt, str(reminder)) is Outcome.DEFERRED
    due = center.planned(NUMBER)[str(reminder)]
    assert datetime(2026, 12, 2, 9, 0, tzinfo=NY).timestamp() <= due < datetime(2026, 12, 2, 10, 0, tzinfo=NY).timestamp()
    assert fake.sent() == []


def test_a_reminder_the_window_would_only_allow_after_the_appointment_expires(center, fake):
    center.appointment(NUMBER, "2026-12-03T08:30:00-05:00")  # the confirmation (06:30) was never planned
    [reminder] = center.events(NUMBER)
    center.at(datetime(2026, 12, 2, 21, 0, tzinfo=NY).timestamp())  # its job runs late, after the window closed
    assert send_event(center.rt, str(reminder)) is Outcome.EXPIRED
    assert center.planned(NUMBER) == {} and fake.sent() == []


def test_a_reminder_held_by_staff_past_the_appointment_is_never_sent(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    [_, confirm] = center.events(NUMBER)
    pk = center.pk(NUMBER)
    center.run_until(REMINDER_AT)
    handoff.take_over(center.svc, pk, "nurse@center.org")  # staff talk with them through the afternoon
    center.run_until(datetime(2026, 12, 3, 14, 35, tzinfo=NY).timestamp())
    assert set(center.outcome_of(str(confirm))) == {Outcome.HELD}
    handoff.hand_back(center.svc, pk, "nurse@center.org")  # after the 14:30 appointment
    center.run_until(datetime(2026, 12, 3, 16, 0, tzinfo=NY).timestamp())
    assert center.outcome_of(str(confirm))[-1] is Outcome.EXPIRED
    assert not any("Reply C to confirm" in b for b in center.sent_to(NUMBER))
    assert center.planned(NUMBER) == {}


def test_a_reminder_whose_job_runs_after_the_appointment_is_never_sent(center, fake):
    """A backlog: the confirmation's job runs at 14:40 (the window open) for a 14:30 appointment."""
    center.appointment(NUMBER, APPOINTMENT)
    [_, confirm] = center.events(NUMBER)
    center.at(datetime(2026, 12, 3, 14, 40, tzinfo=NY).timestamp())
    assert send_event(center.rt, str(confirm)) is Outcome.EXPIRED
    center.at(datetime(2026, 12, 3, 14, 30, tzinfo=NY).timestamp())
    assert send_event(center.rt, str(confirm)) is Outcome.SUPERSEDED  # done: gone from the plan
    assert fake.sent() == []


def test_an_aftercare_check_in_held_late_still_goes(center, fake):
    """Only a reminder before its date is pointless late; a check-in after discharge just waits."""
    center.put(NUMBER, {"fields": {"discharged_on": "2026-11-25"}, "consent": EVIDENCE})
    [day1, *_] = center.events(NUMBER)
    center.at(DAY1 + 5 * 3600)
    assert send_event(center.rt, str(day1)) is Outcome.SENT


# -- the weekly cap, the disclosure ------------------------------------------------------------------------------

def test_journey_texts_dont_count_against_the_weekly_cap(redis_url, redis, fake, clock):
    app = make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM,
                            FOLLOWUPS_PER_WEEK="1"), clock=clock)
    center = Center(app, fake)
    Phone(center.client, NUMBER).text("TREATMENT")  # two follow-ups: Thursday and Sunday at noon
    center.appointment(NUMBER, "2026-11-27T14:30:00-05:00")  # reminder Thursday 10:00, confirm Friday 12:30
    center.run_until(datetime(2026, 11, 27, 13, 0, tzinfo=NY).timestamp())
    kinds = [(e.split(":")[1], o) for e, o in center.outcomes]
    assert kinds == [("@appointment.1", Outcome.SENT),  # Thursday 10:00
                     ("treatment", Outcome.SENT),  # Thursday noon: the week's one follow-up, the reminder not counted
                     ("@appointment.1", Outcome.SENT)]  # Friday 12:30: the cap is used, a journey text still goes
    pk = center.pk(NUMBER)
    assert len(center.r.hget(keys.of(redis).contact(pk), "followups_sent").split()) == 1
    center.run_until(datetime(2026, 11, 29, 12, 0, tzinfo=NY).timestamp())
    assert ("treatment", Outcome.DEFERRED) in [(e.split(":")[1], o) for e, o in center.outcomes if ":" in e]


def test_the_first_outreach_text_carries_the_disclosure_once(center, fake):
    center.appointment(NUMBER, APPOINTMENT)
    center.run_until(CONFIRM_AT)
    reminder, confirm = center.sent_to(NUMBER)
    assert reminder.endswith("\n\n" + DISCLOSURE["en"]) and DISCLOSURE["en"] not in confirm
    assert center.r.hget(keys.of(center.r).contact(center.pk(NUMBER)), DISCLOSED) == b"1"


def test_a_confirmation_as_the_first_outreach_carries_the_disclosure(center, fake):
    center.at(REMINDER_AT + 3600)  # set after the reminder's time: the confirmation is the first text
    center.appointment(NUMBER, APPOINTMENT, language="es")
    assert len(center.planned(NUMBER)) == 1
    center.run_until(CONFIRM_AT)
    [confirm] = center.sent_to(NUMBER)
    assert confirm.startswith("Roaring Brook Recovery: su cita es el jueves 3 de diciembre a las 14:30. Responda C")
    assert confirm.endswith("\n\n" + DISCLOSURE["es"])


def test_someone_who_texted_us_gets_no_disclosure_in_outreach(center, fake):
    Phone(center.client, NUMBER).text("HELP")
    center.appointment(NUMBER, APPOINTMENT)
    center.run_until(REMINDER_AT)
    [reminder] = [b for b in center.sent_to(NUMBER) if "appointment" in b]
    assert DISCLOSURE["en"] not in reminder and "\n\n" not in reminder


# -- the tick --------------------------------------------------------------------------------------------------

def queued(center) -> list[str]:
    return [job.args[0] for job in queues.queue(center.r, queues.FOLLOWUPS).jobs]


def test_due_events_go_to_rq_in_due_order_only_when_due(center):
    days = [6, 3, 5, 4]  # appointments on December 6, 3, 5 and 4 at 14:30, set in that order
    for i, day in enumerate(days):
        center.put(f"+1617555{200 + i:04d}", {"fields": {"appointment_at": f"2026-12-0{day}T14:30:00-05:00"},
                                              "consent": EVIDENCE})
    center.at(REMINDER_AT - 1)
    assert dispatch_due(center.rt) == 0 and queued(center) == []
    due = center.due_set()
    center.at(datetime(2026, 12, 6, 12, 29, tzinfo=NY).timestamp())  # the clock was stopped for days
    expected = sorted((eid for eid, d in due.items() if d <= center.now), key=due.get)
    assert len(expected) == 7  # four reminders, three confirmations (not December 6's, at 12:30)
    assert dispatch_due(center.rt) == 7
    assert queued(center) == expected
    assert set(center.due_set()) == set(due) - set(expected)  # out of the due set once their jobs exist
    assert dispatch_due(center.rt) == 0 and len(queued(center)) == 7


def test_follow_ups_and_journey_events_go_to_rq_in_due_order_together(center):
    Phone(center.client, NUMBER).text("TREATMENT")  # its first follow-up: Thursday November 26 at noon
    center.put("+16175550200", {"fields": {"appointment_at": "2026-11-27T14:30:00-05:00"}, "consent": EVIDENCE})
    center.put("+16175550201", {"fields": {"appointment_at": "2026-11-26T15:00:00-05:00"}, "consent": EVIDENCE})
    center.at(datetime(2026, 11, 26, 13, 0, tzinfo=NY).timestamp())
    assert dispatch_due(center.rt) == 3
    assert [a.split(":")[1] for a in queued(center)] == ["@appointment.1", "treatment", "@appointment.1"]


def test_the_tick_moves_only_as_many_as_can_be_sent_oldest_first(redis_url, redis, fake, clock):
    app = make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM,
                            SEND_RATE_PER_SECOND="1"), clock=clock)  # room for 10 jobs a tick
    center = Center(app, fake)
    for i in range(12):  # discharged on November 25 + i: their first check-in is the next day at 11:00
        discharged = datetime(2026, 11, 25, tzinfo=NY).timestamp() + i * DAY
        center.put(f"+1617555{i + 200:04d}", {"fields": {"discharged_on": local(discharged).date().isoformat()},
                                              "consent": EVIDENCE}, expect=(201,))
    due = center.due_set()
    center.at(datetime(2026, 12, 7, 11, 0, tzinfo=NY).timestamp())
    ready = sorted((eid for eid, d in due.items() if d <= center.now), key=due.get)
    assert len(ready) == 12 + 6  # every first check-in, and the day-7 ones of the first six
    assert dispatch_due(center.rt) == 10
    assert queued(center) == ready[:10]
    assert set(ready[10:]) <= set(center.due_set())
