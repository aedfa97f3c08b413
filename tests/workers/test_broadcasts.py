"""Broadcasts end to end, in-process: contacts set through the API, a broadcast made by the same rules the
API and the console use (service.broadcasts), the clock's tick (workers.broadcast.dispatch) moving due
recipients into the `bulk` queue, the jobs run here by workers.broadcast.send, Twilio's own client sending
to the local fake Twilio over real HTTP; replies, STOPs and status callbacks come in as signed webhooks.

Real Redis, a ManualClock (Wednesday 2026-11-25, noon in New York; SEND_HOURS Mon-Sun 09:00-20:00 in each
recipient's zone): nothing reads the machine's time."""
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job

from flows import gsm
from service import broadcasts as rules, handoff, queues
from service.contacts import Refused
from service.store import apitokens, broadcasts, keys, messages
from service.store.broadcasts import Status
from tests.conftest import ACCOUNT_SID, NOON, NY, Phone, make_app, make_env, post_signed, svc_of
from workers import broadcast, delivery
from workers.delivery import RetryLater
from workers.runtime import make_runtime
from workers.sender import Sent

FROM = "+18555909944"
EVIDENCE = {"source": "intake form, signed", "at": "2026-11-20T10:00:00-05:00"}
HONOLULU = ZoneInfo("Pacific/Honolulu")
MADRID = ZoneInfo("Europe/Madrid")
HOUR, DAY = 3600, 86400
BOSTON, BOSTON2, BOSTON3 = "+16175550101", "+16175550102", "+16175550103"
HAWAII = "+18085550123"  # Pacific/Honolulu: five hours behind New York in November
SPAIN = "+34912345678"  # a Madrid landline's prefix: Europe/Madrid only, six hours ahead of New York
EN_TEXT = "Free naloxone this Saturday, 10-2, at the center."
ES_TEXT = "Naloxona gratis este sabado, de 10 a 2, en el centro."


@pytest.fixture
def env(redis_url, redis, fake):
    return make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM,
                    STAFF_ALERT_NUMBERS="+16175550100")


