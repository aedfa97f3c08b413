"""Loads flow YAML into a FlowSet, and refuses anything that would send a wrong, costly or non-compliant
text, listing every problem at once with its file and line (the checks themselves are in checks.py)."""
import re
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flows import checks, journey_docs, templates
from flows.matching import fold, shown
from flows.model import LEGACY_STEP, UNWRITTEN, Answer, Flow, FlowSet, FollowUp, Jump, Program, Step
from flows.source import Document, FlowError, Problem, parse
from languages import Languages, builtin

DEFINITIONS = Path(__file__).parent / "definitions"
FLOW_NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")
STEP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
OFFSET = re.compile(r"^(\d{1,9})([mhd])$")
MAX_OFFSET = {"m": 30 * 24 * 60, "h": 30 * 24, "d": 30}
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
PROGRAM_MESSAGES = ("disclosure", "menu", "help", "stop", "start", "crisis")
# Messages a program may leave out (one written before they existed still loads): each language's own
# (languages/<code>.yaml: texts.messages) are sent then.
OPTIONAL_MESSAGES = ("language", "flagged", "crisis_again", "crisis_update", "crisis_call", "choices", "appointment",
                     "thanks", "crisis_self_harm", "crisis_self_harm_again", "crisis_stay", "crisis_afraid",
                     "unclear", "crisis_self_harm_more", "crisis_self_harm_update")
FLOW_KEYS = {"flow", "version", "keyword", "aliases", "summary", "reply", "action", "followups", "start", "steps",
             "menu"}
MAX_SUMMARY = 60  # characters: one line of the menu
STEP_KEYS = {"text", "answers", "otherwise", "timeout", "next", "set", "action", "formerly", "listen", "template"}
PROGRAM_KEYS = {"version", "program", "messages", "languages", "default_language", "plain_spanish", "fields"}
ACTIONS = ("callback", "inbox")
PROGRAM_NUMBER = re.compile(r"^(whatsapp:)?\+[1-9][0-9]{6,14}$")  # what Twilio's To says: routing is exact
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")  # ISO 639: which ones there are is languages/'s to say

__all__ = ["DEFINITIONS", "FlowError", "Problem", "load_directory", "load_documents", "shippable"]


def load_directory(path: Path = DEFINITIONS, languages: Languages | None = None) -> FlowSet:
    return load_documents({p.name: p.read_text(encoding="utf-8") for p in sorted(path.glob("*.yaml"))}, languages)


def shippable(flowset: FlowSet) -> FlowSet:
    """A flow set that may go live: besides loading, every text in every language the program offers
    (ship nothing half-translated). A version already live that misses some still loads, so the service
    never stops over it; its missing texts are the warnings the console shows."""
    if flowset.warnings:
        raise FlowError(list(flowset.warnings))
    return flowset


def load_documents(documents: dict[str, str], languages: Languages | None = None) -> FlowSet:
    """Parse and validate {filename: yaml text}; program.yaml holds the program-wide messages. The same
    texts give the same flow set, shared (it is never changed once made): every app and worker made from
    the same definitions, and every check of an unchanged draft, parse them once."""
    return _load(tuple(documents.items()), languages or builtin())


@lru_cache(maxsize=16)
def _load(documents: tuple[tuple[str, str], ...], known: Languages) -> FlowSet:
    problems: list[Problem] = []
    docs = {name: parse(name, text, problems) for name, text in documents}
    if "program.yaml" not in docs:
        problems.append(Problem("program.yaml", None, "", "missing"))
    if problems:
        raise FlowError(problems)
    program_doc = docs.pop("program.yaml")
    program = _program(program_doc, known)
    journey_docs = {name: doc for name, doc in docs.items() if "journey" in doc.data}
    docs = {name: doc for name, doc in docs.items() if name not in journey_docs}
    flows = [f for f in (_flow(doc, program) for doc in docs.values()) if f is not None] if program else []
    flowset = checks.assemble(program, program_doc, flows, docs, problems, known) if program else None
    if flowset is not None:
        flowset = _with_journeys(flowset, journey_docs)
    if flowset is not None and not problems:
        return flowset
    raise FlowError(problems)


