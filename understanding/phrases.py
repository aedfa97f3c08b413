"""The crisis phrases: overdose and suicide language that means a crisis on its own, fast and explainable
(the learned model of understanding.model reads everything else). The phrases of each language are in its
file (languages/<code>.yaml: crisis); the emergency numbers belong to no language and are here."""
import re
import unicodedata

from languages import Languages, builtin

# Asking for emergency help: the emergency numbers (whoever texts about 911 or 988 is told what to do now;
# not a phone number, an address, a room or a price); the crisis line and pleas are each language's
# crisis.seeking. The model never overrules these. The numbers belong to no language: they decide that a
# text is a crisis, never the language it is answered in.
_NUMBERS = [
    r"(?<![\d$#.,(/:])(?<!\d[\s-])(?<!room\s)(?<!suite\s)(?<!porsche\s)(?<!apt\s)(?<!unit\s)\b(911|988)\b"
    r"(?!\s*[-.)/:]?\s*\d)(?!\s+(oak|st|street|ave|avenue|rd|road|blvd|dr|drive|dollars|bucks|main)\b)",
]
_NUMBER = re.compile("|".join(f"(?:{p})" for p in _NUMBERS), re.IGNORECASE)


def crisis_languages(text: str, languages: Languages | None = None) -> frozenset[str]:
    """The languages in which a message mentions overdose, not breathing, suicide or self-harm, or asks
    for emergency help in words; empty when it does not."""
    languages = languages or builtin()
    return languages.crisis("phrases", text) | languages.crisis("seeking", text)


def seeks_emergency_help(text: str, languages: Languages | None = None) -> bool:
    """911, 988, the crisis line, or a plea for help: answered with what to do now, whatever the model says."""
    return bool(_NUMBER.search(unicodedata.normalize("NFKC", text)) or (languages or builtin()).crisis("seeking", text))


def is_crisis(text: str, languages: Languages | None = None) -> bool:
    """True for messages that mention overdose, not breathing, suicide or self-harm, in any language."""
    return bool(crisis_languages(text, languages))


def is_update(text: str, languages: Languages | None = None) -> bool:
    """News in an open crisis that help is there or things are better (each language's crisis.news: "he
    is breathing now", "ya viene la ambulancia", "thank you"): the whole message says only that, never a
    crisis phrase, a question, a doubt ("he's breathing but barely") or a goodbye. When unsure, no."""
    languages = languages or builtin()
    if crisis_languages(_NUMBER.sub(" ", unicodedata.normalize("NFKC", text)), languages):
        return False
    if languages.crisis("doubt", text) and not languages.crisis("news_despite_doubt", text):
        return False
    return bool(languages.crisis("news", text))
