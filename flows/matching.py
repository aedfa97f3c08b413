"""Keyword matching: a pure function from message text to what the texter asked for."""
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from languages import Languages, builtin
from understanding.text import plain as fold, plain_words as words

# Compliance words, requests to stop or to be called, thanks and filler are each language's (languages/
# <code>.yaml: keywords, requests), and every language's are honoured in every text: a STOP is never missed.
# Words are read folded (upper case, no accents): SEÑALES, señales and Senales are one word.
# A compliance word followed by what it is about, when that is not our texts (requests.about_something_else:
# CANCEL my appointment, QUIT heroin, AYUDA with a sentence) is not compliance, unless anything else in the
# message is about our texts (keywords.about_us), another opt-out word follows, or the first word stands
# alone ("STOP. drugs?").
_STANDS_ALONE = re.compile(r"^\W*\w+\s*[.!?,;:]")
REVOKE_MAX_WORDS = 20
TYPO_MIN_LENGTH = 5


def about_an_appointment(text: str, languages: Languages | None = None) -> bool:
    """"cancel my appointment tomorrow": for staff, who keep the appointments (never an opt-out)."""
    languages = languages or builtin()
    found = words(text)
    return bool(found) and languages.request("about_an_appointment", " ".join(found), whole=True) is not None \
        and _about_something_else(text, found, languages)


def _about_something_else(text: str, found: list[str], languages: Languages) -> bool:
    """A compliance word about something other than our texts (see above); in any doubt, no."""
    joined = " ".join(found)
    if not (languages.request("about_an_appointment", joined, whole=True)
            or languages.request("about_something_else", joined, whole=True)) or _STANDS_ALONE.match(text):
        return False
    return not any(w in languages.words("about_us") or w in languages.words("opt_out") for w in found[1:])


def asks_for_a_call(text: str, languages: Languages | None = None) -> bool:
    """A request to be phoned, in any language (on folded words)."""
    return (languages or builtin()).request("call", " ".join(words(text))) is not None


def is_acknowledgement(text: str, languages: Languages | None = None) -> bool:
    """"ok", "ok thanks", "thank you so much", "gracias": nothing asked, nothing to answer but kindly."""
    languages = languages or builtin()
    found = words(text)
    return 0 < len(found) <= 5 and all(w in languages.words("acknowledgements") for w in found) \
        and any(w in languages.words("thanks") for w in found)