def _with_journeys(flowset: FlowSet, docs: dict[str, Document]) -> FlowSet:
    journeys = {}
    for doc in docs.values():
        journey = journey_docs.journey(doc, flowset.program, lambda d, value, where, path: _text(
            d, value, flowset.program.default_language, where, path))
        if journey is None:
            continue
        if journey.name in journeys or journey.name in flowset.flows:
            doc.problem(journey.name, f"the name '{journey.name}' is used by another flow or journey", ("journey",))
        journeys[journey.name] = journey
        checks.check_journey(flowset, doc, journey)
    return replace(flowset, journeys=journeys)


def _program(doc: Document, known: Languages) -> Program | None:
    data = doc.data
    _unknown_keys(doc, "", data, PROGRAM_KEYS, ())
    languages = tuple(data.get("languages") or ("en",))
    default = data.get("default_language", languages[0] if languages else "en")
    if not set(languages) <= set(known.by_code) or default not in languages:
        doc.problem("", f"languages must be among {', '.join(known.by_code)} (a language is a file in languages/) "
                        "and include default_language", ("languages",))
        return None
    info, messages = data.get("program"), data.get("messages")
    if not isinstance(info, dict) or not _is_text(info.get("name")) or not _is_text(info.get("phone")):
        doc.problem("", "program needs a name and a phone", ("program",))
        return None
    if not isinstance(messages, dict):
        doc.problem("", f"messages needs text for each of {', '.join(PROGRAM_MESSAGES)}", ("messages",))
        return None
    texts = {m: _text(doc, messages.get(m), default, m, ("messages", m)) for m in PROGRAM_MESSAGES}
    if not all(texts.values()):
        return None
    for name in OPTIONAL_MESSAGES:
        fallback = {code: known[code].texts["messages"][name] for code in known.by_code
                    if name in known[code].texts["messages"]}
        given = _text(doc, messages[name], default, name, ("messages", name)) if name in messages else None
        texts[name] = {**fallback, **given} if given else fallback
    numbers = info.get("numbers") or []
    if not isinstance(numbers, list) or not all(isinstance(n, str) and PROGRAM_NUMBER.match(n.strip()) for n in numbers):
        doc.problem("", "program numbers must be E.164 numbers or WhatsApp addresses (\"+18555909944\", "
                        "\"whatsapp:+18555909944\")", ("program", "numbers"))
        return None
    return Program(info["name"].strip(), str(info["phone"]).strip(), _version(doc), texts, languages, default,
                   data.get("plain_spanish", True) is not False, journey_docs.fields(doc, data.get("fields")),
                   tuple(n.strip() for n in numbers))


def _flow(doc: Document, program: Program) -> Flow | None:
    data, default = doc.data, program.default_language
    _unknown_keys(doc, "", data, FLOW_KEYS, ())
    name = data.get("flow")
    if not _is_text(name) or not FLOW_NAME.match(name.strip().lower()):
        doc.problem("", "flow needs a name of lower-case letters and digits, starting with a letter", ("flow",))
        return None
    hidden = data.get("menu") is False and "keyword" not in data  # a flow only journeys start
    keyword = {} if hidden else _words(doc, data.get("keyword"), default, name, ("keyword",), display=True)
    if not hidden and (not keyword or any(len(v) != 1 for v in keyword.values())):
        doc.problem(name, "keyword must be one word (per language), or the flow `menu: false` and no keyword "
                          "(only a journey starts it)", ("keyword",))
        return None
    aliases = _words(doc, data.get("aliases") or [], default, name, ("aliases",))
    legacy = "reply" in data
    if legacy == ("steps" in data):
        doc.problem(name, "needs either reply (a flow without questions) or start and steps", ())
        return None
    steps, start = _legacy_steps(doc, name, default) if legacy else _steps(doc, name, default)
    if not steps:
        return None
    return Flow(name.strip().lower(), _version(doc), {k: v[0] for k, v in keyword.items()},
                {k: tuple(v) for k, v in aliases.items()}, start, steps,
                _followups(doc, name, data.get("followups") or [], default), _menu(doc, name), _summary(doc, name, default))


def _summary(doc: Document, name: str, default: str) -> dict[str, str]:
    """What the keyword is for, in a line per language (the menu says it after the keyword)."""
    value = doc.data.get("summary")
    if value is None:
        return {}
    texts = _text(doc, value, default, name, ("summary",))
    for language, text in texts.items():
        if len(text) > MAX_SUMMARY:
            doc.problem(name, f"summary ({language}) is {len(text)} characters; one line of the menu is at most "
                              f"{MAX_SUMMARY}", ("summary",))
    return texts


