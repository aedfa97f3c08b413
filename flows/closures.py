"""Days the center is closed (holidays, a storm day): written one per line as `2026-12-25 Christmas Day`,
and the US federal holidays as a list to start from. Pure: every promise made from business hours (call
back times, `{callback_eta}`, escalation) reads them through flows.hours.WeeklyHours.closed."""
import re
from datetime import date, timedelta

_LINE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(.*?)\s*$")
MAX_CLOSURES = 400
MAX_NAME = 60


def parse(spec: str) -> dict[date, str]:
    """'2026-12-25 Christmas Day' lines (or `;`-separated) -> {date: name}. Raises ValueError naming the
    bad line."""
    found: dict[date, str] = {}
    for part in filter(str.strip, re.split(r"[;\n]", spec)):
        m = _LINE.match(part)
        if not m:
            raise ValueError(f"cannot read closure {part.strip()!r}; write one per line like '2026-12-25 Christmas Day'")
        try:
            day = date.fromisoformat(m.group(1))
        except ValueError:
            raise ValueError(f"{m.group(1)} is not a date") from None
        found[day] = " ".join(m.group(2).split())[:MAX_NAME]
    if len(found) > MAX_CLOSURES:
        raise ValueError(f"at most {MAX_CLOSURES} closures")
    return dict(sorted(found.items()))


def write(closures: dict[date, str]) -> str:
    """The text form parse() reads, one per line, in date order."""
    return "\n".join(f"{day.isoformat()} {name}".rstrip() for day, name in sorted(closures.items()))


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 the last) `weekday` (0 = Monday) of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A fixed-date holiday on a Saturday is observed the Friday before, on a Sunday the Monday after."""
    return day - timedelta(days=1) if day.weekday() == 5 else day + timedelta(days=1) if day.weekday() == 6 else day


def us_federal_holidays(year: int) -> dict[date, str]:
    """The eleven US federal holidays of a year, on the days they are observed (5 U.S.C. 6103)."""
    days = {
        _observed(date(year, 1, 1)): "New Year's Day",
        _nth_weekday(year, 1, 0, 3): "Birthday of Martin Luther King, Jr.",
        _nth_weekday(year, 2, 0, 3): "Washington's Birthday",
        _nth_weekday(year, 5, 0, -1): "Memorial Day",
        _observed(date(year, 6, 19)): "Juneteenth National Independence Day",
        _observed(date(year, 7, 4)): "Independence Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 10, 0, 2): "Columbus Day",
        _observed(date(year, 11, 11)): "Veterans Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
        _observed(date(year, 12, 25)): "Christmas Day",
    }
    return dict(sorted(days.items()))
