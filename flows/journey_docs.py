"""Journey documents (`journey: appointment` files beside the flows) read into Journeys, every problem
named with its file and line like the flows'; their texts are checked as any unprompted text is."""
import re
from datetime import time, timedelta

from flows import templates
from flows.fields import FIELD_NAME, FieldType
from flows.journeys import Journey, JourneyEvent
from flows.model import Program
from flows.source import Document

JOURNEY_KEYS = {"journey", "version", "field", "group", "events"}
EVENT_KEYS = {"offset", "at", "text", "flow", "template"}
OFFSET = re.compile(r"^([+-]?)(\d{1,4})([mhdw])$")
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_OFFSET = timedelta(days=400)
AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
GROUP = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def journey(doc: Document, program: Program, text_of) -> Journey | None:
    """`text_of(doc, value, where, path)` reads a text by language (the loader's own)."""
    data = doc.data
    for key in sorted(set(data) - JOURNEY_KEYS, key=str):
        doc.problem("", f"unknown key '{key}'", (key,))
    name = data.get("journey")
    if not isinstance(name, str) or not FIELD_NAME.match(name.strip().lower()):
        doc.problem("", "journey needs a name of lower-case letters, digits and _", ("journey",))
        return None
    name = name.strip().lower()
    field = data.get("field")
    kind = program.fields.get(field) if isinstance(field, str) else None
    if kind is None or not kind.has_moment:
        dated = [f for f, k in program.fields.items() if k.has_moment]
        doc.problem(name, f"field must name a date or datetime field declared in program.yaml "
                          f"({', '.join(dated) or 'none declared'})", ("field",))
    group = data.get("group")
    if group is not None and (not isinstance(group, str) or not GROUP.match(group)):
        doc.problem(name, "group must be a group name (lower-case letters, digits, - and _)", ("group",))
        group = None
    raw = data.get("events")
    if not isinstance(raw, list) or not raw:
        doc.problem(name, "events must be a list of events (offset, and a text or a flow)", ("events",))
        return None
    # a refused event keeps its place (None): later problems name their own event and line
    events = [_event(doc, name, i, item, text_of, program.default_language) for i, item in enumerate(raw)]
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        doc.problem(name, "version must be a positive whole number", ("version",))
        version = 1
    return Journey(name, version, field if kind else "", tuple(events), group) if kind else None


def _event(doc: Document, name: str, i: int, item, text_of, default: str) -> JourneyEvent | None:
    where, path = f"{name} event {i + 1}", ("events", i)
    if not isinstance(item, dict):
        doc.problem(where, "needs offset (like -1d or 2h) and a text or a flow", path)
        return None
    for key in sorted(set(item) - EVENT_KEYS, key=str):
        doc.problem(where, f"unknown key '{key}'", path + (key,))
    offset = _offset(str(item.get("offset", "")))
    if offset is None:
        doc.problem(where, "offset must be like -1d, -2h, 30m or 1w (negative: before the date), within 400 days",
                    path + ("offset",))
    at = _at(item.get("at"))
    if at is False:
        doc.problem(where, "at must be a local time like \"10:00\"", path + ("at",))
    if ("text" in item) == ("flow" in item):
        doc.problem(where, "needs either a text or a flow (whose first step is the text)", path)
        return None
    flow = item.get("flow")
    if flow is not None and not isinstance(flow, str):
        doc.problem(where, "flow must name a flow", path + ("flow",))
        return None
    text = text_of(doc, item["text"], where, path + ("text",)) if "text" in item else None
    if offset is None or at is False or ("text" in item and not text):
        return None
    template = templates.parse(doc, where, item.get("template"), path + ("template",), default)
    return JourneyEvent(offset, at, text, flow.strip().lower() if flow else None, template)


def _offset(value: str) -> timedelta | None:
    m = OFFSET.match(value.strip())
    if not m:
        return None
    seconds = int(m.group(2)) * UNITS[m.group(3)] * (-1 if m.group(1) == "-" else 1)
    return timedelta(seconds=seconds) if abs(seconds) <= MAX_OFFSET.total_seconds() else None


def _at(value):
    if value is None:
        return None
    m = AT.match(str(value).strip())
    return time(int(m.group(1)), int(m.group(2))) if m else False


def fields(doc: Document, value) -> dict[str, FieldType]:
    """program.yaml's `fields: {name: type}`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        doc.problem("", "fields must map field names to types (text, date, datetime, number)", ("fields",))
        return {}
    found = {}
    for name, kind in value.items():
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            doc.problem("fields", f"field name {name!r} must be lower-case letters, digits and _", ("fields", name))
        elif kind not in {t.value for t in FieldType}:
            doc.problem("fields", f"{name}: type must be text, date, datetime or number", ("fields", name))
        else:
            found[name] = FieldType(kind)
    return found