def _legacy_steps(doc: Document, name: str, default: str) -> tuple[dict[str, Step], str]:
    text = _text(doc, doc.data.get("reply"), default, name, ("reply",))
    action = _action(doc, name, doc.data.get("action"), ("action",))
    return ({LEGACY_STEP: Step(LEGACY_STEP, text, action=action)} if text else {}), LEGACY_STEP


def _steps(doc: Document, name: str, default: str) -> tuple[dict[str, Step], str]:
    raw, start = doc.data.get("steps"), doc.data.get("start")
    if not isinstance(raw, dict) or not raw:
        doc.problem(name, "steps must be a mapping of step names to steps", ("steps",))
        return {}, ""
    steps = {}
    for step_name, item in raw.items():
        step = _step(doc, name, str(step_name), item, default)
        if step is not None:
            steps[step.name] = step
    if not isinstance(start, str) or start not in raw:
        doc.problem(name, f"start names no step ({start!r})", ("start",))
    claimed: dict[str, str] = {}
    for step in steps.values():
        for old in step.formerly:
            if old not in steps and claimed.setdefault(old, step.name) != step.name:
                doc.problem(name, f"steps {claimed[old]} and {step.name} were both called {old}: keep it on one",
                            ("steps", step.name, "formerly"))
    return steps, start if isinstance(start, str) else ""


def _step(doc: Document, flow: str, name: str, item, default: str) -> Step | None:
    path, where = ("steps", name), f"{flow} step {name}"
    if not STEP_NAME.match(name):
        doc.problem(flow, f"step name {name!r} must be lower-case letters, digits and _", path)
        return None
    if not isinstance(item, dict):
        doc.problem(where, "must be a mapping with text", path)
        return None
    _unknown_keys(doc, where, item, STEP_KEYS, path)
    silent = item.get("action") == "inbox" and "text" not in item  # puts them before staff, says nothing
    text = {} if silent else _text(doc, item.get("text"), default, where, path + ("text",))
    answers = tuple(a for a in (_answer(doc, where, i, a, default, path) for i, a in
                                enumerate(item.get("answers") or [])) if a)
    return Step(name, text or {}, answers, _name(doc, where, item.get("otherwise"), path + ("otherwise",)),
                _jump(doc, where, item.get("timeout"), path + ("timeout",), needs_after=True),
                _jump(doc, where, item.get("next"), path + ("next",)), _set(doc, where, item.get("set"), path),
                _action(doc, where, item.get("action"), path + ("action",)),
                _formerly(doc, where, item.get("formerly"), path + ("formerly",)), _listen(doc, where, item, path),
                templates.parse(doc, where, item.get("template"), path + ("template",), default))


def _listen(doc: Document, where: str, item: dict, path) -> bool:
    value = item.get("listen", True)
    if not isinstance(value, bool):
        doc.problem(where, "listen must be true or false", path + ("listen",))
        return True
    return value


