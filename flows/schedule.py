"""When a follow-up may go out: the send window in every zone the number may be in, jitter, the weekly
cap and the horizon. Pure: times in, times out; the worker and the webhook only apply the answer."""
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from flows.hours import WeeklyHours

JITTER_SECONDS = 3600  # a deferred follow-up lands somewhere in the first hour of the window, not all at 9:00
WEEK = 7 * 86400
DAY = 86400
MAX_PASSES = 16  # each pass moves to a later opening; windows that overlap settle in two or three


class NoSharedWindow(ValueError):
    """The send hours never overlap across the zones a number may be in."""


@dataclass(frozen=True)
class SendRules:
    """The center's rules for unprompted texts (follow-ups, timed conversation steps)."""
    hours: WeeklyHours  # SEND_HOURS, in the recipient's local time
    center_zone: ZoneInfo  # the honest guess when a number's zones don't share a window
    per_week: int = 3
    horizon_days: int = 14


class Timing(str, Enum):
    NOW = "now"
    LATER = "later"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Slot:
    timing: Timing
    at: float | None = None
    held: str = ""  # why LATER: "weekly_cap" (the week's texts are used up) or "send_hours" (the window is closed)


def jitter(fid: str) -> int:
    """Seconds derived from the id, so the same follow-up always lands at the same moment."""
    return int(hashlib.sha1(fid.encode()).hexdigest()[:8], 16) % JITTER_SECONDS


def send_time(rules: SendRules, zones: tuple[ZoneInfo, ...], when: float, fid: str) -> float:
    """The first moment at or after `when` inside the send window in every zone; when it had to wait
    for an opening, jittered by id (staying inside the window)."""
    try:
        moment = common_opening(rules.hours, zones, when)
    except NoSharedWindow:
        zones = (rules.center_zone,)
        moment = common_opening(rules.hours, zones, when)
    if moment == when:
        return when
    jittered = moment + jitter(fid)
    return jittered if common_opening(rules.hours, zones, jittered) == jittered else moment


def in_window(rules: SendRules, zones: tuple[ZoneInfo, ...], at: float) -> bool:
    return send_time(rules, zones, at, "") == at


def common_opening(hours: WeeklyHours, zones: tuple[ZoneInfo, ...], when: float) -> float:
    moment = when
    for _ in range(MAX_PASSES):
        closed = [z for z in zones if not hours.is_open(datetime.fromtimestamp(moment, z))]
        if not closed:
            return moment
        openings = [hours.next_opening(datetime.fromtimestamp(moment, z)) for z in closed]
        if None in openings:
            break
        moment = max(o.timestamp() for o in openings)
    raise NoSharedWindow("the send hours never overlap across this number's time zones")


def first_due(rules: SendRules, zones: tuple[ZoneInfo, ...], now: float, after: float, fid: str) -> float | None:
    """When a newly scheduled follow-up is due, or None when it could not go out within the horizon."""
    due = send_time(rules, zones, now + after, fid)
    return due if due <= now + rules.horizon_days * DAY else None


def recent_sends(sent: tuple[int, ...], now: float) -> tuple[int, ...]:
    """The send times that still count toward the weekly cap, oldest first."""
    return tuple(sorted(t for t in sent if t > now - WEEK))


def next_slot(rules: SendRules, zones: tuple[ZoneInfo, ...], scheduled_at: float, sent: tuple[int, ...],
              now: float, fid: str) -> Slot:
    """At send time: now, later (the window is closed or the week's cap is used up), or never (the
    first possible moment is past the horizon)."""
    recent = recent_sends(sent, now)
    earliest = now if len(recent) < rules.per_week else recent[-rules.per_week] + WEEK
    due = send_time(rules, zones, earliest, fid)
    if due > scheduled_at + rules.horizon_days * DAY:
        return Slot(Timing.EXPIRED)
    if due > now + 1:
        return Slot(Timing.LATER, due, "weekly_cap" if earliest > now else "send_hours")
    return Slot(Timing.NOW)