class Center:
    """The center's systems and the workers, driven by hand."""

    def __init__(self, app, fake):
        self.app, self.fake = app, fake
        self.svc = svc_of(app)
        self.rt = make_runtime(self.svc)
        self.r = self.svc.redis
        self.client = app.test_client()
        self.token, _ = apitokens.create(self.r, "ehr", "tests", self.svc.now())
        self.ran: list[tuple[str, str]] = []  # (job argument, outcome) of every send job run

    # -- contacts ---------------------------------------------------------------------------------------
    def put(self, number: str, groups=("clinic",), consent=True, **body):
        payload = {"groups": list(groups), **({"consent": EVIDENCE} if consent else {}), **body}
        response = self.client.put(f"/api/v1/contacts/{number}", json=payload,
                                   headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code in (200, 201), response.get_json()
        return self.pk(number)

    def erase(self, number: str) -> None:
        response = self.client.delete(f"/api/v1/contacts/{number}", headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 204

    def text(self, number: str, body: str):
        response = Phone(self.client, number).text(body)
        assert response.status_code == 200
        return response

    def pk(self, number: str) -> str:
        return self.svc.vault.person_key(number)

    # -- broadcasts -------------------------------------------------------------------------------------
    def broadcast(self, text=None, **data) -> broadcasts.Broadcast:
        if "group" not in data and "all" not in data:
            data["group"] = "clinic"
        req = rules.request_from({"text": text or {"en": EN_TEXT}, **data}, self.svc, self.now)
        return rules.create(self.svc, req, "tests", self.now)

    def get(self, bid: str) -> broadcasts.Broadcast:
        return broadcasts.get(self.r, bid)

    def view(self, bid: str) -> dict:
        return rules.view(self.get(bid), NY)

    def due(self, bid: str) -> dict[str, float]:
        """Person key -> when due, of the recipients not yet handed to a worker."""
        return {m.decode(): s for m, s in self.r.zrange(keys.of(self.r).broadcast_due(bid), 0, -1, withscores=True)}

    # -- time and the workers ---------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.svc.now()

    def at(self, moment: float) -> "Center":
        self.svc.clock.set(moment)
        return self

    def dispatch(self) -> int:
        return broadcast.dispatch(self.rt)

    def tick(self) -> int:
        """The clock's ticks at this moment, each followed by every job it queued, run here, until a tick
        hands over nothing more (the tick after the last outcome marks a broadcast sent)."""
        moved = total = self.dispatch()
        while moved:
            self.run_jobs()
            moved = self.dispatch()
            total += moved
        return total

    def jobs(self) -> list[str]:
        return [job.args[0] for job in queues.queue(self.r, queues.BULK).jobs]

    def run_jobs(self) -> None:
        queue = queues.queue(self.r, queues.BULK)
        for job_id in queue.job_ids:
            queue.remove(job_id)
            try:
                job = Job.fetch(job_id, connection=self.r)
            except NoSuchJobError:
                continue
            arg = job.args[0]
            assert job.func_name == "workers.jobs.send_broadcast"
            job.delete()
            try:
                self.ran.append((arg, broadcast.send(self.rt, arg)))
            except RetryLater:  # RQ would run it again after its backoff: the test does, when it wants to
                self.ran.append((arg, "retry"))
                continue
            queues.ran(self.r, "send_broadcast", arg)

    # -- what reached the fake --------------------------------------------------------------------------
    def sent_to(self) -> list[str]:
        return [x.params["To"] for x in self.fake.sent()]

    def bodies(self) -> dict[str, str]:
        return {x.params["To"]: x.params["Body"] for x in self.fake.sent()}

    def status(self, to: str, value: str, code: str | None = None):
        [sid] = [x.sid for x in self.fake.sent() if x.params["To"] == to]
        params = {"MessageSid": sid, "MessageStatus": value, "AccountSid": ACCOUNT_SID,
                  **({"ErrorCode": code} if code else {})}
        assert post_signed(self.client, "/twilio/status", params).status_code == 204


@pytest.fixture
def center(app, fake):
    return Center(app, fake)


def local(moment: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(moment, zone)


def at_ny(hour: int, minute: int = 0, day: int = 25) -> float:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY).timestamp()


# -- who gets it -------------------------------------------------------------------------------------------

def test_recipients_and_every_reason_someone_is_held_back(center):
    c = center
    ok = c.put(BOSTON)  # consent evidence from the intake form
    c.text("+16175550105", "STOP")
    c.text("+16175550105", "START")  # their own START: consent to outreach by text
    opted_in = c.put("+16175550105", consent=False)
    no_consent = c.put("+16175550106", consent=False)
    stopped = c.put("+16175550107")
    c.text("+16175550107", "STOP")
    held = c.put("+16175550108")
    assert handoff.take_over(c.svc, held, "staff@center.org")
    capped = c.put("+16175550109", groups=("clinic", "capped"))
    for _ in range(3):  # three broadcasts this week already (FOLLOWUPS_PER_WEEK=3)
        c.broadcast(group="capped")
        c.tick()
        c.at(c.now + HOUR)
    assert c.sent_to().count("+16175550109") == 3
    c.put("+16175550110")
    c.erase("+16175550110")  # erased: no recipient, and not counted anywhere
    sent_before = len(c.fake.sent())

    b = c.broadcast()
    assert b.status is Status.SENDING
    assert b.counts["recipients"] == 2
    assert b.held == {"opted_out": 1, "no_consent": 1, "held_by_staff": 1, "weekly_cap": 1, "channel_window": 0}
    assert set(c.due(b.id)) == {ok, opted_in}
    assert no_consent not in c.due(b.id) and stopped not in c.due(b.id) and capped not in c.due(b.id)
    c.tick()
    assert sorted(c.sent_to()[sent_before:]) == [BOSTON, "+16175550105"]
    assert c.get(b.id).status is Status.SENT
    view = c.view(b.id)
    assert (view["recipients"], view["queued"], view["sent"]) == (2, 0, 2)


def test_a_person_listed_oddly_gets_it_once(center):
    c = center
    pk = c.put("+16175550123", groups=("clinic", "Clinic", "aftercare"))
    c.put("6175550123", groups=("clinic",))  # the same person, written another way
    c.put("617-555-0123", groups=("clinic", "clinic"))
    other = c.put(BOSTON2, groups=("clinic", "aftercare"))
    b = c.broadcast()
    assert b.counts["recipients"] == 2 and set(c.due(b.id)) == {pk, other}
    everyone = c.broadcast(all=True)
    assert everyone.counts["recipients"] == 2
    # a candidate list that names someone twice (resend's path) still plans them once
    again = rules.create(c.svc, rules.Request({"en": EN_TEXT}, None, True, c.now, None), "tests", c.now,
                         candidates=[pk, pk, other, pk])
    assert again.counts["recipients"] == 2
    c.tick()
    c.tick()  # a second tick finds nothing more to do
    assert sorted(c.sent_to()) == sorted([BOSTON2, "+16175550123"] * 3)  # one text per broadcast each
    for bid in (b.id, everyone.id, again.id):
        assert c.get(bid).counts["sent"] == 2 and c.get(bid).status is Status.SENT


def test_a_group_or_everyone_with_consent(center):
    c = center
    a = c.put(BOSTON, groups=("clinic",))
    b_ = c.put(BOSTON2, groups=("aftercare",))
    nobody = c.put(BOSTON3, groups=())
    c.put("+16175550104", groups=("clinic",), consent=False)
    group = c.broadcast(group="Clinic ")  # case and spaces do not matter
    assert group.group == "clinic" and set(c.due(group.id)) == {a}
    assert group.held["no_consent"] == 1
    everyone = c.broadcast(all=True)
    assert everyone.everyone and everyone.group is None
    assert set(c.due(everyone.id)) == {a, b_, nobody} and everyone.held["no_consent"] == 1
    c.tick()
    assert sorted(c.sent_to()) == sorted([BOSTON, BOSTON, BOSTON2, BOSTON3])


def test_each_gets_their_language_and_the_default_without_a_translation(center):
    c = center
    c.put(BOSTON, language="es")
    c.put(BOSTON2, language="en")
    c.put(BOSTON3)  # no language: the program's default
    c.broadcast(text={"en": EN_TEXT, "es": ES_TEXT})
    c.tick()
    bodies = c.bodies()
    assert bodies[BOSTON] == f"{ES_TEXT} Responda PARAR para cancelar."
    assert bodies[BOSTON2] == bodies[BOSTON3] == f"{EN_TEXT} Reply STOP to opt out."
    c.fake.received.clear()
    c.at(c.now + HOUR).broadcast(text={"en": "Open house Friday. Reply STOP to opt out."})
    c.tick()
    bodies = c.bodies()  # no Spanish text: the Spanish reader gets the default, said once how to stop
    assert bodies[BOSTON] == bodies[BOSTON2] == "Open house Friday. Reply STOP to opt out."


def test_a_text_as_plain_spanish_and_a_string_for_the_default_language(center):
    c = center
    c.put(BOSTON, language="es")
    c.put(BOSTON2)
    b = c.broadcast(text={"en": "Hello.", "es": "Reunión el miércoles."})
    assert b.texts == {"en": "Hello.", "es": "Reunión el miércoles."}
    c.tick()
    spanish = c.bodies()[BOSTON]  # plain_spanish: the accents GSM-7 lacks go, as everywhere a text is sent
    assert spanish == "Reunion el miercoles. Responda PARAR para cancelar."
    assert spanish.startswith("Reunion el mi") and gsm.segment_info(spanish).encoding == "GSM-7"
    req = rules.request_from({"text": "Hi all.", "all": True}, c.svc, c.now)
    assert req.texts == {"en": "Hi all."}


# -- when: each recipient's own send hours ----------------------------------------------------------------

def test_night_where_they_are_waits_for_the_start_of_their_send_hours(center):
    c = center
    boston, hawaii, spain = c.put(BOSTON), c.put(HAWAII), c.put(SPAIN)
    assert local(NOON, HONOLULU).hour == 7 and local(NOON, MADRID).hour == 18
    b = c.broadcast()
    due = c.due(b.id)
    assert due[boston] == NOON and due[spain] == NOON  # open in Boston and in Madrid: now
    opens = datetime(2026, 11, 25, 9, 0, tzinfo=HONOLULU).timestamp()  # 14:00 in New York
    assert opens <= due[hawaii] < opens + HOUR  # the first hour of their window (jittered by person)
    c.tick()
    assert sorted(c.sent_to()) == [BOSTON, SPAIN]
    assert set(c.due(b.id)) == {hawaii} and c.get(b.id).status is Status.SENDING
    c.at(due[hawaii] - 1).tick()
    assert HAWAII not in c.sent_to()
    c.at(due[hawaii]).tick()
    assert c.sent_to().count(HAWAII) == 1
    assert 9 <= local(c.now, HONOLULU).hour < 10
    assert c.get(b.id).status is Status.SENT

    # at 15:00 in New York it is 21:00 in Madrid: the Spanish number waits for 09:00 there, tomorrow
    c.fake.received.clear()
    c.at(at_ny(15))
    later = c.broadcast()
    spain_due = c.due(later.id)[spain]
    morning = datetime(2026, 11, 26, 9, 0, tzinfo=MADRID).timestamp()
    assert morning <= spain_due < morning + HOUR
    c.tick()
    assert sorted(c.sent_to()) == [BOSTON, HAWAII]  # 10:00 in Honolulu
    c.at(at_ny(23, 59)).tick()
    assert SPAIN not in c.sent_to()
    c.at(spain_due).tick()
    assert c.sent_to().count(SPAIN) == 1 and local(c.now, MADRID).hour == 9
    assert c.get(later.id).status is Status.SENT


def test_a_number_with_no_known_zone_goes_by_the_centers_zone(center):
    c = center
    toll_free, australia = c.put("+18885550123"), c.put("+61412345678")  # dozens of zones; eight
    c.at(at_ny(21))  # night in New York
    b = c.broadcast()
    tomorrow = at_ny(9, day=26)
    for pk in (toll_free, australia):
        assert tomorrow <= c.due(b.id)[pk] < tomorrow + HOUR


def test_a_window_that_closed_before_the_job_ran_defers_it_again(center):
    c = center
    pk = c.put(BOSTON)
    c.at(at_ny(19, 59))
    b = c.broadcast()
    assert c.due(b.id)[pk] == at_ny(19, 59)
    c.dispatch()  # handed to a worker at 19:59...
    assert c.due(b.id) == {}
    c.at(at_ny(20, 0) + 30)
    c.run_jobs()  # ...which ran at 20:00:30: the window had closed
    assert c.fake.received == [] and c.ran == [(f"{b.id}:{pk}", "deferred")]
    morning = at_ny(9, day=26)
    assert morning <= c.due(b.id)[pk] < morning + HOUR
    assert c.get(b.id).status is Status.SENDING and not messages.exists(c.r, broadcast.message_id(b.id, pk))
    c.at(c.due(b.id)[pk]).tick()
    assert c.sent_to() == [BOSTON] and c.get(b.id).status is Status.SENT


def test_send_at_is_scheduled_then_sending_then_sent(center):
    c = center
    c.put(BOSTON)
    send_at = at_ny(13, 30)
    b = c.broadcast(send_at="2026-11-25T13:30:00-05:00")
    assert b.status is Status.SCHEDULED and b.send_at == send_at
    c.tick()
    c.at(send_at - 1).tick()
    assert c.fake.received == [] and c.get(b.id).status is Status.SCHEDULED
    c.at(send_at).dispatch()
    assert c.get(b.id).status is Status.SENDING
    c.run_jobs()
    assert c.sent_to() == [BOSTON]
    c.tick()
    assert c.get(b.id).status is Status.SENT and broadcasts.active(c.r) == []


def test_send_at_in_the_past_means_now(center):
    c = center
    c.put(BOSTON)
    b = c.broadcast(send_at="2026-11-25T08:00:00-05:00")
    assert b.status is Status.SENDING and b.send_at == NOON


def test_expires_at_drops_and_counts_what_is_unsent(center):
    c = center
    c.put(BOSTON)
    hawaii = c.put(HAWAII)
    b = c.broadcast(expires_at="2026-11-25T13:30:00-05:00")
    assert c.get(b.id).expires_at == at_ny(13, 30)
    c.tick()
    assert c.sent_to() == [BOSTON] and set(c.due(b.id)) == {hawaii}
    c.at(at_ny(13, 29)).tick()
    assert c.get(b.id).status is Status.SENDING
    c.at(at_ny(13, 30)).tick()
    done = c.get(b.id)
    assert done.status is Status.EXPIRED and done.counts["expired"] == 1
    assert c.due(b.id) == {} and broadcasts.active(c.r) == []
    view = c.view(b.id)
    assert (view["recipients"], view["sent"], view["queued"]) == (2, 1, 0)
    assert view["expires_at"] == "2026-11-25T13:30:00-05:00"
    c.at(at_ny(15)).tick()
    assert c.sent_to() == [BOSTON]  # the Hawaiian number never gets it


def test_a_job_still_in_the_queue_at_expiry_sends_nothing(center):
    c = center
    pk = c.put(BOSTON)
    b = c.broadcast(expires_at="2026-11-25T12:00:10-05:00")
    c.dispatch()  # in RQ
    c.at(NOON + 10).dispatch()  # the tick that expires it
    assert c.get(b.id).status is Status.EXPIRED
    c.run_jobs()
    assert c.fake.received == [] and c.ran == [(f"{b.id}:{pk}", "skipped")]
    assert c.view(b.id)["queued"] == 0


# -- cancel ----------------------------------------------------------------------------------------------

def test_after_cancel_nothing_more_reaches_twilio(center):
    c = center
    numbers = [f"+1617555{2000 + i}" for i in range(6)]
    for n in numbers:
        c.put(n)
    hawaii = c.put(HAWAII)
    b = c.broadcast()
    c.dispatch()  # six jobs in RQ, one recipient waiting for Hawaii's morning
    assert len(c.jobs()) == 6 and set(c.due(b.id)) == {hawaii}
    # two of the six go out before the cancel
    queue = queues.queue(c.r, queues.BULK)
    for job_id in queue.job_ids[:2]:
        job = Job.fetch(job_id, connection=c.r)
        broadcast.send(c.rt, job.args[0])
    assert len(c.fake.sent()) == 2

    canceled = rules.cancel(c.svc, b.id)
    assert canceled.status is Status.CANCELED and canceled.counts["canceled"] == 1  # Hawaii's, dropped
    c.run_jobs()  # every job already handed to RQ runs (the two sent ones again too)
    for moment in (at_ny(14, 30), at_ny(9, day=26)):
        c.at(moment).tick()
    assert len(c.fake.received) == 2
    assert c.get(b.id).status is Status.CANCELED and c.due(b.id) == {}
    view = c.view(b.id)
    assert (view["sent"], view["queued"]) == (2, 0)
    assert rules.cancel(c.svc, b.id).status is Status.CANCELED  # twice is harmless
    assert len(c.fake.received) == 2


def test_a_cancel_while_a_send_waits_for_its_slot_stops_it_at_the_last_step(center, monkeypatch):
    c = center
    pk = c.put(BOSTON)
    b = c.broadcast()
    c.dispatch()

    def cancel_then_sleep(seconds):
        rules.cancel(c.svc, b.id)  # lands after the job's checks, before its claim
        time.sleep(seconds)
    monkeypatch.setattr(delivery, "_sleep", cancel_then_sleep)
    for _ in range(int(1.0 / c.rt.limiter.interval) + 1):  # others' sends took the next second's slots: this
        c.rt.limiter.reserve()  # one waits (a single slot taken passed before a slow, loaded CI reached it)
    c.run_jobs()
    assert c.fake.received == []
    assert messages.state_of(c.r, broadcast.message_id(b.id, pk)).value == "skipped"
    assert c.get(b.id).status is Status.CANCELED and c.view(b.id)["queued"] == 0


def test_a_scheduled_broadcast_canceled_sends_nothing(center):
    c = center
    c.put(BOSTON)
    b = c.broadcast(send_at="2026-11-25T13:00:00-05:00")
    assert rules.cancel(c.svc, b.id).status is Status.CANCELED
    c.at(at_ny(13)).tick()
    assert c.fake.received == [] and c.get(b.id).counts["canceled"] == 1
    assert rules.cancel(c.svc, "bnope") is None


def test_a_finished_broadcast_cannot_be_canceled(center):
    c = center
    c.put(BOSTON)
    b = c.broadcast()
    c.tick()
    assert rules.cancel(c.svc, b.id).status is Status.SENT


# -- the funnel and resend to failed ---------------------------------------------------------------------

REJECTED, DEAD, CARRIER_STOP = "+16175550111", "+16175550112", "+16175550113"
UNDELIVERED, FAILED_LATER, DELIVERED = "+16175550114", "+16175550115", "+16175550116"


def test_the_funnel_counts_and_resend_to_failed_targets_exactly_those(center):
    c = center
    pks = {n: c.put(n) for n in (REJECTED, DEAD, CARRIER_STOP, UNDELIVERED, FAILED_LATER, DELIVERED)}
    c.fake.fail(REJECTED, 400, 21611)  # refused for another reason: failed, by its code
    c.fake.fail(DEAD, 400, 21211)  # not a valid number: nothing more goes to it
    c.fake.fail(CARRIER_STOP, 400, 21610)  # the carrier says they sent STOP
    b = c.broadcast()
    c.tick()
    assert sorted(c.sent_to()) == [UNDELIVERED, FAILED_LATER, DELIVERED]
    c.status(DELIVERED, "sent")
    c.status(DELIVERED, "delivered")
    c.status(UNDELIVERED, "undelivered", "30003")
    c.status(FAILED_LATER, "failed", "30007")
    c.status(DELIVERED, "delivered")  # a repeated callback counts once
    view = c.view(b.id)
    assert view["status"] == "sent"
    assert {k: view[k] for k in ("recipients", "queued", "sent", "delivered", "undelivered")} == \
        {"recipients": 6, "queued": 0, "sent": 3, "delivered": 1, "undelivered": 1}
    assert view["failed"] == {"21611": 1, "21211": 1, "21610": 1, "30007": 1}
    assert broadcasts.failed_people(c.r, b.id) == {pks[n] for n in (REJECTED, DEAD, CARRIER_STOP, UNDELIVERED,
                                                                     FAILED_LATER)}

    c.at(c.now + HOUR)
    c.fake.received.clear()
    again = rules.resend_failed(c.svc, b.id, "staff@center.org")
    assert again.id != b.id and again.resend_of == b.id and again.texts == b.texts
    assert again.group == "clinic" and again.status is Status.SENDING
    # the carrier's STOP made them opted out: held back; the dead number stays a target (nothing goes to it)
    assert set(c.due(again.id)) == {pks[n] for n in (REJECTED, DEAD, UNDELIVERED, FAILED_LATER)}
    assert again.held == {"opted_out": 1, "no_consent": 0, "held_by_staff": 0, "weekly_cap": 0, "channel_window": 0}
    c.tick()
    assert sorted(c.sent_to()) == [REJECTED, UNDELIVERED, FAILED_LATER]
    assert DELIVERED not in c.sent_to() and c.get(again.id).status is Status.SENT
    assert rules.resend_failed(c.svc, "bnope", "x") is None


def test_resend_with_nothing_failed_is_an_empty_broadcast(center):
    c = center
    c.put(BOSTON)
    b = c.broadcast()
    c.tick()
    again = rules.resend_failed(c.svc, b.id, "tests")
    assert again.counts["recipients"] == 0
    c.tick()
    assert c.get(again.id).status is Status.SENT and c.sent_to() == [BOSTON]


def test_resend_skips_someone_erased_since(center):
    c = center
    c.fake.fail(BOSTON, 400, 21611)
    c.fake.fail(BOSTON2, 400, 21611)
    c.put(BOSTON)
    keep = c.put(BOSTON2)
    b = c.broadcast()
    c.tick()
    c.erase(BOSTON)
    again = rules.resend_failed(c.svc, b.id, "tests")
    assert set(c.due(again.id)) == {keep} and sum(again.held.values()) == 0
    c.tick()
    assert c.sent_to() == [BOSTON2]


def test_replies_and_opt_outs_within_a_day_count_for_the_broadcast(center):
    c = center
    for n in (BOSTON, BOSTON2, BOSTON3):
        c.put(n)
    b = c.broadcast()
    c.tick()
    c.at(NOON + 2 * HOUR).text(BOSTON, "thanks, where is it?")
    c.at(NOON + 23 * HOUR).text(BOSTON2, "STOP")
    c.at(NOON + 25 * HOUR).text(BOSTON3, "STOP")  # over a day later: not the broadcast's
    counts = c.get(b.id).counts
    assert counts.get("replies") == 2 and counts.get("opt_outs") == 1


def test_a_stop_counts_for_the_latest_broadcast_only(center):
    c = center
    c.put(BOSTON)
    first = c.broadcast()
    c.tick()
    second = c.at(NOON + HOUR).broadcast()
    c.tick()
    c.at(NOON + 2 * HOUR).text(BOSTON, "STOP")
    assert c.get(first.id).counts.get("opt_outs", 0) == 0
    assert c.get(second.id).counts.get("opt_outs") == 1


# -- the weekly cap ---------------------------------------------------------------------------------------

def test_broadcasts_count_against_the_weekly_cap(center):
    c = center
    pk = c.put(BOSTON)
    made = []
    for i in range(4):
        made.append(c.at(NOON + i * DAY).broadcast())
        c.tick()
    assert c.sent_to() == [BOSTON] * 3
    assert made[3].counts["recipients"] == 0 and made[3].held["weekly_cap"] == 1
    c.at(NOON + 7 * DAY + 1)  # the first is a week old: room for one
    fifth = c.broadcast()
    assert set(c.due(fifth.id)) == {pk}
    c.tick()
    assert c.sent_to() == [BOSTON] * 4


def test_the_cap_is_checked_again_at_send_time(center):
    c = center
    c.put(BOSTON)
    c.put(BOSTON2, groups=("clinic", "few"))
    b = c.broadcast(send_at="2026-11-25T14:00:00-05:00")  # planned while under the cap
    for _ in range(3):
        c.broadcast(group="few")
        c.tick()
        c.at(c.now + 60)
    c.at(at_ny(14)).tick()
    done = c.get(b.id)
    assert c.sent_to().count(BOSTON2) == 3 and c.sent_to().count(BOSTON) == 1
    assert done.held["weekly_cap"] == 1 and done.counts["sent"] == 1 and done.status is Status.SENT


def test_a_stop_or_a_hold_after_planning_is_respected_at_send_time(center):
    c = center
    stopper, held = c.put(BOSTON), c.put(BOSTON2)
    c.put(BOSTON3)
    b = c.broadcast()
    assert set(c.due(b.id)) >= {stopper, held}  # both planned as recipients
    c.text(BOSTON, "STOP")
    assert handoff.take_over(c.svc, held, "staff@center.org")
    c.tick()
    assert c.sent_to() == [BOSTON3]
    done = c.get(b.id)
    assert done.held["opted_out"] == 1 and done.held["held_by_staff"] == 1 and done.status is Status.SENT
    assert c.view(b.id)["queued"] == 0


def test_someone_erased_after_planning_is_skipped_and_the_broadcast_finishes(center):
    c = center
    c.put(BOSTON)
    c.put(BOSTON2)
    b = c.broadcast()
    c.erase(BOSTON)
    c.tick()
    assert c.sent_to() == [BOSTON2]
    assert c.get(b.id).status is Status.SENT and c.view(b.id)["queued"] == 0


def test_someone_erased_while_their_send_waits_for_its_slot_does_not_hold_the_broadcast_open(center, monkeypatch):
    c = center
    c.put(BOSTON)
    b = c.broadcast()
    c.dispatch()

    def erase_then_sleep(seconds):
        if c.r.exists(keys.of(c.r).contact(c.pk(BOSTON))):  # once (a late wake-up takes another slot)
            c.erase(BOSTON)  # lands after the job wrote its record, before its claim
        time.sleep(seconds)
    monkeypatch.setattr(delivery, "_sleep", erase_then_sleep)
    for _ in range(int(1.0 / c.rt.limiter.interval) + 1):  # a second of slots taken: the send waits
        c.rt.limiter.reserve()
    c.run_jobs()
    assert c.fake.received == []
    c.tick()
    assert c.view(b.id)["queued"] == 0 and c.get(b.id).status is Status.SENT


# -- at most once -----------------------------------------------------------------------------------------

def test_a_send_run_twice_texts_once(center):
    c = center
    pk = c.put(BOSTON)
    b = c.broadcast()
    c.dispatch()
    arg = f"{b.id}:{pk}"
    assert broadcast.send(c.rt, arg) == "sent"
    assert broadcast.send(c.rt, arg) == "sent"
    queues.enqueue_broadcast(c.r, [arg], c.now)  # the sweeper's (or RQ's) second copy
    c.run_jobs()
    c.tick()
    assert c.sent_to() == [BOSTON]
    assert c.get(b.id).counts["sent"] == 1 and c.get(b.id).counts["out:sent"] == 1


def test_a_held_recipients_job_run_twice_counts_once(center):
    c = center
    stopper = c.put(BOSTON)
    c.put(BOSTON2)
    b = c.broadcast()
    c.text(BOSTON, "STOP")
    c.dispatch()
    arg = f"{b.id}:{stopper}"
    assert broadcast.send(c.rt, arg) == "held"
    broadcast.send(c.rt, arg)  # the same job again
    c.dispatch()
    assert c.view(b.id)["queued"] == 1  # BOSTON2's job has not run yet
    assert c.get(b.id).status is Status.SENDING
    assert c.get(b.id).counts["out:held"] == 1 and c.get(b.id).held["opted_out"] == 1  # counted once


def test_two_workers_racing_on_one_recipient_text_once(center, app):
    c = center
    numbers = [f"+1617555{3000 + i}" for i in range(10)]
    pks = [c.put(n) for n in numbers]
    b = c.broadcast()
    c.dispatch()
    runtimes = [make_runtime(svc_of(app)) for _ in range(4)]
    barrier, errors = threading.Barrier(4), []

    def worker(rt):
        try:
            barrier.wait()
            for pk in pks:
                broadcast.send(rt, f"{b.id}:{pk}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=worker, args=(rt,)) for rt in runtimes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    retried = [e for e in errors if isinstance(e, RetryLater)]
    assert len(retried) == len(errors), errors  # only "a send in flight, look again shortly"
    c.run_jobs()
    assert sorted(c.sent_to()) == sorted(numbers)
    c.tick()
    done = c.get(b.id)
    assert done.counts["sent"] == 10 and done.status is Status.SENT


class DiesAfterClaim:
    """A Twilio client whose worker is SIGKILLed while the request is in flight (it may have gone out)."""

    def __init__(self):
        self.calls = 0

    def send(self, to, body, content=None) -> Sent:
        self.calls += 1
        raise SystemExit("killed")


def test_a_send_whose_worker_died_after_claiming_is_never_resent_and_the_broadcast_finishes(center, app):
    c = center
    pk = c.put(BOSTON)
    c.put(BOSTON2)
    b = c.broadcast()
    c.dispatch()
    dying = make_runtime(svc_of(app), sender=DiesAfterClaim())
    with pytest.raises(SystemExit):
        broadcast.send(dying, f"{b.id}:{pk}")
    mid = broadcast.message_id(b.id, pk)
    assert messages.state_of(c.r, mid).value == "sending"
    with pytest.raises(RetryLater):  # RQ runs its job again: too soon to tell
        broadcast.send(c.rt, f"{b.id}:{pk}")
    c.run_jobs()  # the other recipient, and this one's job too soon again (raised, so RQ would retry)
    assert c.sent_to() == [BOSTON2] and c.get(b.id).status is Status.SENDING
    c.at(NOON + delivery.STALLED_AFTER + 1)
    assert broadcast.send(c.rt, f"{b.id}:{pk}") == "unknown"
    c.tick()
    done = c.get(b.id)
    assert done.status is Status.SENT and done.counts["out:unknown"] == 1 and done.counts["sent"] == 1
    assert c.sent_to() == [BOSTON2]


# -- what a request may say -------------------------------------------------------------------------------

@pytest.mark.parametrize("data, field", [
    ({"group": "clinic"}, "text"),
    ({"text": ["hi"], "group": "clinic"}, "text"),
    ({"text": {}, "group": "clinic"}, "text"),
    ({"text": {"fr": "Bonjour", "en": "Hi"}, "group": "clinic"}, "text.fr"),
    ({"text": {"en": "   "}, "group": "clinic"}, "text.en"),
    ({"text": {"en": 7}, "group": "clinic"}, "text.en"),
    ({"text": {"es": "Hola"}, "group": "clinic"}, "text.en"),
    ({"text": {"en": "x" * 1601}, "group": "clinic"}, "text.en"),
    ({"text": {"en": "Hi"}}, "group"),
    ({"text": {"en": "Hi"}, "group": "clinic", "all": True}, "group"),
    ({"text": {"en": "Hi"}, "group": ""}, "group"),
    ({"text": {"en": "Hi"}, "group": "no such group!"}, "group"),
    ({"text": {"en": "Hi"}, "group": "nobody-here"}, "group"),
    ({"text": {"en": "Hi"}, "all": "yes"}, "group"),
    ({"text": {"en": "Hi"}, "group": "clinic", "send_at": "2026-11-25T13:00:00"}, "send_at"),
    ({"text": {"en": "Hi"}, "group": "clinic", "send_at": "tomorrow"}, "send_at"),
    ({"text": {"en": "Hi"}, "group": "clinic", "expires_at": "2026-11-25T11:00:00-05:00"}, "expires_at"),
    ({"text": {"en": "Hi"}, "group": "clinic", "send_at": "2026-11-25T14:00:00-05:00",
      "expires_at": "2026-11-25T13:00:00-05:00"}, "expires_at"),
    ({"text": {"en": "Hi"}, "group": "clinic", "channel": "sms"}, "channel"),
    (["not", "an", "object"], "body"),
])
def test_what_a_request_may_say(center, data, field):
    center.put(BOSTON)
    with pytest.raises(Refused) as refused:
        rules.request_from(data, center.svc, center.now)
    assert refused.value.field == field
    assert broadcasts.recent(center.r) == []


def test_preview_is_exactly_what_create_plans(center):
    c = center
    c.put(BOSTON)
    c.put(HAWAII)
    c.put(BOSTON2, consent=False)
    req = rules.request_from({"text": {"en": EN_TEXT}, "group": "clinic"}, c.svc, c.now)
    planned = rules.preview(c.svc, req, c.now)
    assert broadcasts.recent(c.r) == []  # a preview writes nothing
    b = rules.create(c.svc, req, "tests", c.now)
    assert len(planned.due) == b.counts["recipients"] == 2 and planned.held == b.held
    assert set(planned.due) == set(c.due(b.id))


def test_sent_in_the_bulk_lane_below_everything_else(center):
    c = center
    c.put(BOSTON)
    b = c.broadcast()
    c.dispatch()
    assert queues.ALL.index(queues.BULK) == len(queues.ALL) - 2  # only housekeeping below it
    [job] = queues.queue(c.r, queues.BULK).jobs
    assert job.func_name == "workers.jobs.send_broadcast" and job.args[0] == f"{b.id}:{c.pk(BOSTON)}"
    for other in (queues.ALERTS, queues.REPLIES, queues.FOLLOWUPS):
        assert queues.queue(c.r, other).count == 0


def test_the_tick_hands_over_only_ten_seconds_of_sending(redis_url, redis, fake):
    app = make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM, SEND_RATE_PER_SECOND="2"))
    c = Center(app, fake)
    for i in range(30):
        c.put(f"+1617555{4000 + i}")
    b = c.broadcast()
    assert c.dispatch() == 20  # 2 a second, 10 s of it
    assert c.dispatch() == 0 and len(c.due(b.id)) == 10
    assert c.view(b.id)["queued"] == 30
