"""What a center may know about a contact, declared in program.yaml (`fields: {appointment_at:
datetime, discharged_on: date, first_name: text}`), and the one set of rules that checks and reads a
value of each type, whoever writes it (the API, a CSV import, the console). Pure."""
import re
from datetime import date, datetime, time
from enum import Enum
from zoneinfo import ZoneInfo

from languages import Languages, builtin

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
MAX_TEXT = 200
YEARS = (1900, 2200)  # a date outside is a typo, and beyond it clocks and zones overflow


class FieldType(str, Enum):
    TEXT = "text"
    DATE = "date"  # a calendar day, in the recipient's zone: 2026-12-08
    DATETIME = "datetime"  # a moment, with its offset: 2026-12-08T14:30:00-05:00
    NUMBER = "number"

    @property
    def has_moment(self) -> bool:
        return self in (FieldType.DATE, FieldType.DATETIME)


def parse(kind: FieldType, raw) -> str:
    """The canonical text of a value, or ValueError saying what is wrong with it."""
    if kind is FieldType.TEXT:
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError("must be text")
        text = " ".join(raw.split())
        if len(text) > MAX_TEXT:
            raise ValueError(f"must be at most {MAX_TEXT} characters")
        return text
    if kind is FieldType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise ValueError("must be a number")
        try:
            number = float(str(raw).strip())
        except ValueError:
            raise ValueError("must be a number, like 3 or 2.5") from None
        if number != number or abs(number) > 1e12:
            raise ValueError("must be a finite number")
        return str(int(number)) if number == int(number) else repr(number)
    if kind is FieldType.DATE:
        try:
            day = date.fromisoformat(str(raw).strip())
        except ValueError:
            raise ValueError("must be a date like 2026-12-08") from None
        _in_years(day.year)
        return day.isoformat()
    try:
        moment = datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError("must be a date and time with its offset, like 2026-12-08T14:30:00-05:00") from None
    if moment.tzinfo is None:
        raise ValueError("must say its UTC offset, like 2026-12-08T14:30:00-05:00 (which zone's 2:30 PM?)")
    _in_years(moment.year)
    return moment.isoformat()


def _in_years(year: int) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(f"must be between the years {YEARS[0]} and {YEARS[1]}")


def moment(kind: FieldType, value: str, zone: ZoneInfo) -> datetime:
    """When a date or datetime field's value happens, in the recipient's zone (a date: its midnight)."""
    if kind is FieldType.DATE:
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=zone)
    return datetime.fromisoformat(value).astimezone(zone)


def display(kind: FieldType, value: str, zone: ZoneInfo, language: str, languages: Languages | None = None) -> str:
    """A field's value as a text says it: "Tuesday, December 8 at 2:30 PM", "el martes 8 de diciembre a las
    14:30" (in the recipient's zone); text and numbers as they are."""
    if not kind.has_moment:
        return value
    words = (languages or builtin()).text(language, "dates")  # the language's day and month names, its clock
    local = moment(kind, value, zone)
    clock = f"{local.hour}:{local.minute:02d}" if words["clock"] == "24h" else \
        local.strftime("%I:%M %p").lstrip("0")
    template = words["datetime" if kind is FieldType.DATETIME else "date"]
    return template.format(day=words["days"][local.weekday()], month=words["months"][local.month - 1], d=local.day,
                           clock=clock)
