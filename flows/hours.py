"""Weekly opening hours (business hours, send hours) as pure functions of a local time."""
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from languages import Languages, builtin

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_RULE = re.compile(r"^\s*([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Window:
    start: time
    end: time

    def contains(self, t: time) -> bool:
        return self.start <= t < self.end


LOOK_AHEAD_DAYS = 62  # the next opening is looked for this far ahead (closures may run for weeks)


@dataclass(frozen=True)
class WeeklyHours:
    """Opening windows per weekday (0 = Monday), closed on the `closed` dates (holidays, a storm day)."""
    days: tuple[Window | None, ...]
    closed: frozenset[date] = frozenset()

    def window(self, day: int) -> Window | None:
        return self.days[day]

    def on(self, day: date) -> Window | None:
        """That date's window: none on a closure."""
        return None if day in self.closed else self.days[day.weekday()]

    def with_closed(self, days) -> "WeeklyHours":
        return replace(self, closed=frozenset(days))

    def is_open(self, local: datetime) -> bool:
        w = self.on(local.date())
        return w is not None and w.contains(local.time())

    def open_throughout(self, local: datetime, span: timedelta) -> bool:
        """Open from `local` until `local + span`, across midnights where windows meet."""
        t, end = local, local + span
        while t < end:
            w = self.on(t.date())
            if w is None or not w.contains(t.time()):
                return False
            if w.end == time.max:
                t = datetime.combine(t.date() + timedelta(days=1), time(0), tzinfo=t.tzinfo)
            else:
                t = datetime.combine(t.date(), w.end, tzinfo=t.tzinfo)
        return True

    def next_opening(self, local: datetime) -> datetime | None:
        """The next moment the window opens, strictly after `local` if closed now."""
        for ahead in range(0, LOOK_AHEAD_DAYS + 1):
            day = local.date() + timedelta(days=ahead)
            w = self.on(day)
            if w is None:
                continue
            start = datetime.combine(day, w.start, tzinfo=local.tzinfo)
            if start > local:
                return start
        return None


def parse_weekly(spec: str) -> WeeklyHours:
    """'Mon-Fri 09:00-17:00; Sat 10:00-14:00' -> WeeklyHours. Raises ValueError with the bad part."""
    days: list[Window | None] = [None] * 7
    for part in filter(str.strip, spec.split(";")):
        m = _RULE.match(part)
        if not m:
            raise ValueError(f"cannot read hours {part.strip()!r}; write like 'Mon-Fri 09:00-17:00'")
        first, last = _day(m.group(1)), _day(m.group(2) or m.group(1))
        window = Window(_time(m.group(3), m.group(4)), _time(m.group(5), m.group(6)))
        if window.start >= window.end:
            raise ValueError(f"hours {part.strip()!r} end before they start")
        for d in range(first, (last if last >= first else last + 7) + 1):
            days[d % 7] = window
    if not any(days):
        raise ValueError("hours must name at least one open window, like 'Mon-Fri 09:00-17:00'")
    return WeeklyHours(tuple(days))


def _day(name: str) -> int:
    try:
        return DAYS.index(name.upper())
    except ValueError:
        raise ValueError(f"unknown day {name!r}; use Mon, Tue, Wed, Thu, Fri, Sat, Sun") from None


def _time(hour: str, minute: str) -> time:
    h, m = int(hour), int(minute)
    if h == 24 and m == 0:
        return time.max
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"{hour}:{minute} is not a time of day")
    return time(h, m)


def callback_due(local: datetime, hours: WeeklyHours, within_minutes: int) -> datetime | None:
    """The moment the call back promise runs out, as callback_eta worded it: `within_minutes` from now if
    staff are in; else "after 9:00 AM tomorrow", which a call any time that next opening keeps (until
    its window closes, or `within_minutes` after it opens if that is later). None: the hours never open."""
    if hours.open_throughout(local, timedelta(minutes=within_minutes)):
        return local + timedelta(minutes=within_minutes)
    opening = hours.next_opening(local)
    if opening is None:
        return None
    window = hours.on(opening.date())
    close = opening.replace(hour=23, minute=59, second=59) if window.end == time.max else \
        datetime.combine(opening.date(), window.end, tzinfo=opening.tzinfo)
    return max(close, opening + timedelta(minutes=within_minutes))


def callback_eta(local: datetime, hours: WeeklyHours, within_minutes: int, language: str = "en",
                 languages: Languages | None = None) -> str:
    """Tell the texter honestly when a person will call: soon if staff are in, else when they open (in the
    language's words: texts.callback, its day and month names and its clock: texts.dates)."""
    languages = languages or builtin()
    words, dates = languages.text(language, "callback"), languages.text(language, "dates")
    if hours.open_throughout(local, timedelta(minutes=within_minutes)):
        return words["soon"].format(minutes=within_minutes)
    opening = hours.next_opening(local)
    if opening is None:
        return words["unknown"]
    days = (opening.date() - local.date()).days
    day, month = dates["days"][opening.weekday()], dates["months"][opening.month - 1]
    when = words["today"] if days == 0 else words["tomorrow"] if days == 1 else words["weekday"].format(day=day)
    if days >= 7:  # past a closure: the date too
        when = words["with_date"].format(when=when, month=month, d=opening.day)
    clock = f"{opening.hour}:{opening.minute:02d}" if dates["clock"] == "24h" else \
        opening.strftime("%I:%M %p").lstrip("0")
    text = words["opens"].format(clock=clock, zone=opening.tzname() or "", when=when)
    return " ".join(text.replace("()", "").split())
