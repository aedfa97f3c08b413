"""flows.journeys (pure planning) and flows.journey_docs (journey YAML): when each event of a journey is
due, in the recipient's own zone and inside SEND_HOURS; an event already past is not planned; an event
before the date that the send hours could only fit after the date's moment is dropped and counted; and
every problem of a journey document named with its file and line. Fixed times only: no wall clock."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.fields import FieldType
from flows.hours import parse_weekly
from flows.journeys import Journey, JourneyEvent, Planned, due_at, plan
from flows.loader import DEFINITIONS, FlowError, load_documents
from flows.schedule import JITTER_SECONDS, SendRules, jitter
from service.phone import recipient_zones

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
NY_NUMBER, LA_NUMBER = "+16175550123", "+12135550123"  # Boston (New York's zone), Los Angeles
RULES = SendRules(parse_weekly("Mon-Sun 09:00-20:00"), NY)
ALWAYS = SendRules(parse_weekly("Mon-Sun 00:00-24:00"), NY)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=NY).timestamp()  # Wednesday noon in New York
KEY = "person:appointment"

REMINDER = JourneyEvent(timedelta(days=-1), time(10, 0), text={"en": "Reminder. Reply STOP to opt out."})
CONFIRM = JourneyEvent(timedelta(hours=-2), flow="confirm")
APPOINTMENT = Journey("appointment", 1, "appointment_at", (REMINDER, CONFIRM))


def zones_of(number: str) -> tuple[ZoneInfo, ...]:
    return recipient_zones(number, NY)


def planned(journey: Journey, value: str, number: str = NY_NUMBER, rules: SendRules = RULES, now: float = NOW,
            kind: FieldType = FieldType.DATETIME, key: str = KEY) -> tuple[list[Planned], int]:
    zones = zones_of(number)
    return plan(journey, kind, value, zones[0], zones, rules, now, key)


def local(ts: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, zone)


def one(offset: str | timedelta, at: time | None = None) -> Journey:
    if isinstance(offset, str):
        unit = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
        offset = unit[offset[-1]] * int(offset[:-1])
    return Journey("j", 1, "appointment_at", (JourneyEvent(offset, at, text={"en": "x STOP"}),))


# -- in the recipient's zone ---------------------------------------------------------------------------------

def test_the_recipient_zones_of_the_numbers_these_tests_use():
    assert zones_of(NY_NUMBER) == (NY,) and zones_of(LA_NUMBER) == (LA,)


@pytest.mark.parametrize("number,value,reminder,confirm", [
    # an appointment on Thursday December 3 at 14:30 in the recipient's own zone
    (NY_NUMBER, "2026-12-03T14:30:00-05:00", datetime(2026, 12, 2, 10, 0, tzinfo=NY), datetime(2026, 12, 3, 12, 30, tzinfo=NY)),
    (LA_NUMBER, "2026-12-03T14:30:00-08:00", datetime(2026, 12, 2, 10, 0, tzinfo=LA), datetime(2026, 12, 3, 12, 30, tzinfo=LA)),
    # the center's system wrote the moment with New York's offset; the person in LA reads it as 11:30
    (LA_NUMBER, "2026-12-03T14:30:00-05:00", datetime(2026, 12, 2, 10, 0, tzinfo=LA), datetime(2026, 12, 3, 9, 30, tzinfo=LA)),
    # 01:00 in New York is the evening before in LA: "the day before" is the LA day before (December 1)
    (LA_NUMBER, "2026-12-03T01:00:00-05:00", datetime(2026, 12, 1, 10, 0, tzinfo=LA), None),
    # written in UTC, read in New York
    (NY_NUMBER, "2026-12-03T19:30:00+00:00", datetime(2026, 12, 2, 10, 0, tzinfo=NY), datetime(2026, 12, 3, 12, 30, tzinfo=NY)),
])
def test_the_day_before_at_ten_and_two_hours_before_in_the_recipients_zone(number, value, reminder, confirm):
    events, dropped = planned(APPOINTMENT, value, number)
    zone = zones_of(number)[0]
    expected = [Planned(0, reminder.timestamp())]
    if confirm is not None:
        expected.append(Planned(1, confirm.timestamp()))
    assert events == expected
    # 2 h before 22:00 in LA is 20:00, the window's end: held to the next morning, after the appointment
    assert dropped == (0 if confirm is not None else 1)
    assert local(events[0].due, zone).hour == 10 and local(events[0].due, zone).minute == 0


@pytest.mark.parametrize("value,offset,at,expected", [
    ("2026-11-26", "1d", time(11, 0), datetime(2026, 11, 27, 11, 0)),   # aftercare: day 1 at 11:00
    ("2026-11-26", "7d", time(11, 0), datetime(2026, 12, 3, 11, 0)),
    ("2026-11-26", "30d", time(11, 0), datetime(2026, 12, 26, 11, 0)),
    ("2026-11-26", "2w", None, datetime(2026, 12, 10, 9, 0)),            # midnight + 2 weeks: held to 09:00 (+jitter)
    ("2026-11-26", "-1d", time(18, 0), datetime(2026, 11, 25, 18, 0)),
])
@pytest.mark.parametrize("number", [NY_NUMBER, LA_NUMBER])
def test_a_date_fields_events_are_at_that_local_time_in_the_recipients_zone(value, offset, at, expected, number):
    zone = zones_of(number)[0]
    [event], dropped = planned(one(offset, at), value, number, kind=FieldType.DATE)
    got = local(event.due, zone)
    assert dropped == 0
    if at is None:  # held to the window's opening, with its jitter
        assert expected.replace(tzinfo=zone) <= got < expected.replace(tzinfo=zone) + timedelta(hours=1)
        assert event.due == expected.replace(tzinfo=zone).timestamp() + jitter(f"{KEY}:0")
    else:
        assert got == expected.replace(tzinfo=zone)


def test_a_date_field_is_midnight_in_the_recipients_own_zone():
    """"2026-11-26" in LA begins three hours after it begins in New York; events follow it."""
    ny_event, _ = planned(one("1h"), "2026-11-26", NY_NUMBER, rules=ALWAYS, kind=FieldType.DATE)
    la_event, _ = planned(one("1h"), "2026-11-26", LA_NUMBER, rules=ALWAYS, kind=FieldType.DATE)
    assert local(ny_event[0].due, NY) == datetime(2026, 11, 26, 1, 0, tzinfo=NY)
    assert local(la_event[0].due, LA) == datetime(2026, 11, 26, 1, 0, tzinfo=LA)
    assert la_event[0].due - ny_event[0].due == 3 * 3600


# -- across the DST change (Sunday November 1 2026, 02:00 EDT -> 01:00 EST) ----------------------------------

@pytest.mark.parametrize("value,expected_local,utc_hour", [
    # the appointment after the change, the reminder on the day of the change: 10:00 EST
    ("2026-11-02T09:00:00-05:00", datetime(2026, 11, 1, 10, 0), 15),
    # the appointment on the day of the change, the reminder the day before it: 10:00 EDT
    ("2026-11-01T14:00:00-05:00", datetime(2026, 10, 31, 10, 0), 14),
    # both after it
    ("2026-11-04T14:00:00-05:00", datetime(2026, 11, 3, 10, 0), 15),
    # both before it
    ("2026-10-30T14:00:00-04:00", datetime(2026, 10, 29, 10, 0), 14),
])
def test_at_ten_is_ten_on_the_local_wall_clock_across_the_dst_change(value, expected_local, utc_hour):
    now = datetime(2026, 10, 20, 12, 0, tzinfo=NY).timestamp()
    journey = Journey("appointment", 1, "appointment_at", (REMINDER,))
    [event], dropped = planned(journey, value, now=now)
    assert local(event.due, NY) == expected_local.replace(tzinfo=NY) and dropped == 0
    assert datetime.fromtimestamp(event.due, ZoneInfo("UTC")).hour == utc_hour


def test_a_day_offset_without_a_time_is_wall_clock_days_across_the_dst_change():
    """Sunday November 1 at 14:00 EST, one day before: Saturday 14:00 EDT (25 real hours: the day of the
    change is long)."""
    appointment = datetime(2026, 11, 1, 14, 0, tzinfo=NY)
    due = due_at(JourneyEvent(timedelta(days=-1)), appointment)
    assert due == datetime(2026, 10, 31, 14, 0, tzinfo=NY)
    assert appointment.timestamp() - due.timestamp() == 25 * 3600
    [event], _ = planned(one("-1d"), appointment.isoformat(), now=datetime(2026, 10, 20, tzinfo=NY).timestamp())
    assert local(event.due, NY) == datetime(2026, 10, 31, 14, 0, tzinfo=NY)


def test_at_ten_in_la_across_the_dst_change():
    la_number_value = "2026-11-02T09:00:00-08:00"
    now = datetime(2026, 10, 20, 12, 0, tzinfo=NY).timestamp()
    [event], _ = planned(Journey("a", 1, "appointment_at", (REMINDER,)), la_number_value, LA_NUMBER, now=now)
    assert local(event.due, LA) == datetime(2026, 11, 1, 10, 0, tzinfo=LA)


# -- SEND_HOURS ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("at,opening", [
    (time(7, 0), datetime(2026, 12, 2, 9, 0)),     # before the window: held to 09:00 the same day, jittered
    (time(20, 30), datetime(2026, 12, 3, 9, 0)),   # after it: the next morning (still before the 14:30 appointment)
    (time(0, 0), datetime(2026, 12, 2, 9, 0)),
])
@pytest.mark.parametrize("key", ["p1:appointment", "p2:appointment", "someone-else:appointment"])
def test_send_hours_hold_an_event_to_the_windows_start_with_its_jitter(at, opening, key):
    [event], dropped = planned(one("-1d", at), "2026-12-03T14:30:00-05:00", key=key)
    start = opening.replace(tzinfo=NY).timestamp()
    assert dropped == 0
    assert event.due == start + jitter(f"{key}:0")  # its own jitter: the same event always lands at the same moment
    assert start <= event.due < start + JITTER_SECONDS


def test_an_event_inside_the_window_is_not_jittered():
    [event], _ = planned(one("-1d", time(9, 0)), "2026-12-03T14:30:00-05:00")
    assert event.due == datetime(2026, 12, 2, 9, 0, tzinfo=NY).timestamp()
    [event], _ = planned(one("-1d", time(19, 59)), "2026-12-03T14:30:00-05:00")
    assert event.due == datetime(2026, 12, 2, 19, 59, tzinfo=NY).timestamp()


def test_the_jitter_stays_inside_a_short_window():
    """A window shorter than the jitter: an event held to it never lands after it closes."""
    rules = SendRules(parse_weekly("Mon-Sun 09:00-09:10"), NY)
    start = datetime(2026, 12, 2, 9, 0, tzinfo=NY).timestamp()
    dues = []
    for i in range(40):
        [event], dropped = planned(one("-1d", time(7, 0)), "2026-12-03T14:30:00-05:00", rules=rules, key=f"p{i}:a")
        assert dropped == 0 and start <= event.due < start + 600
        dues.append(event.due)
    assert start in dues  # a jitter that would leave the window falls back to the opening


def test_send_hours_hold_in_every_zone_of_the_number():
    """Area code 907 spans Anchorage and Adak (an hour apart): held until 09:00 in both."""
    number = "+19075550123"
    zones = zones_of(number)
    assert len(zones) == 2
    [event], _ = planned(one("-1d", time(9, 0)), "2026-12-03T14:30:00-09:00", number)
    for zone in zones:
        assert 9 <= local(event.due, zone).hour < 20


def test_weekday_send_hours_hold_a_saturday_event_to_monday():
    rules = SendRules(parse_weekly("Mon-Fri 09:00-17:00"), NY)
    # discharged on Friday December 4; day 1 is Saturday the 5th at 11:00: held to Monday 09:00 (+ jitter)
    [event], dropped = planned(one("1d", time(11, 0)), "2026-12-04", rules=rules, kind=FieldType.DATE)
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=NY).timestamp()
    assert dropped == 0 and event.due == monday + jitter(f"{KEY}:0")


# -- dropped and counted; past -------------------------------------------------------------------------------

@pytest.mark.parametrize("appointment,offset,kept", [
    ("2026-12-03T08:00:00-05:00", "-2h", False),  # 06:00, held to 09:00+: after the 08:00 appointment
    ("2026-12-03T09:00:00-05:00", "-1h", False),  # 08:00, held to 09:00 at the earliest: not before it
    ("2026-12-03T10:30:00-05:00", "-2h", True),   # 08:30, held to 09:00 + under an hour: before 10:30
    ("2026-12-03T21:00:00-05:00", "-30m", False),  # 20:30, held to tomorrow 09:00+
    ("2026-12-03T21:00:00-05:00", "-2h", True),   # 19:00: inside the window, as planned
])
def test_an_event_before_the_date_held_past_its_moment_is_dropped_and_counted(appointment, offset, kept):
    events, dropped = planned(one(offset), appointment)
    assert (len(events), dropped) == ((1, 0) if kept else (0, 1))
    if kept:
        assert events[0].due < datetime.fromisoformat(appointment).timestamp()


def test_an_event_held_exactly_to_the_moment_is_dropped():
    """A window opening at 10:00 and an appointment at 10:00: "1 h before" can go at 10:00 at best."""
    rules = SendRules(parse_weekly("Mon-Sun 10:00-20:00"), NY)
    for i in range(20):  # whatever its jitter
        assert planned(one("-1h"), "2026-12-03T10:00:00-05:00", rules=rules, key=f"p{i}:x") == ([], 1)


def test_an_event_after_the_date_held_by_the_window_is_not_dropped():
    """Only a reminder (a negative offset) is pointless late; a check-in after discharge just waits."""
    [event], dropped = planned(one("3h"), "2026-12-03T19:00:00-05:00")  # 22:00: tomorrow morning
    assert dropped == 0 and local(event.due, NY).date() == datetime(2026, 12, 4).date()


def test_the_shipped_appointment_and_its_dropped_events_are_counted_each():
    """An appointment at 08:30: the reminder the day before stands; the confirmation (06:30) is dropped."""
    events, dropped = planned(APPOINTMENT, "2026-12-03T08:30:00-05:00")
    assert [e.event for e in events] == [0] and dropped == 1


@pytest.mark.parametrize("now,expected", [
    (datetime(2026, 11, 25, 12, 0, tzinfo=NY), [0, 1]),
    (datetime(2026, 12, 2, 10, 0, tzinfo=NY), [0, 1]),        # due exactly now: planned
    (datetime(2026, 12, 2, 10, 0, 1, tzinfo=NY), [1]),       # a second late: the reminder is past
    (datetime(2026, 12, 3, 12, 30, tzinfo=NY), [1]),
    (datetime(2026, 12, 3, 13, 0, tzinfo=NY), []),
    (datetime(2026, 12, 4, 12, 0, tzinfo=NY), []),            # the appointment itself is past
])
def test_an_event_already_past_is_never_planned_nor_counted(now, expected):
    events, dropped = planned(APPOINTMENT, "2026-12-03T14:30:00-05:00", now=now.timestamp())
    assert [e.event for e in events] == expected and dropped == 0


def test_a_past_event_held_by_the_window_is_judged_by_its_own_time_not_its_held_time():
    """At 08:00, an event that was due at 07:00 is past even though the window would have held it to 09:00."""
    now = datetime(2026, 12, 2, 8, 0, tzinfo=NY).timestamp()
    assert planned(one("-1d", time(7, 0)), "2026-12-03T14:30:00-05:00", now=now) == ([], 0)


def test_planning_is_deterministic():
    first = planned(APPOINTMENT, "2026-12-03T14:30:00-05:00", key="p:appointment")
    assert all(planned(APPOINTMENT, "2026-12-03T14:30:00-05:00", key="p:appointment") == first for _ in range(5))


# -- the shipped journeys ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def docs() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(DEFINITIONS.glob("*.yaml"))}


def test_the_shipped_journeys_read_as_documented(docs):
    journeys = load_documents(docs).journeys
    appointment, aftercare = journeys["appointment"], journeys["aftercare"]
    assert appointment.field == "appointment_at" and appointment.group is None and appointment.version == 1
    assert [(e.offset, e.at, e.flow) for e in appointment.events] == [
        (timedelta(days=-1), time(10, 0), None), (timedelta(hours=-2), None, "confirm")]
    assert "STOP" in appointment.events[0].text["en"] and "PARAR" in appointment.events[0].text["es"]
    assert aftercare.field == "discharged_on"
    assert [(e.offset, e.at, e.flow) for e in aftercare.events] == [
        (timedelta(days=d), time(11, 0), "wellbeing") for d in (1, 7, 30, 90)]


# -- journey YAML problems, each with its file and line -------------------------------------------------------

VISIT = """\
journey: visit
version: 1
field: {field}
events:
  - offset: {offset}
    at: "{at}"
    {body}
