"""flows.hours: reading opening hours, and the times derived from them (pure, fixed datetimes)."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.hours import Window, WeeklyHours, callback_eta, parse_weekly

NY = ZoneInfo("America/New_York")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
NINE_TO_FIVE = Window(time(9), time(17))


def ny(y, mo, d, h=0, mi=0, s=0, fold=0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=NY, fold=fold)


# 2025-01-13 is a Monday; 2025-03-09 (spring forward) and 2025-11-02 (fall back) are Sundays.
def jan(day, h=0, mi=0, s=0) -> datetime:
    return ny(2025, 1, day, h, mi, s)


BUSINESS = parse_weekly("Mon-Fri 09:00-17:00")


# -- parse_weekly ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,expected", [
    ("Mon-Fri 09:00-17:00", [NINE_TO_FIVE] * 5 + [None, None]),
    ("mon-fri 9:00-17:00", [NINE_TO_FIVE] * 5 + [None, None]),
    ("  MON - FRI   09:00 - 17:00  ", [NINE_TO_FIVE] * 5 + [None, None]),
    ("Wed 09:00-17:00", [None, None, NINE_TO_FIVE, None, None, None, None]),
    ("Mon-Fri 09:00-17:00; Sat 10:00-14:00",
     [NINE_TO_FIVE] * 5 + [Window(time(10), time(14)), None]),
    ("Mon-Fri 09:00-17:00;", [NINE_TO_FIVE] * 5 + [None, None]),
    ("Fri-Mon 10:00-12:00", [Window(time(10), time(12)), None, None, None] + [Window(time(10), time(12))] * 3),
    ("Sun-Sun 08:30-09:45", [None] * 6 + [Window(time(8, 30), time(9, 45))]),
    ("Mon 00:00-24:00", [Window(time(0), time.max)] + [None] * 6),
    ("Mon-Sun 09:00-20:00", [Window(time(9), time(20))] * 7),
    ("Mon-Fri 09:00-17:00; Wed 12:00-13:00",  # a later rule replaces an earlier one for its days
     [NINE_TO_FIVE, NINE_TO_FIVE, Window(time(12), time(13)), NINE_TO_FIVE, NINE_TO_FIVE, None, None]),
])
def test_parse_weekly(spec, expected):
    assert parse_weekly(spec) == WeeklyHours(tuple(expected))


@pytest.mark.parametrize("spec,message", [
    ("Mon-Fri", "cannot read hours 'Mon-Fri'"),
    ("Mon-Fri 9-17", "cannot read hours 'Mon-Fri 9-17'"),
    ("Monday 09:00-17:00", "cannot read hours 'Monday 09:00-17:00'"),
    ("Mon 09:00-17:00,Tue 09:00-17:00", "cannot read hours"),
    ("Mon 9:00-17:00 Tue", "cannot read hours"),
    ("Mon 09.00-17.00", "cannot read hours"),
    ("Mon 09:00-17:00; garbage", "cannot read hours 'garbage'"),
    ("09:00-17:00", "cannot read hours"),
    ("Xyz 09:00-17:00", "unknown day 'Xyz'"),
    ("Mon-Xyz 09:00-17:00", "unknown day 'Xyz'"),
    ("Mon 25:00-26:00", "25:00 is not a time of day"),
    ("Mon 09:60-10:00", "09:60 is not a time of day"),
    ("Mon 24:30-24:45", "24:30 is not a time of day"),
    ("Mon 09:00-24:01", "24:01 is not a time of day"),
    ("Mon 17:00-09:00", "end before they start"),
    ("Mon 09:00-09:00", "end before they start"),
    ("Mon 24:00-24:00", "end before they start"),
])
def test_parse_weekly_errors_name_the_bad_part(spec, message):
    with pytest.raises(ValueError, match="^.*" + message.replace("(", r"\(")):
        parse_weekly(spec)


@pytest.mark.parametrize("spec", ["", " ", ";", " ; ; "])
def test_empty_spec_is_refused(spec):
    with pytest.raises(ValueError, match="at least one open window"):
        parse_weekly(spec)


# -- is_open -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("local,open_", [
    (jan(15, 9, 0), True),          # Wednesday, opening minute
    (jan(15, 8, 59, 59), False),
    (jan(15, 12, 0), True),
    (jan(15, 16, 59, 59), True),
    (jan(15, 17, 0), False),        # closing time is exclusive
    (jan(15, 23, 0), False),
    (jan(18, 12, 0), False),        # Saturday
    (jan(19, 12, 0), False),        # Sunday
    (jan(13, 9, 0), True),          # Monday
    (jan(17, 16, 0), True),         # Friday
])
def test_is_open(local, open_):
    assert BUSINESS.is_open(local) is open_


def test_is_open_all_day_window():
    hours = parse_weekly("Mon 00:00-24:00")
    assert hours.is_open(jan(13, 0, 0)) and hours.is_open(jan(13, 23, 59, 59))
    assert not hours.is_open(jan(14, 0, 0))


# -- next_opening ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("local,expected", [
    (jan(15, 8, 0), jan(15, 9, 0)),      # before opening: today
    (jan(15, 9, 0), jan(16, 9, 0)),      # open now: strictly later, so tomorrow
    (jan(15, 12, 0), jan(16, 9, 0)),
    (jan(15, 22, 0), jan(16, 9, 0)),
    (jan(17, 18, 0), jan(20, 9, 0)),     # Friday evening: Monday
    (jan(18, 12, 0), jan(20, 9, 0)),     # Saturday
    (jan(19, 23, 59), jan(20, 9, 0)),    # Sunday night
])
def test_next_opening(local, expected):
    assert BUSINESS.next_opening(local) == expected


def test_next_opening_a_week_ahead():
    hours = parse_weekly("Wed 09:00-17:00")
    assert hours.next_opening(jan(15, 10, 0)) == jan(22, 9, 0)


def test_next_opening_never_open():
    assert WeeklyHours((None,) * 7).next_opening(jan(15, 10, 0)) is None


def test_next_opening_keeps_the_zone_and_crosses_dst():
    opening = BUSINESS.next_opening(ny(2025, 3, 7, 18, 0))  # Friday before spring forward
    assert opening == ny(2025, 3, 10, 9, 0)
    assert opening.utcoffset() == timedelta(hours=-4) and opening.tzinfo is NY


# -- callback_eta ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("local,eta", [
    (jan(15, 10, 0), "within about 30 minutes"),
    (jan(15, 9, 0), "within about 30 minutes"),
    (jan(15, 16, 29), "within about 30 minutes"),
    (jan(15, 16, 31), "after 9:00 AM EST tomorrow"),    # a call within 30 minutes would be after closing
    (jan(15, 16, 45), "after 9:00 AM EST tomorrow"),
    (jan(15, 22, 0), "after 9:00 AM EST tomorrow"),
    (jan(15, 8, 0), "after 9:00 AM EST today"),
    (jan(16, 0, 5), "after 9:00 AM EST today"),
    (jan(17, 18, 0), "after 9:00 AM EST on Monday"),
    (jan(18, 10, 0), "after 9:00 AM EST on Monday"),
    (jan(19, 22, 0), "after 9:00 AM EST tomorrow"),     # Sunday night
    (ny(2025, 7, 16, 22, 0), "after 9:00 AM EDT tomorrow"),
    (ny(2025, 3, 7, 18, 0), "after 9:00 AM EDT on Monday"),   # Friday EST, Monday EDT
    (ny(2025, 10, 31, 18, 0), "after 9:00 AM EST on Monday"),  # Friday EDT, Monday EST
])
def test_callback_eta(local, eta):
    assert callback_eta(local, BUSINESS, 30) == eta


@pytest.mark.parametrize("hours,local,minutes,eta", [
    ("Mon-Fri 12:30-17:00", jan(15, 18, 0), 30, "after 12:30 PM EST tomorrow"),
    ("Mon-Fri 13:00-17:00", jan(15, 10, 0), 30, "after 1:00 PM EST today"),
    ("Mon-Fri 10:00-17:00", jan(15, 8, 0), 30, "after 10:00 AM EST today"),
    ("Mon-Fri 09:00-17:00", jan(15, 10, 0), 15, "within about 15 minutes"),
    ("Mon-Fri 09:00-17:00", jan(15, 10, 0), 480, "after 9:00 AM EST tomorrow"),
    ("Mon-Sun 00:00-24:00", jan(15, 23, 50), 30, "within about 30 minutes"),
    ("Wed 09:00-17:00", jan(15, 18, 0), 30, "after 9:00 AM EST on Wednesday, January 22"),  # a week ahead: the date too
])
def test_callback_eta_other_hours(hours, local, minutes, eta):
    assert callback_eta(local, parse_weekly(hours), minutes) == eta


def test_callback_eta_never_open():
    assert callback_eta(jan(15, 10, 0), WeeklyHours((None,) * 7), 30) == "as soon as we can"


def test_callback_eta_does_not_promise_across_midnight_into_a_closed_day():
    hours = parse_weekly("Mon-Fri 00:00-24:00")
    assert callback_eta(jan(17, 23, 45), hours, 30) != "within about 30 minutes"  # Friday 23:45, Saturday closed


def test_callback_eta_long_promise_not_wrapped_into_the_window():
    assert callback_eta(jan(15, 10, 0), parse_weekly("Wed 09:00-17:00"), 24 * 60) != "within about 1440 minutes"
