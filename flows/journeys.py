"""Care journeys: texts (or conversations) timed from a contact's date field, like an appointment
reminder the day before at 10:00 or a check-in 7 days after discharge. Pure planning: when each event is
due in the recipient's own zone and inside the send hours; an event already past, or one that would only
fit the send hours after the very moment it leads up to, is not planned (the second is counted)."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows import schedule
from flows.fields import FieldType, moment
from flows.model import Text
from flows.schedule import SendRules
from flows.templates import Template


@dataclass(frozen=True)
class JourneyEvent:
    offset: timedelta  # from the field's moment; negative: before it
    at: time | None = None  # that day, at this local time
    text: Text | None = None
    flow: str | None = None  # or a conversation flow: its first step is the text
    template: Template | None = None  # sent instead of the text where only an approved template may go


@dataclass(frozen=True)
class Journey:
    name: str
    version: int
    field: str
    events: tuple[JourneyEvent, ...]
    group: str | None = None


@dataclass(frozen=True)
class Planned:
    event: int  # its place in the journey
    due: float


def due_at(event: JourneyEvent, moment_: datetime) -> datetime:
    """The event's moment in the recipient's zone: the field's moment plus the offset, on that day at
    `at` when given (wall-clock arithmetic: "1d before at 10:00" is 10:00 across a DST change)."""
    local = moment_ + event.offset
    if event.at is not None:
        local = datetime.combine(local.date(), event.at, tzinfo=moment_.tzinfo)
    return local


def plan(journey: Journey, kind: FieldType, value: str, zone: ZoneInfo, zones: tuple[ZoneInfo, ...],
         rules: SendRules, now: float, key: str) -> tuple[list[Planned], int]:
    """(the events to plan, how many were dropped because the send hours would make them late). `zone`:
    the recipient's zone for the field's moment; `zones`: every zone the number may be in (send hours
    hold in each); `key` makes the jitter of an event held to the window's start its own."""
    when = moment(kind, value, zone)
    planned, dropped = [], 0
    for i, event in enumerate(journey.events):
        due = due_at(event, when).timestamp()
        if due < now:
            continue  # already past when the date was set: never sent
        sent = schedule.send_time(rules, zones, due, f"{key}:{i}")
        if event.offset < timedelta(0) and sent >= when.timestamp():
            dropped += 1  # a reminder that could only go out after the appointment: dropped, counted
            continue
        planned.append(Planned(i, sent))
    return planned, dropped