"""
GOOD = dict(field="appointment_at", offset="-1d", at="10:00", body="text: See you tomorrow. Reply STOP to opt out.")


def problems_of(docs: dict[str, str], text: str, file: str = "visit.yaml") -> list[str]:
    with pytest.raises(FlowError) as info:
        load_documents({**docs, file: text})
    return [str(p) for p in info.value.problems]


def test_a_good_journey_document_loads(docs):
    journey = load_documents({**docs, "visit.yaml": VISIT.format(**GOOD)}).journeys["visit"]
    assert journey.events == (JourneyEvent(timedelta(days=-1), time(10, 0), {"en": "See you tomorrow. Reply STOP to opt out."}),)


@pytest.mark.parametrize("change,expected", [
    ({"field": "visit_at"},
     "visit.yaml:3: visit: field must name a date or datetime field declared in program.yaml (appointment_at, discharged_on)"),
    ({"field": "first_name"},  # declared, but text: no moment to time from
     "visit.yaml:3: visit: field must name a date or datetime field declared in program.yaml (appointment_at, discharged_on)"),
    ({"offset": "-1y"},
     "visit.yaml:5: visit event 1: offset must be like -1d, -2h, 30m or 1w (negative: before the date), within 400 days"),
    ({"offset": "-401d"},
     "visit.yaml:5: visit event 1: offset must be like -1d, -2h, 30m or 1w (negative: before the date), within 400 days"),
    ({"offset": "1.5d"},
     "visit.yaml:5: visit event 1: offset must be like -1d, -2h, 30m or 1w (negative: before the date), within 400 days"),
    ({"at": "25:00"}, 'visit.yaml:6: visit event 1: at must be a local time like "10:00"'),
    ({"at": "10am"}, 'visit.yaml:6: visit event 1: at must be a local time like "10:00"'),
    ({"body": "text: See you tomorrow."}, "visit.yaml:7: visit event 1: must say how to stop (STOP)"),
    ({"body": "text: {en: See you tomorrow. Reply STOP., es: Hasta mañana.}"},
     "visit.yaml:7: visit event 1: must say how to stop (PARAR or STOP)"),
    ({"body": "text: See you. Reply STOP.\n    flow: confirm"},
     "visit.yaml:5: visit event 1: needs either a text or a flow (whose first step is the text)"),
    ({"body": "flow: nope"}, "visit.yaml:7: visit event 1: flow 'nope' does not exist"),
    ({"body": "text: Your visit is {visit_at}. Reply STOP."}, "visit.yaml:7: visit event 1: unknown placeholder {visit_at}"),
])
def test_each_problem_of_a_journey_document_names_its_file_and_line(docs, change, expected):
    assert problems_of(docs, VISIT.format(**{**GOOD, **change})) == [expected]


def test_an_event_with_neither_text_nor_flow(docs):
    text = "journey: visit\nfield: appointment_at\nevents:\n  - offset: -1d\n    at: \"10:00\"\n"
    assert problems_of(docs, text) == [
        "visit.yaml:4: visit event 1: needs either a text or a flow (whose first step is the text)"]


def test_every_problem_at_once_each_at_its_own_line(docs):
    text = """\