class Intent(str, Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    LANGUAGE = "language"  # ESPANOL, ENGLISH...: texts in that language from now on
    THANKS = "thanks"  # "ok thanks", "gracias": a short, kind answer instead of the menu
    FLOW = "flow"
    EMPTY = "empty"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Match:
    intent: Intent
    word: str = ""  # the keyword as matched (canonical spelling)
    flow: str | None = None
    language: str = ""  # the language the word belongs to, when it says ("" for STOP, HELP...: anyone's)


KEYWORD = re.compile(r"^[A-Z0-9]{2,20}$")




def shown(word: str) -> str:
    """A keyword as staff wrote it, in capitals, accents kept (SEÑALES): how texts name it."""
    return unicodedata.normalize("NFC", word).strip().upper()






def _opens(found: list[str], option: str) -> bool:
    """Whether a reply's words start with an answer option: its first word, or a phrase's words."""
    joined = " ".join(found)
    return option == found[0] if " " not in option else (joined == option or joined.startswith(option + " "))


def says_more(text: str, answers: list[tuple[str, ...]], languages: Languages | None = None) -> bool:
    """Whether a reply says more than its answer: words past the answer's own (the longest option it
    starts with, else its first word) that are not filler (keywords.answer_filler: "OTHER please", "Mi hija
    tiene 19") or a number ("other hes gray and cold" says more)."""
    filler = (languages or builtin()).words("answer_filler")
    found = words(text)
    length = max((len(w.split()) for options in answers for w in options if " " in w and _opens(found, w)), default=1)
    return any(w not in filler and not w.isdigit() for w in found[length:])


def match_answer(text: str, answers: list[tuple[str, ...]]) -> int | None:
    """Which answer a reply picks, with the keywords' tolerance: case, punctuation, accents, a number
    alone, one typo in a longer word (when it points at one answer only). Phrases match the reply's start."""
    found = words(text)
    if not found:
        return None
    for i, options in enumerate(answers):
        if any(_opens(found, w) for w in options):
            return i
    if len(found[0]) < TYPO_MIN_LENGTH - 1:
        return None
    near = {i for i, options in enumerate(answers) for w in options
            if " " not in w and len(w) >= TYPO_MIN_LENGTH and within_one_edit(found[0], w)}
    return near.pop() if len(near) == 1 else None


def match(text: str, triggers: dict[str, str], crisis: bool = False, languages: Languages | None = None) -> Match:
    """Compliance words first, then a plain request to stop texting (it wins over a keyword that happens to
    come first: "Phone is not mine, stop texting me"), then flow keywords exactly, then with one typo."""
    languages = languages or builtin()
    found = words(text)
    if not found:
        return Match(Intent.EMPTY)
    first = found[0]
    if len(found) > 1 and first == "OPT" and found[1] == "OUT":
        first = "OPTOUT"
    if _about_something_else(text, found, languages):  # AYUDA with a sentence stays Spanish
        word_language = languages.word_language(first)
        compliance = Match(Intent.UNKNOWN, first, language=word_language) if word_language else None
    else:
        compliance = _compliance(first, languages, crisis, len(found) == 1)
    return (compliance or _language(found, languages) or _revocation(found, languages)
            or _flow(first, triggers) or (Match(Intent.THANKS, first) if is_acknowledgement(text, languages) else None)
            or Match(Intent.UNKNOWN, first))


def _revocation(found: list[str], languages: Languages) -> Match | None:
    """A plea to stop texting, in any language's words (requests.opt_out, opt_out_whole), or a whole message
    that is a misspelt STOP or UNSUBSCRIBE ("Stopp", "SOTP", "Unsubcribe": keywords.stop_typos)."""
    if len(found) > REVOKE_MAX_WORDS:
        return None
    text = " ".join(found)
    if len(found) == 1 and (text in languages.words("stop_typos") or (len(text) >= TYPO_MIN_LENGTH + 3 and any(
            within_one_edit(text, w) for w in languages.words("typo_tolerant")))):
        return Match(Intent.OPT_OUT, "REVOKE_PHRASE")
    language = languages.request("opt_out", text) or languages.request("opt_out_whole", text, whole=True)
    if language is not None:
        return Match(Intent.OPT_OUT, "REVOKE_PHRASE", language="" if language.neutral else language.code)
    return None


def _compliance(word: str, languages: Languages, crisis: bool = False, alone: bool = True) -> Match | None:
    """A compliance word first (keywords.opt_out, opt_in, help). In a crisis message some are speech ("End
    my life", "Parar de sufrir": keywords.crisis_speech); some are everyday words that opt out only as the
    whole message ("Baja de peso es normal?": keywords.whole_message_only)."""
    language = languages.word_language(word)
    if word in languages.words("opt_out") and not (crisis and word in languages.words("crisis_speech")) \
            and (alone or word not in languages.words("whole_message_only")):
        return Match(Intent.OPT_OUT, word, language=language)
    if word in languages.words("opt_in"):
        return Match(Intent.OPT_IN, word, language=language)
    if word in languages.words("help"):
        return Match(Intent.HELP, word, language=language)
    return None


def _language(found: list[str], languages: Languages) -> Match | None:
    """A language asked for by name (keywords.switch): the word alone, or with "please" ("Spanish speaking
    counselors?" is a question, not a request), or asking whether we speak it ("hablan español?", "do you
    speak spanish": keywords.speak_verbs and speak_words)."""
    word, polite = found[0], languages.words("polite")
    if word in languages.switch and all(w in polite for w in found[1:]):
        return Match(Intent.LANGUAGE, word, language=languages.switch[word])
    last, verbs = found[-1], languages.words("speak_verbs")
    speak = verbs | languages.words("speak_words") | polite
    if last in languages.switch and 1 < len(found) <= 5 and verbs & set(found) and all(w in speak for w in found[:-1]):
        return Match(Intent.LANGUAGE, last, language=languages.switch[last])
    return None


def _flow(word: str, triggers: dict[str, str]) -> Match | None:
    if word in triggers:
        return Match(Intent.FLOW, word, triggers[word])
    if len(word) < TYPO_MIN_LENGTH - 1:
        return None
    near = {k for k in triggers if len(k) >= TYPO_MIN_LENGTH and within_one_edit(word, k)}
    flows = {triggers[k] for k in near}
    if len(flows) == 1:  # an ambiguous typo matches nothing rather than the wrong flow
        return Match(Intent.FLOW, sorted(near)[0], flows.pop())
    return None


def matched_words(text: str, options: tuple[str, ...]) -> bool:
    """Whether a reply starts with one of these words or phrases (as match_answer reads it)."""
    found = words(text)
    return bool(found) and any(_opens(found, w) for w in options)


def within_one_edit(a: str, b: str) -> bool:
    """True when a becomes b by one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long_[i]), len(short))
    return short[i:] == long_[i + 1:]
