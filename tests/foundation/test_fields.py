"""flows.fields: the one set of type rules for a contact's declared fields (text, date, datetime with its
offset, number), whoever writes them, and how a date or a moment reads in a text, in English and Spanish,
in the recipient's zone (across a DST change too). Pure: no Redis, no clock."""
from zoneinfo import ZoneInfo

import pytest

from flows.fields import FieldType, display, moment, parse

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
TEXT, DATE, DATETIME, NUMBER = FieldType.TEXT, FieldType.DATE, FieldType.DATETIME, FieldType.NUMBER


@pytest.mark.parametrize("kind, raw, canonical", [
    (TEXT, "Ana", "Ana"),
    (TEXT, "  Ana   María ", "Ana María"),  # spaces collapse, ends trimmed
    (TEXT, "a\tb\nc", "a b c"),
    (TEXT, "x" * 200, "x" * 200),  # the longest allowed
    (TEXT, "José Ñúñez", "José Ñúñez"),
    (DATE, "2026-12-08", "2026-12-08"),
    (DATE, " 2026-12-08 ", "2026-12-08"),
    (DATE, "2024-02-29", "2024-02-29"),  # a leap day
    (DATETIME, "2026-12-08T14:30:00-05:00", "2026-12-08T14:30:00-05:00"),
    (DATETIME, "2026-12-08T14:30:00Z", "2026-12-08T14:30:00+00:00"),
    (DATETIME, "2026-12-08 14:30-05:00", "2026-12-08T14:30:00-05:00"),
    (DATETIME, "2026-12-08T14:30:00+05:30", "2026-12-08T14:30:00+05:30"),  # the offset given is kept
    (DATETIME, " 2026-12-08T14:30:00-08:00 ", "2026-12-08T14:30:00-08:00"),
    (NUMBER, "3", "3"),
    (NUMBER, 3, "3"),
    (NUMBER, 3.0, "3"),
    (NUMBER, 2.5, "2.5"),
    (NUMBER, "2.50", "2.5"),
    (NUMBER, " 7 ", "7"),
    (NUMBER, -4, "-4"),
    (NUMBER, "0.1", "0.1"),
    (NUMBER, "1e3", "1000"),
    (NUMBER, 1e12, "1000000000000"),  # the largest allowed
    (NUMBER, -0.0, "0"),
])
def test_good_values_have_one_canonical_text(kind, raw, canonical):
    assert parse(kind, raw) == canonical
    assert parse(kind, canonical) == canonical  # canonical text parses to itself


@pytest.mark.parametrize("kind, raw, says", [
    (TEXT, "", "must be text"),
    (TEXT, "   ", "must be text"),
    (TEXT, None, "must be text"),
    (TEXT, 5, "must be text"),
    (TEXT, True, "must be text"),
    (TEXT, ["Ana"], "must be text"),
    (TEXT, {"name": "Ana"}, "must be text"),
    (TEXT, "x" * 201, "at most 200 characters"),
    (DATE, "", "must be a date like 2026-12-08"),
    (DATE, None, "must be a date like 2026-12-08"),
    (DATE, "2026-02-30", "must be a date like 2026-12-08"),
    (DATE, "2026-13-01", "must be a date like 2026-12-08"),
    (DATE, "12/08/2026", "must be a date like 2026-12-08"),
    (DATE, "2026-12-8", "must be a date like 2026-12-08"),
    (DATE, "2026-12-08T10:00", "must be a date like 2026-12-08"),  # a moment is not a day
    (DATE, "next Tuesday", "must be a date like 2026-12-08"),
    (DATE, [2026, 12, 8], "must be a date like 2026-12-08"),
    (DATETIME, "2026-12-08T14:30:00", "must say its UTC offset"),  # which zone's 2:30 PM?
    (DATETIME, "2026-12-08", "must say its UTC offset"),
    (DATETIME, "2026-12-08 14:30", "must say its UTC offset"),
    (DATETIME, "2026-12-08T25:00:00-05:00", "must be a date and time with its offset"),
    (DATETIME, "tomorrow at 3", "must be a date and time with its offset"),
    (DATETIME, "", "must be a date and time with its offset"),
    (DATETIME, None, "must be a date and time with its offset"),
    (DATETIME, 5, "must be a date and time with its offset"),
    (NUMBER, "", "must be a number"),
    (NUMBER, "   ", "must be a number"),
    (NUMBER, "abc", "must be a number, like 3 or 2.5"),
    (NUMBER, "0x10", "must be a number"),
    (NUMBER, "3 apples", "must be a number"),
    (NUMBER, True, "must be a number"),  # JSON true is not 1
    (NUMBER, False, "must be a number"),
    (NUMBER, None, "must be a number"),
    (NUMBER, [], "must be a number"),
    (NUMBER, {}, "must be a number"),
    (NUMBER, "nan", "finite"),
    (NUMBER, "inf", "finite"),
    (NUMBER, "-inf", "finite"),
    (NUMBER, "1e400", "finite"),
    (NUMBER, 1e12 + 1, "finite"),
    (NUMBER, -1e13, "finite"),
])
def test_bad_values_are_refused_saying_why(kind, raw, says):
    with pytest.raises(ValueError) as refused:
        parse(kind, raw)
    assert says in str(refused.value)


def test_the_offset_error_shows_an_example():
    with pytest.raises(ValueError, match=r"like 2026-12-08T14:30:00-05:00"):
        parse(DATETIME, "2026-12-08T14:30:00")


def test_only_dates_and_datetimes_have_a_moment():
    assert [k for k in FieldType if k.has_moment] == [DATE, DATETIME]


# display: how a value reads in a text, in the recipient's zone.