journey: visit
field: appointment_at
events:
  - offset: -1d
    at: "10:00"
    text: Fine. Reply STOP to opt out.
  - offset: -2h
    flow: nope
  - offset: -3h
    text: See you tomorrow.
  - offset: soon
    text: Reply STOP.
  - offset: 2h
    at: "9"
    text: Reply STOP.
"""
    assert problems_of(docs, text) == [
        "visit.yaml:11: visit event 4: offset must be like -1d, -2h, 30m or 1w (negative: before the date), within 400 days",
        'visit.yaml:14: visit event 5: at must be a local time like "10:00"',
        "visit.yaml:8: visit event 2: flow 'nope' does not exist",
        "visit.yaml:10: visit event 3: must say how to stop (STOP)",
    ]


def test_problems_after_a_refused_event_still_name_their_own_event_and_line(docs):
    """An event refused for its offset does not shift the numbers and lines of the events after it."""
    text = """\
journey: visit
field: appointment_at
events:
  - offset: soon
    text: Reply STOP.
  - offset: -2h
    flow: nope
  - offset: -3h
    text: See you tomorrow.
"""
    assert problems_of(docs, text) == [
        "visit.yaml:4: visit event 1: offset must be like -1d, -2h, 30m or 1w (negative: before the date), within 400 days",
        "visit.yaml:7: visit event 2: flow 'nope' does not exist",
        "visit.yaml:9: visit event 3: must say how to stop (STOP)",
    ]


def test_a_journey_name_used_twice_is_named_where_it_is_used_again(docs):
    found = problems_of(docs, VISIT.format(**GOOD).replace("journey: visit", "journey: appointment"), "again.yaml")
    assert found == ["again.yaml:1: appointment: the name 'appointment' is used by another flow or journey"]
