"""Loads flow YAML and refuses anything that would send a wrong, costly or non-compliant text."""
import re
from datetime import timedelta
from pathlib import Path

import yaml

from flows.gsm import segment_info
from flows.matching import RESERVED_WORDS
from flows.model import FlowSet, Flow, FollowUp, Program, placeholders

DEFINITIONS = Path(__file__).parent / "definitions"
MAX_SEGMENTS = 3
FLOW_NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")
KEYWORD = re.compile(r"^[A-Z0-9]{2,20}$")
OFFSET = re.compile(r"^(\d{1,9})([mhd])$")
MAX_OFFSET = {"m": 30 * 24 * 60, "h": 30 * 24, "d": 30}
PLACEHOLDER_SAMPLES = {"program": None, "phone": None, "callback_eta": "after 9:00 AM ET on Wednesday, Nov 25"}
BASIC_PLACEHOLDERS = {"program", "phone"}
FIRST_CONTACT_MESSAGES = ("menu", "crisis")  # may be the first reply a number gets: the disclosure is appended
PROGRAM_MESSAGES = ("disclosure", "menu", "help", "stop", "start", "crisis")
REQUIRED_PARTS = {
    "help": ("{program}", "{phone}", "rates may apply", "STOP"),
    "stop": ("{program}", "START"),
    "start": ("{program}", "rates may apply", "STOP"),
    "disclosure": ("{program}", "HELP", "STOP", "rates may apply"),
    "crisis": ("911", "988"),
    "menu": ("SIGNS", "TREATMENT", "CALL"),
}
FLOW_KEYS = {"flow", "version", "keyword", "aliases", "reply", "action", "followups"}
PROGRAM_KEYS = {"version", "program", "messages"}


