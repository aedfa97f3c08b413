"""One language read from its file: its words, requests, crisis cues, texts and GSM-7 folding, checked
and compiled once (a file with a missing text or a broken pattern is refused, naming the key)."""
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from understanding.text import fold, plain

WORD_LISTS = ("opt_out", "opt_in", "help", "answerable", "whole_message_only", "crisis_speech", "stop_typos", "typo_tolerant",
              "switch", "speak_verbs", "speak_words", "polite", "acknowledgements", "thanks", "answer_filler",
              "about_us")
REQUESTS = ("opt_out", "opt_out_whole", "call", "about_an_appointment", "about_something_else")
CRISIS = ("phrases", "seeking", "news", "doubt", "news_despite_doubt", "self_harm", "afraid")
TEXTS = ("opt_out_reminder", "how_to_stop", "or", "required", "callback_eta_sample", "dates", "messages", "callback")
CALLBACK = ("soon", "unknown", "opens", "today", "tomorrow", "weekday", "with_date")
DATES = ("days", "months", "date", "datetime", "clock")
KEYS = {"code", "name", "english_name", "keywords_name_no_language", "keywords", "requests", "crisis", "words",
        "texts", "gsm"}
CODE = re.compile(r"^[a-z]{2,3}$")
# The placeholders each template text may use (a typo would fail on someone's text, so it fails at start).
PLACEHOLDERS = {"callback.soon": {"minutes"}, "callback.opens": {"clock", "zone", "when"},
                "callback.weekday": {"day"}, "callback.with_date": {"when", "month", "d"},
                "dates.date": {"day", "month", "d"}, "dates.datetime": {"day", "month", "d", "clock"}}
READS = ("text", "folded")


class LanguageError(ValueError):
    """A language file that can't be used, with the file and key named."""


@dataclass(frozen=True, eq=False)
class Language:
    code: str
    name: str  # in its own words ("Español")
    english_name: str  # as staff read it ("Spanish")
    neutral: bool  # its compliance words are everyone's (STOP, HELP): they don't say which language a text is in
    words: dict[str, frozenset[str]]
    requests: dict[str, re.Pattern | None]
    crisis: dict[str, re.Pattern | None]
    read_as_written: bool  # crisis cues read the text as written (any case), else folded words
    shared: bool  # its crisis words turn up in other languages' sentences ("mi hijo tuvo un overdose")
    only: frozenset[str]  # words only this language uses, folded lower case (which language a text is in)
    sentences: frozenset[str]  # the same, for a sentence holding crisis words of more than one language
    texts: dict
    plain: dict | None  # the accents dropped when a program keeps its texts GSM-7 (str.maketrans table)
    kept: frozenset[str]  # accents that may stay when it doesn't (sent as UCS-2)


def read(path: Path) -> Language:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise LanguageError(f"{path.name}: not YAML ({e})") from None
    if not isinstance(data, dict):
        raise LanguageError(f"{path.name}: a language file is a mapping of keys")
    return parse(path.name, data)


def parse(file: str, data: dict) -> Language:
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise LanguageError(f"{file}: unknown key '{unknown[0]}'")
    code = str(data.get("code", ""))
    if not CODE.match(code) or file != f"{code}.yaml":
        raise LanguageError(f"{file}: code must be the file's name, an ISO 639 code in lower case")
    for key in ("name", "english_name"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise LanguageError(f"{file}: {key} is missing")
    keywords, crisis, texts = data.get("keywords") or {}, data.get("crisis") or {}, data.get("texts") or {}
    words = data.get("words") or {}
    _require(file, "texts", texts, TEXTS)
    _require(file, "texts.callback", texts["callback"], CALLBACK)
    _require(file, "texts.dates", texts["dates"], DATES)
    _check_texts(file, texts)
    if crisis.get("read", "folded") not in READS:
        raise LanguageError(f"{file}: crisis.read must be one of {', '.join(READS)}")
    return Language(
        code, data["name"].strip(), data["english_name"].strip(), bool(data.get("keywords_name_no_language")),
        {k: frozenset(map(plain, _words(file, f"keywords.{k}", keywords.get(k)))) for k in WORD_LISTS},
        {k: _patterns(file, f"requests.{k}", (data.get("requests") or {}).get(k), 0) for k in REQUESTS},
        {k: _patterns(file, f"crisis.{k}", crisis.get(k), re.I if crisis.get("read") == "text" else 0) for k in CRISIS},
        crisis.get("read") == "text", bool(crisis.get("shared")),
        frozenset(map(fold, _words(file, "words.only", words.get("only")))),
        frozenset(map(plain, _words(file, "words.sentences", words.get("sentences")))),
        texts, *_gsm(file, data.get("gsm") or {}))


def _words(file: str, where: str, value) -> list[str]:
    """A list of words (written in quotes when YAML would read them otherwise: 'YES', 'NO', 'ON')."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise LanguageError(f"{file}: {where} must be a list of words (quote YES, NO, ON and OFF: 'NO')")
    return value


def _check_texts(file: str, texts: dict) -> None:
    """Every text the engine fills has only the placeholders it is given; days and months are all there."""
    dates = texts["dates"]
    if not isinstance(dates["days"], list) or len(dates["days"]) != 7 or \
            not isinstance(dates["months"], list) or len(dates["months"]) != 12:
        raise LanguageError(f"{file}: texts.dates needs 7 days (Monday first) and 12 months")
    if dates["clock"] not in ("12h", "24h"):
        raise LanguageError(f"{file}: texts.dates.clock must be 12h or 24h")
    for where, allowed in PLACEHOLDERS.items():
        section, key = where.split(".")
        try:
            str(texts[section][key]).format(**{name: "" for name in allowed})
        except (KeyError, IndexError, ValueError) as e:
            raise LanguageError(f"{file}: texts.{where} may only use {', '.join(sorted(allowed))} ({e})") from None
    if not isinstance(texts["messages"], dict) or not isinstance(texts["how_to_stop"], list):
        raise LanguageError(f"{file}: texts.messages must be a mapping and texts.how_to_stop a list of words")


def _gsm(file: str, gsm: dict) -> tuple[dict | None, frozenset[str]]:
    folding = gsm.get("plain")
    try:
        table = str.maketrans(folding["from"], folding["to"]) if folding else None
    except (KeyError, TypeError, ValueError):
        raise LanguageError(f"{file}: gsm.plain needs from and to, letters of the same length") from None
    return table, frozenset(gsm.get("kept_when_not_plain") or "")


def _require(file: str, where: str, section, keys: tuple[str, ...]) -> None:
    if not isinstance(section, dict):
        raise LanguageError(f"{file}: {where} is missing")
    missing = [k for k in keys if section.get(k) in (None, "", [], {})]
    if missing:
        raise LanguageError(f"{file}: {where}.{missing[0]} is missing")


def _patterns(file: str, where: str, patterns, flags: int) -> re.Pattern | None:
    """A list of alternatives, compiled as one pattern (None when there are none)."""
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), flags)
    except re.error as e:
        raise LanguageError(f"{file}: {where}: {e}") from None