@pytest.mark.parametrize("value, zone, language, said", [
    ("2026-12-08T14:30:00-05:00", NY, "en", "Tuesday, December 8 at 2:30 PM"),
    ("2026-12-08T14:30:00-05:00", NY, "es", "el martes 8 de diciembre a las 14:30"),
    ("2026-12-08T14:30:00-05:00", LA, "en", "Tuesday, December 8 at 11:30 AM"),  # their zone, not the writer's
    ("2026-12-08T14:30:00-05:00", LA, "es", "el martes 8 de diciembre a las 11:30"),
    ("2026-12-08T19:30:00+00:00", NY, "en", "Tuesday, December 8 at 2:30 PM"),
    ("2026-12-08T00:05:00-05:00", NY, "en", "Tuesday, December 8 at 12:05 AM"),
    ("2026-12-08T00:05:00-05:00", NY, "es", "el martes 8 de diciembre a las 0:05"),
    ("2026-12-08T00:05:00-05:00", LA, "en", "Monday, December 7 at 9:05 PM"),  # the day before, there
    ("2026-12-08T00:05:00-05:00", LA, "es", "el lunes 7 de diciembre a las 21:05"),
    ("2026-12-08T12:00:00-05:00", NY, "en", "Tuesday, December 8 at 12:00 PM"),
    ("2026-12-08T09:05:00-05:00", NY, "en", "Tuesday, December 8 at 9:05 AM"),  # no leading zero
    ("2026-12-08T09:05:00-05:00", NY, "es", "el martes 8 de diciembre a las 9:05"),
    ("2026-12-08T14:30:00-05:00", NY, "fr", "Tuesday, December 8 at 2:30 PM"),  # no words for it: English
])
def test_a_moment_reads_in_the_language_and_zone(value, zone, language, said):
    assert display(DATETIME, value, zone, language) == said


@pytest.mark.parametrize("value, language, said", [
    ("2026-12-08", "en", "Tuesday, December 8"),
    ("2026-12-08", "es", "el martes 8 de diciembre"),
    ("2026-10-31", "es", "el sábado 31 de octubre"),
    ("2027-01-03", "en", "Sunday, January 3"),
    ("2027-01-06", "es", "el miércoles 6 de enero"),
])
def test_a_date_is_a_calendar_day_in_any_zone(value, language, said):
    assert {display(DATE, value, zone, language) for zone in (NY, LA, ZoneInfo("Pacific/Honolulu"),
                                                              ZoneInfo("Asia/Tokyo"))} == {said}


# US DST ends Sunday 2026-11-01 at 2:00 (clocks back to 1:00) and starts Sunday 2027-03-14 at 2:00.

def test_the_same_offset_reads_an_hour_apart_across_the_fall_change():
    """An EHR writing -05:00 all year: 14:30 EST is 3:30 PM on Saturday (still EDT), 2:30 PM on Monday."""
    assert display(DATETIME, "2026-10-31T14:30:00-05:00", NY, "en") == "Saturday, October 31 at 3:30 PM"
    assert display(DATETIME, "2026-11-02T14:30:00-05:00", NY, "en") == "Monday, November 2 at 2:30 PM"
    assert display(DATETIME, "2026-10-31T14:30:00-05:00", NY, "es") == "el sábado 31 de octubre a las 15:30"
    assert display(DATETIME, "2026-11-02T14:30:00-05:00", NY, "es") == "el lunes 2 de noviembre a las 14:30"


def test_the_repeated_hour_reads_as_the_local_clock_shows_it():
    first, second = "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"  # an hour apart, same wall time
    assert moment(DATETIME, second, NY).timestamp() - moment(DATETIME, first, NY).timestamp() == 3600
    assert display(DATETIME, first, NY, "en") == display(DATETIME, second, NY, "en") == "Sunday, November 1 at 1:30 AM"
    assert display(DATETIME, "2026-11-01T06:30:00+00:00", NY, "es") == "el domingo 1 de noviembre a las 1:30"
    assert display(DATETIME, "2026-11-01T06:30:00+00:00", LA, "en") == "Saturday, October 31 at 11:30 PM"


def test_the_skipped_hour_in_spring_reads_as_the_clock_after_it():
    assert display(DATETIME, "2027-03-14T02:30:00-05:00", NY, "en") == "Sunday, March 14 at 3:30 AM"
    assert display(DATETIME, "2027-03-14T07:30:00+00:00", NY, "es") == "el domingo 14 de marzo a las 3:30"
    assert display(DATETIME, "2027-03-13T07:30:00+00:00", NY, "en") == "Saturday, March 13 at 2:30 AM"


def test_a_date_is_its_local_midnight_whatever_the_dst():
    for day in ("2026-11-01", "2027-03-14", "2026-07-04"):
        local = moment(DATE, day, NY)
        assert (local.isoformat()[:10], local.hour, local.minute) == (day, 0, 0)
    assert moment(DATE, "2026-11-02", NY).timestamp() - moment(DATE, "2026-11-01", NY).timestamp() == 25 * 3600
    assert moment(DATE, "2027-03-15", NY).timestamp() - moment(DATE, "2027-03-14", NY).timestamp() == 23 * 3600


@pytest.mark.parametrize("kind, value", [(TEXT, "Ana María"), (NUMBER, "2.5"), (NUMBER, "3")])
def test_text_and_numbers_read_as_they_are(kind, value):
    assert display(kind, value, NY, "en") == display(kind, value, LA, "es") == value


def test_what_parse_returns_display_can_read():
    for kind, raw in ((DATE, " 2026-12-08 "), (DATETIME, "2026-12-08 14:30Z")):
        assert display(kind, parse(kind, raw), NY, "en").startswith("Tuesday, December 8")