def _formerly(doc: Document, where: str, value, path) -> tuple[str, ...]:
    """The names a step had (the builder writes them when a step is renamed)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and STEP_NAME.match(v) for v in value):
        doc.problem(where, "formerly must list the step names it had", path)
        return ()
    return tuple(value)


def _answer(doc: Document, where: str, i: int, item, default: str, path) -> Answer | None:
    path = path + ("answers", i)
    if not isinstance(item, dict) or not isinstance(item.get("go"), str):
        doc.problem(where, f"answer {i + 1} needs match (words) and go (a step)", path)
        return None
    words = _words(doc, item.get("match"), default, where, path + ("match",))
    return Answer({k: tuple(v) for k, v in words.items()}, item["go"]) if words else None


def _jump(doc: Document, where: str, value, path, needs_after: bool = False) -> Jump | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"go": value}
    if not isinstance(value, dict) or not isinstance(value.get("go"), str):
        doc.problem(where, f"{path[-1]} needs go (a step){' and after (like 30m, 1d)' if needs_after else ''}", path)
        return None
    after = _offset(doc, where, value.get("after"), path + ("after",), required=needs_after)
    return Jump(value["go"], after) if after is not None else None


def _offset(doc: Document, where: str, value, path, required: bool) -> timedelta | None:
    if value is None and not required:
        return timedelta(0)
    match = OFFSET.match(str(value or ""))
    amount = int(match.group(1)) if match else 0
    if not match or amount == 0 or amount > MAX_OFFSET[match.group(2)]:
        doc.problem(where, "after must be a time like 90m, 36h or 2d, within 30 days", path)
        return None
    return timedelta(**{UNITS[match.group(2)]: amount})


def _followups(doc: Document, name: str, items, default: str) -> tuple[FollowUp, ...]:
    if not isinstance(items, list):
        doc.problem(name, "followups must be a list", ("followups",))
        return ()
    result = []
    for i, item in enumerate(items):
        path, where = ("followups", i), f"{name} follow-up {i + 1}"
        if not isinstance(item, dict):
            doc.problem(where, "needs after (like 1d, 36h, 90m) and text", path)
            continue
        after = _offset(doc, where, item.get("after"), path + ("after",), required=True)
        text = _text(doc, item.get("text"), default, where, path + ("text",))
        template = templates.parse(doc, where, item.get("template"), path + ("template",), default)
        if after is not None and text:
            result.append(FollowUp(after, text, template))
    return tuple(sorted(result, key=lambda f: f.after))


def _text(doc: Document, value, default: str, where: str, path) -> dict[str, str]:
    """A plain string (the default language) or a mapping by language."""
    if isinstance(value, str) and value.strip():
        return _written(doc, {default: " ".join(value.split())}, where, path)
    if isinstance(value, dict) and value and all(LANGUAGE_CODE.match(str(k)) and isinstance(v, str) for k, v in value.items()):
        texts = {k: " ".join(v.split()) for k, v in value.items() if v.strip()}
        if default in texts:
            return _written(doc, texts, where, path)
    doc.problem(where, f"needs text (or text for each language, {default} at least)", path)
    return {}


def _written(doc: Document, texts: dict[str, str], where: str, path) -> dict[str, str]:
    """A text still holding the builder's placeholder is a problem: nothing unwritten goes out."""
    unwritten = [k for k, v in texts.items() if UNWRITTEN in v]
    if unwritten:
        doc.problem(where, f"the text is not written yet ({', '.join(unwritten)}): replace {UNWRITTEN}", path)
    return texts


def _words(doc: Document, value, default: str, where: str, path, display: bool = False) -> dict[str, list[str]]:
    """Words (a word, a list, or either per language), folded: upper case, no accents (a keyword keeps its
    accents for display, SEÑALES; it is matched folded all the same)."""
    by_language = value if isinstance(value, dict) else {default: value}
    result = {}
    for language, words in by_language.items():
        words = [words] if isinstance(words, (str, int)) else words
        if not LANGUAGE_CODE.match(str(language)) or not isinstance(words, list) or not all(isinstance(w, (str, int)) for w in words):
            doc.problem(where, f"{path[-1]} must be words (or words for each language)", path)
            return {}
        result[language] = [(shown(str(w)) if display else fold(str(w))) for w in words if str(w).strip()]
    return {k: v for k, v in result.items() if v}


def _name(doc: Document, where: str, value, path) -> str | None:
    if value is None or isinstance(value, str):
        return value
    doc.problem(where, f"{path[-1]} must name a step", path)
    return None


def _set(doc: Document, where: str, value, path) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict) and all(re.match(r"^[a-z][a-z0-9_]{0,30}$", str(k)) for k in value):
        return {str(k): str(v) for k, v in value.items()}
    doc.problem(where, "set must map names (lower-case) to values", path + ("set",))
    return {}


def _action(doc: Document, where: str, value, path) -> str | None:
    if value is not None and value not in ACTIONS:
        doc.problem(where, "action must be 'callback' (our team phones them) or 'inbox' (staff see them), or absent",
                    path)
        return None
    return value


def _menu(doc: Document, name: str) -> int | None:
    value = doc.data.get("menu", 100)
    if value is False:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        doc.problem(name, "menu must be a number (its place in the menu) or false", ("menu",))
        return 100
    return value


def _version(doc: Document) -> int:
    version = doc.data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        doc.problem("", "version must be a positive whole number", ("version",))
        return 1
    return version


def _unknown_keys(doc: Document, where: str, data: dict, allowed: set[str], path) -> None:
    for key in sorted(set(data) - allowed, key=str):
        doc.problem(where, f"unknown key '{key}'", path + (key,))


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())
