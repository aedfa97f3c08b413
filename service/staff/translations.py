"""Which translations may be out of date: a text in one language is marked when a text in another
language changed after it was last edited (English rewritten, Spanish not looked at since).

Each text's language carries a stamp, a fingerprint of the other languages' texts at the moment it was
last edited; it is marked when the other languages no longer match its stamp. Stamps are computed when
the draft is saved (from the builder, the program page or an import) by comparing it with what it
replaces; a text never edited in the console gets its stamp the first time anything around it changes."""
import hashlib
import json

import yaml

from flows.model import LEGACY_STEP
from flows.source import load_yaml

Key = str  # "file|path|language", path like "steps.ask.text", "followups.0.text", "messages.help"


def texts_of(filename: str, text: str, default: str) -> dict[str, dict[str, str]]:
    """path -> {language: text} for every text of one flow document (or the program's messages)."""
    try:
        doc = load_yaml(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(doc, dict):
        return {}
    found = {}
    if filename == "program.yaml":
        messages = doc.get("messages") if isinstance(doc.get("messages"), dict) else {}
        found = {f"messages.{name}": value for name, value in messages.items()}
    else:
        if "reply" in doc:  # the old format opens in the builder as one step, "reply"
            found[f"steps.{LEGACY_STEP}.text"] = doc["reply"]
        steps = doc.get("steps") if isinstance(doc.get("steps"), dict) else {}
        found.update({f"steps.{name}.text": step.get("text") for name, step in steps.items() if isinstance(step, dict)})
        followups = doc.get("followups") if isinstance(doc.get("followups"), list) else []
        found.update({f"followups.{i}.text": f.get("text") for i, f in enumerate(followups) if isinstance(f, dict)})
    return {path: _by_language(value, default) for path, value in found.items()}


def restamp(before: dict[str, str], after: dict[str, str], stamps: dict[Key, str], languages: list[str]
            ) -> dict[Key, str]:
    """The stamps once `after` replaces `before` (documents by file name); stamps of texts that no longer
    exist are dropped."""
    default, out = languages[0], {}
    for file, text in after.items():
        old_texts = texts_of(file, before.get(file, ""), default)
        for path, texts in texts_of(file, text, default).items():
            old = old_texts.get(path, {})
            for language in languages:
                key = f"{file}|{path}|{language}"
                if texts.get(language, "") != old.get(language, ""):
                    out[key] = _fingerprint(texts, language)
                else:
                    out[key] = stamps.get(key) or _fingerprint(old, language)
    return out


def outdated(docs: dict[str, str], stamps: dict[Key, str], languages: list[str]) -> set[Key]:
    """Translations (texts not in the default language) whose other languages changed since they were
    last edited; missing ones are not listed: they are marked as missing."""
    default, found = languages[0], set()
    for file, text in docs.items():
        for path, texts in texts_of(file, text, default).items():
            for language in languages[1:]:
                key = f"{file}|{path}|{language}"
                if texts.get(language) and key in stamps and stamps[key] != _fingerprint(texts, language):
                    found.add(key)
    return found


def _fingerprint(texts: dict[str, str], language: str) -> str:
    others = sorted((k, v) for k, v in texts.items() if k != language and v)
    return hashlib.sha256(json.dumps(others).encode()).hexdigest()[:16]


def _by_language(value, default: str) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): " ".join(str(v).split()) for k, v in value.items() if isinstance(v, (str, int)) and str(v).strip()}
    return {default: " ".join(str(value).split())} if isinstance(value, str) and value.strip() else {}