class FlowError(ValueError):
    """Every problem found in a flow set, so an editor can fix them all at once."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def load_directory(path: Path = DEFINITIONS) -> FlowSet:
    documents = {p.name: p.read_text(encoding="utf-8") for p in sorted(path.glob("*.yaml"))}
    return load_documents(documents)


def load_documents(documents: dict[str, str]) -> FlowSet:
    """Parse and validate {filename: yaml text}; program.yaml holds the program-wide messages."""
    problems: list[str] = []
    parsed = {name: _parse(name, text, problems) for name, text in documents.items()}
    if "program.yaml" not in parsed:
        problems.append("program.yaml: missing")
    if problems:
        raise FlowError(problems)
    program = _program(parsed.pop("program.yaml"), problems)
    flows = [_flow(name, doc, problems) for name, doc in parsed.items()]
    flows = [f for f in flows if f is not None]
    for name in sorted({f.name for f in flows if [g.name for g in flows].count(f.name) > 1}):
        problems.append(f"flow name '{name}' is used by more than one file")
    triggers = _triggers(flows, problems)
    if program is not None:  # texts are checked even when keywords clash: report everything at once
        flowset = FlowSet(program, {f.name: f for f in flows}, triggers)
        _check_texts(flowset, problems)
        if not problems:
            return flowset
    raise FlowError(problems)


def _parse(name: str, text: str, problems: list[str]) -> dict:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problems.append(f"{name}: not valid YAML ({str(exc).splitlines()[0]})")
        return {}
    if not isinstance(doc, dict):
        problems.append(f"{name}: must be a mapping of keys to values")
        return {}
    return doc


def _program(doc: dict, problems: list[str]) -> Program | None:
    _unknown_keys("program.yaml", doc, PROGRAM_KEYS, problems)
    info, messages = doc.get("program"), doc.get("messages")
    if not isinstance(info, dict) or not _is_text(info.get("name")) or not _is_text(info.get("phone")):
        problems.append("program.yaml: program needs a name and a phone")
        return None
    if not isinstance(messages, dict) or not all(_is_text(messages.get(m)) for m in PROGRAM_MESSAGES):
        problems.append(f"program.yaml: messages needs text for each of {', '.join(PROGRAM_MESSAGES)}")
        return None
    return Program(info["name"].strip(), info["phone"].strip(), _version("program.yaml", doc, problems),
                   {k: messages[k].strip() for k in PROGRAM_MESSAGES})


def _flow(filename: str, doc: dict, problems: list[str]) -> Flow | None:
    _unknown_keys(filename, doc, FLOW_KEYS, problems)
    name, keyword, reply = doc.get("flow"), doc.get("keyword"), doc.get("reply")
    if not _is_text(name) or not _is_text(keyword) or not _is_text(reply):
        problems.append(f"{filename}: needs flow, keyword and reply")
        return None
    aliases = doc.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        problems.append(f"{filename}: aliases must be a list of words")
        aliases = []
    action = doc.get("action")
    if action not in (None, "callback"):
        problems.append(f"{filename}: action must be 'callback' or absent")
    if not FLOW_NAME.match(name.strip().lower()):
        problems.append(f"{filename}: flow name must be lower-case letters and digits, starting with a letter")
    return Flow(name.strip().lower(), _version(filename, doc, problems), keyword.strip().upper(),
                tuple(a.strip().upper() for a in aliases), reply.strip(), action,
                _followups(filename, doc.get("followups") or [], problems))


def _followups(filename: str, items, problems: list[str]) -> tuple[FollowUp, ...]:
    if not isinstance(items, list):
        problems.append(f"{filename}: followups must be a list")
        return ()
    result = []
    for i, item in enumerate(items, 1):
        after = OFFSET.match(str(item.get("after", ""))) if isinstance(item, dict) else None
        if after is None or not _is_text(item.get("text")):
            problems.append(f"{filename}: follow-up {i} needs after (like 1d, 36h, 90m) and text")
            continue
        amount = int(after.group(1))
        if amount == 0 or amount > MAX_OFFSET[after.group(2)]:
            problems.append(f"{filename}: follow-up {i} must come after some time, and within 30 days")
            continue
        unit = {"m": "minutes", "h": "hours", "d": "days"}[after.group(2)]
        result.append(FollowUp(timedelta(**{unit: int(after.group(1))}), item["text"].strip()))
    return tuple(sorted(result, key=lambda f: f.after))


def _triggers(flows: list[Flow], problems: list[str]) -> dict[str, str]:
    triggers: dict[str, str] = {}
    for flow in flows:
        for word in (flow.keyword, *flow.aliases):
            if not KEYWORD.match(word):
                problems.append(f"{flow.name}: keyword '{word}' must be 2-20 letters or digits")
            elif word in RESERVED_WORDS:
                problems.append(f"{flow.name}: '{word}' is a reserved compliance keyword")
            elif word in triggers and triggers[word] != flow.name:
                problems.append(f"{flow.name}: keyword '{word}' is already used by {triggers[word]}")
            triggers.setdefault(word, flow.name)
    return triggers


def _check_texts(flowset: FlowSet, problems: list[str]) -> None:
    disclosure = flowset.message("disclosure")
    for name, template in flowset.program.messages.items():
        for part in REQUIRED_PARTS.get(name, ()):
            if part.lower() not in template.lower():
                problems.append(f"program.yaml: {name} message must include {part}")
        suffix = disclosure if name in FIRST_CONTACT_MESSAGES else ""
        _check_text(flowset, f"program.yaml: {name}", template, suffix, problems, BASIC_PLACEHOLDERS)
    for flow in flowset.flows.values():
        allowed = set(PLACEHOLDER_SAMPLES) if flow.action else BASIC_PLACEHOLDERS  # a bad action is reported already
        _check_text(flowset, f"{flow.name}: reply", flow.reply, disclosure, problems, allowed)
        for i, followup in enumerate(flow.followups, 1):
            if "STOP" not in followup.text:
                problems.append(f"{flow.name}: follow-up {i} must say how to stop (STOP)")
            _check_text(flowset, f"{flow.name}: follow-up {i}", followup.text, "", problems, BASIC_PLACEHOLDERS)


def _check_text(flowset: FlowSet, where: str, template: str, suffix: str, problems: list[str],
                allowed: set[str]) -> None:
    try:
        fields = set(placeholders(template))
    except ValueError:
        problems.append(f"{where}: a {{ or }} that is not a placeholder (placeholders look like {{program}})")
        return
    unknown = fields - allowed
    if unknown:
        problems.append(f"{where}: unknown placeholder {{{sorted(unknown)[0]}}}")
        return
    text = flowset.render(template, callback_eta=PLACEHOLDER_SAMPLES["callback_eta"])
    info = segment_info(text + ("\n\n" + suffix if suffix else ""))
    if info.encoding != "GSM-7":
        problems.append(f"{where}: non-GSM characters {' '.join(repr(c) for c in info.non_gsm)}")
    elif info.segments > MAX_SEGMENTS:
        problems.append(f"{where}: {info.segments} segments (at most {MAX_SEGMENTS}, with the first-contact disclosure)")


def _version(where: str, doc: dict, problems: list[str]) -> int:
    version = doc.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(f"{where}: version must be a positive whole number")
        return 1
    return version


def _unknown_keys(where: str, doc: dict, allowed: set[str], problems: list[str]) -> None:
    for key in sorted(set(doc) - allowed, key=str):
        problems.append(f"{where}: unknown key '{key}'")


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())
