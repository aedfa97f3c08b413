"""Closures: holidays and one-off closed days, and every promise made from business hours honouring them."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows import closures
from flows.hours import callback_due, callback_eta, parse_weekly

NY = ZoneInfo("America/New_York")
BUSINESS = parse_weekly("Mon-Fri 09:00-17:00")


def ny(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY)


@pytest.mark.parametrize("year, expected", [
    (2026, ["2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07",
            "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25"]),
    (2027, ["2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06",
            "2027-10-11", "2027-11-11", "2027-11-25", "2027-12-24"]),  # Christmas 2027 is a Saturday
    (2022, ["2021-12-31", "2022-01-17", "2022-02-21", "2022-05-30", "2022-06-20", "2022-07-04", "2022-09-05",
            "2022-10-10", "2022-11-11", "2022-11-24", "2022-12-26"]),  # New Year's 2022 a Saturday, Christmas a Sunday
])
def test_us_federal_holidays_on_their_observed_days(year, expected):
    assert [d.isoformat() for d in closures.us_federal_holidays(year)] == expected


def test_every_federal_holiday_has_a_name_and_falls_on_a_weekday():
    for year in range(2024, 2040):
        days = closures.us_federal_holidays(year)
        assert len(days) == 11 and all(name for name in days.values())
        assert all(d.weekday() < 5 for d in days)


@pytest.mark.parametrize("spec, expected", [
    ("", {}),
    ("2026-12-25 Christmas Day", {date(2026, 12, 25): "Christmas Day"}),
    ("2026-12-25\n\n2026-11-26   Thanksgiving  Day  ", {date(2026, 11, 26): "Thanksgiving Day", date(2026, 12, 25): ""}),
    ("2027-01-04 Storm; 2026-12-25", {date(2026, 12, 25): "", date(2027, 1, 4): "Storm"}),
    ("2026-12-25 First\n2026-12-25 Second", {date(2026, 12, 25): "Second"}),  # one entry per day
])
def test_parse(spec, expected):
    assert closures.parse(spec) == expected


@pytest.mark.parametrize("spec, message", [
    ("Christmas", "cannot read closure 'Christmas'"),
    ("12/25/2026 Christmas", "cannot read closure"),
    ("2026-02-30 Nope", "2026-02-30 is not a date"),
])
def test_parse_refuses_with_the_bad_line(spec, message):
    with pytest.raises(ValueError, match=message):
        closures.parse(spec)


def test_written_form_reads_back():
    days = closures.us_federal_holidays(2026)
    assert closures.parse(closures.write(days)) == days


THANKSGIVING = BUSINESS.with_closed({date(2026, 11, 26)})


def test_a_closed_day_is_not_open():
    assert BUSINESS.is_open(ny(2026, 11, 26, 10))
    assert not THANKSGIVING.is_open(ny(2026, 11, 26, 10))
    assert THANKSGIVING.is_open(ny(2026, 11, 27, 10))


def test_no_promise_of_minutes_on_a_holiday():
    assert callback_eta(ny(2026, 11, 26, 10), BUSINESS, 30) == "within about 30 minutes"
    assert callback_eta(ny(2026, 11, 26, 10), THANKSGIVING, 30) == "after 9:00 AM EST tomorrow"
    assert callback_eta(ny(2026, 11, 25, 16, 50), THANKSGIVING, 30) == "after 9:00 AM EST on Friday"
    assert callback_eta(ny(2026, 11, 26, 10), THANKSGIVING, 30, "es") == "después de las 9:00 (EST) mañana"


def test_callback_due_is_the_first_day_open_again():
    due = callback_due(ny(2026, 11, 26, 10), THANKSGIVING, 30)
    assert due == ny(2026, 11, 27, 17)


def test_a_long_closure_names_the_date():
    winter = BUSINESS.with_closed({date(2026, 12, 24) + timedelta(days=i) for i in range(12)})  # to Jan 4
    assert callback_eta(ny(2026, 12, 24, 10), winter, 30) == "after 9:00 AM EST on Tuesday, January 5"
    assert callback_eta(ny(2026, 12, 24, 10), winter, 30, "es") == "después de las 9:00 (EST) el martes 5 de enero"


def test_closed_for_longer_than_the_look_ahead_promises_nothing_it_cant_keep():
    closed = BUSINESS.with_closed({date(2026, 12, 1) + timedelta(days=i) for i in range(100)})
    assert callback_eta(ny(2026, 12, 1, 10), closed, 30) == "as soon as we can"
