"""Keyword matching: a pure function from message text to what the texter asked for."""
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from understanding.text import plain as fold, plain_words as words

SPANISH_OPT_OUT = frozenset({"PARAR", "ALTO", "CANCELAR", "BAJA", "DETENER"})
SPANISH_OPT_IN = frozenset({"COMENZAR", "INICIAR"})
SPANISH_HELP = frozenset({"AYUDA"})
SPANISH_WORDS = SPANISH_OPT_OUT | SPANISH_OPT_IN | SPANISH_HELP  # answered in Spanish
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}) | SPANISH_OPT_OUT
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"}) | SPANISH_OPT_IN
# Opt-in words that are also everyday answers: a question that offers YES takes "yes" as its answer, and
# outside a question they re-subscribe only someone who opted out (STOP, START and HELP never answer).
ANSWERABLE = frozenset({"YES"})
HELP_WORDS = frozenset({"HELP", "INFO"}) | SPANISH_HELP
RESERVED_WORDS = OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS
# Spanish's opt-out words are everyday words too ("Baja de peso es normal?", "Parar de consumir, como?"):
# they opt out when they are the whole message (with "ya" or "por favor"), not as a first word.
WHOLE_MESSAGE_ONLY = SPANISH_OPT_OUT
# Asking for a language by name: the person's texts are in it from then on.
LANGUAGE_WORDS = {"ESPANOL": "es", "SPANISH": "es", "ENGLISH": "en", "INGLES": "en"}

# A compliance word followed by what it is about, when that is not our texts: CANCEL or END an appointment
# ("cancel my appointment tomorrow": unsubscribing would also stop the reminders of the ones they keep),
# STOP or QUIT a drug ("quit heroin cold turkey is it safe", "stop using fentanyl how": someone who wants
# to quit must not lose us), AYUDA with a sentence ("ayuda por favor mi hijo usa heroina": a plea, read as
# what it says). A plain request to stop texting still wins ("quit heroin, and stop texting me").
_ABOUT_SOMETHING_ELSE = re.compile(
    r"^(CANCEL|END)\s+((MY|THE|HIS|HER|THEIR|TOMORROWS|TODAYS|THIS|NEXT)\s+)*"
    r"(APPOINTMENT|APPT|VISIT|INTAKE)\b|"
    r"^(STOP|QUIT)\s+((USING|SHOOTING|SNORTING|SMOKING|DRINKING|DOING|TAKING)\s+)?"
    r"(HEROIN|FENTANYL|FENT|DOPE|DRUG|DRUGS|PILLS|OPIOIDS|OPIATES|METH|COKE|CRACK|OXY|OXYS|PERCS|XANAX|ALCOHOL)\b|"
    r"^(STOP|QUIT)\s+COLD\s+TURKEY\b|"
    r"^AYUDA\s+((POR\s+FAVOR|PORFA|PORFAVOR)\s+)?(?!(POR\s+FAVOR|PORFA|PORFAVOR)?$)\S")
# ...unless anything else in the message is about our texts, or the first word stands alone ("STOP. drugs?")
_ABOUT_US = frozenset({"TEXT", "TEXTS", "TEXTING", "MESSAGE", "MESSAGES", "MESSAGING", "REMINDER", "REMINDERS",
                       "NOTIFICATION", "NOTIFICATIONS", "ALERT", "ALERTS", "SPAM", "NUMBER", "PHONE", "SMS", "TXT",
                       "TXTS", "MENSAJE", "MENSAJES", "TEXTOS"})
_STANDS_ALONE = re.compile(r"^\W*\w+\s*[.!?,;:]")


def about_an_appointment(text: str) -> bool:
    """"cancel my appointment tomorrow": for staff, who keep the appointments (never an opt-out)."""
    found = words(text)
    return bool(found) and found[0] in ("CANCEL", "END") and _about_something_else(text, found)


def _about_something_else(text: str, found: list[str]) -> bool:
    """A compliance word about something other than our texts (see _ABOUT_SOMETHING_ELSE); in any doubt, no."""
    if not _ABOUT_SOMETHING_ELSE.match(" ".join(found)) or _STANDS_ALONE.match(text):
        return False
    return not any(w in _ABOUT_US or w in OPT_OUT_WORDS for w in found[1:])

# In a crisis message these first words are speech ("End my life", "Quit breathing", "Parar de sufrir"),
# not an opt-out.
CRISIS_SPEECH_WORDS = frozenset({"END", "QUIT", "CANCEL"}) | SPANISH_OPT_OUT
# Revoking consent "by any reasonable means": short messages that plainly ask us to stop texting.
# Asking us to stop, in words that are about us ("...stop texting ME"), not about someone else ("he won't
# stop texting me", "how do I get my son to stop texting me", "my son told me to stop texting him": that
# one names no ME/US). "...to stop texting me" is someone else's texting unless the one asked is us
# ("I want you to stop texting me", "you guys need to stop texting me"). Checked on upper-cased words.
_NOT_ABOUT_US = r"(?<!WON T )(?<!WONT )(?<!DOESN T )(?<!DOESNT )(?<!DON T )(?<!DONT )(?<!NOT )(?<!TO )(?<!NEVER )"
_US_ASKED = (r"\b(YOU|U|YALL|Y ALL|GUYS|YOU GUYS|YOU ALL)\s+(NEED\s+TO|NEEDS\s+TO|HAVE\s+TO|HAS\s+TO|GOTTA|MUST|SHOULD|"
             r"TO|BETTER)\s+STOP\s+(TEXTING|MESSAGING|SENDING|CONTACTING|TXTING)\s+(ME|US|THIS)\b")
_REVOKE = re.compile(
    rf"{_NOT_ABOUT_US}\b(STOP|QUIT|QUITE)\s+(TEXTING|MESSAGING|SENDING|CONTACTING|TXTING)\s+(ME|US|THIS)\b|"
    rf"{_NOT_ABOUT_US}\bSTOP\s+(TEXTING|MESSAGING)$|{_US_ASKED}|"
    r"\b(STOP|QUIT)\s+(RECEIVING|GETTING)\s+((THESE|YOUR|THIS|THE|ALL|ANY|ANY\s+MORE)\s+)*(TEXTS?|MESSAGES?|SMS|TXTS?)\b"
    r"(?!\s+FROM\s+(HIM|HER|THEM|HIS|MY))|"
    r"\bUNSUBSCRIBE\b|\bREMOVE\s+(ME|MY\s+NUMBER)\s*(FROM\s+(THIS|YOUR)\s+LIST)?$|\bOPT\s+ME\s+OUT\b|"
    r"\bTAKE\s+ME\s+OFF\b|\bREMOVE\s+MY\s+NUMBER\b|^(PLEASE\s+|PLS\s+)?DELETE\s+(ME|MY\s+NUMBER)\b|"
    r"^(PLEASE\s+|PLS\s+)?(DO\s+NOT|DON\s+T|DONT)\s+(TEXT|MESSAGE|CONTACT)\s+(ME|THIS\s+NUMBER)\b|"
    r"\bNO\s+MORE\s+(TEXT|TEXTS|MESSAGES|TEXTING)\b")
# Short messages that are only a plea to stop ("Please stop", "pls stop", "I said stop", "leave me alone").
_PLEA_LEAD = r"((NO|OK|OKAY|NO\s+THANKS|NO\s+THANK\s+YOU|WHO\s+IS\s+THIS|WHO\s+THIS|WRONG\s+NUMBER)\s+)*"
_PLEA = re.compile(rf"^{_PLEA_LEAD}(I\s+SAID\s+)?((YOU|U)\s+(NEED\s+TO|HAVE\s+TO|GOTTA|MUST)\s+)?(PLEASE\s+|PLS\s+)?"
                   r"(JUST\s+)?STOP(\s+(IT|NOW|PLEASE|PLS))*$|"
                   rf"^{_PLEA_LEAD}(PLEASE\s+)?LEAVE\s+ME\s+ALONE(\s+PLEASE)?$")
# A whole message that is a misspelt STOP or UNSUBSCRIBE ("Stopp", "SOTP", "Unsubcribe") opts out too.
STOP_TYPOS = frozenset({"STOPP", "STOPPP", "SOTP", "STPO", "STOPT"})
# The same in Spanish, on folded words (no accents): requests in the imperative, addressed to us ("no me
# manden mas mensajes", "dejen de escribirme"), never a description of someone else ("mi hijo no me
# escribe", "no deja de escribirme").
_POLITE_ES = r"(POR\s+FAVOR\s+|PORFA\s+|YA\s+)*"
# someone else's words or deeds, quoted or told ("mi hija me dijo no me escribas", "nunca deja de ...")
_TOLD = r"(?<!DIJO )(?<!DICE )(?<!DIJERON )(?<!DICEN )(?<!DECIA )(?<!GRITO )(?<!NUNCA )(?<!SIEMPRE )"
_REVOKE_ES = re.compile(
    rf"{_TOLD}\bNO\s+(ME\s+)?(MANDEN|MANDES|MANDE|ENVIEN|ENVIES|ENVIE|ESCRIBAN|ESCRIBAS|ESCRIBA|TEXTEEN)"
    r"(\s+(MAS|NADA|MENSAJES|TEXTOS)\b|$)|"
    r"\bNO\s+QUIERO\s+(RECIBIR\s+)?(MAS\s+)?(MENSAJES|TEXTOS|SUS\s+MENSAJES)\b|"
    r"\bNO\s+MAS\s+(MENSAJES|TEXTOS)\b|"
    rf"(?<!NO )(?<!QUE ){_TOLD}(?<!ME )\b(DEJEN|DEJE|DEJA)\s+DE\s+(MANDARME|ENVIARME|ESCRIBIRME|TEXTEARME|MOLESTARME)\b|"
    r"\b(QUITENME|SAQUENME|BORRENME|ELIMINENME|QUITEME|SAQUEME|BORREME)\s+DE\s+(LA|SU|ESTA|SUS)\s+LISTAS?\b|"
    r"\b(BORREN|ELIMINEN|QUITEN)\s+MI\s+NUMERO\b|"
    r"\bDAR(ME)?\s+DE\s+BAJA\b|\bDESUSCRIB[A-Z]*\b|\bCANCELAR\s+(LA\s+|MI\s+)?SUSCRIPCION\b|"
    r"^(YO\s+)?(QUIERO|QUISIERA|DESEO|NECESITO)\s+(DEJAR\s+DE\s+RECIBIR|YA\s+NO\s+RECIBIR|NO\s+RECIBIR)\s+"
    r"(MAS\s+)?(SUS\s+|ESTOS\s+|LOS\s+)?(MENSAJES|TEXTOS)\b|"
    r"^(YA\s+)?NO\s+(ME\s+)?(MANDEN|ENVIEN|ESCRIBAN)\s+(MAS\s+)?(MENSAJES|TEXTOS)\b")
_PLEA_ES = re.compile(rf"^{_POLITE_ES}(DEJENME|DEJEME|DEJAME)\s+EN\s+PAZ(\s+(YA|POR\s+FAVOR))*$|"
                      rf"^{_POLITE_ES}(PAREN|PARE|BASTA|PARAR|ALTO|CANCELAR|BAJA|DETENER|PARA\s+YA|NO\s+MAS)"
                      r"(\s+(YA|POR\s+FAVOR|PORFA))*$")
REVOKE_MAX_WORDS = 20
TYPO_MIN_LENGTH = 5


# Asking to be phoned, in words ("please someone call me", "can you call me", "llamenme por favor",
# "quisiera hablar con alguien"), not someone else's calls ("he won't call me", "don't call me").
_NOT_REFUSED = r"(?<!DONT )(?<!DON T )(?<!NOT )(?<!NEVER )(?<!WONT )(?<!WON T )(?<!DIDNT )(?<!DIDN T )(?<!NO )"
_CALL_REQUEST = re.compile(
    rf"^(PLEASE\s+|PLS\s+|PLZ\s+|CAN\s+|COULD\s+|WOULD\s+|WILL\s+)*(SOMEONE|SOMEBODY|ANYONE|ANYBODY|YOU|U)\s+"
    r"(PLEASE\s+|PLS\s+)?(CALL|PHONE|RING)\s+(ME|US)\b|"
    rf"^(PLEASE\s+|PLS\s+|PLZ\s+)?(CALL|PHONE)\s+(ME|US)\b|"
    rf"{_NOT_REFUSED}\b(NEED|WANT|LIKE|NEEDS|WANTS)\s+(SOMEONE|SOMEBODY|YOU|U|A\s+PERSON)\s+TO\s+(CALL|PHONE)\s+(ME|US)\b|"
    r"(^(PLEASE\s+)?|\b(I|WE|ID|I\s+D)\s+(REALLY\s+)?(WANT|NEED|WOULD\s+LIKE|LIKE|WANNA)\s+(TO\s+)?|"
    r"^(CAN|COULD|MAY)\s+(I|WE)\s+)(TALK|SPEAK)\s+(TO|WITH)\s+(SOMEONE|SOMEBODY|A\s+PERSON|A\s+HUMAN|A\s+REAL\s+PERSON|"
    r"A\s+COUNSELOR|YOUR\s+STAFF|STAFF|YOU\s+GUYS)\b")
_CALL_REQUEST_ES = re.compile(
    r"\b(LLAMENME|LLAMEME|LLAMAME|LLAMARME)\b(?!\s+NO\b)|"
    r"(?<!NO )\b(ME|NOS)\s+(PUEDEN|PUEDE|PODRIAN|PODRIA|PUEDES)\s+LLAMAR\b|"
    r"(?<!NO )\b(QUIERO|QUISIERA|NECESITO|PUEDO)\s+HABLAR\s+CON\s+(ALGUIEN|UNA\s+PERSONA|USTEDES|UN\s+CONSEJERO|"
    r"UNA\s+CONSEJERA)\b")
# Thanks and okays: no question in them, and no menu owed either (a short reply is enough).
ACKNOWLEDGEMENTS = frozenset({"OK", "OKAY", "OKI", "K", "KK", "THANKS", "THANK", "YOU", "THX", "TY", "TYSM", "GOT", "IT",
                              "GRACIAS", "MUCHAS", "MIL", "VALE", "LISTO", "BUENO", "SO", "MUCH", "VERY", "COOL",
                              "GREAT", "ALRIGHT", "SURE", "GOOD", "MUY", "AMABLE", "ENTENDIDO", "PERFECTO"})
_THANKS = frozenset({"THANKS", "THANK", "THX", "TY", "TYSM", "GRACIAS", "OK", "OKAY", "OKI", "K", "KK", "GOT", "VALE",
                     "LISTO", "ENTENDIDO", "PERFECTO", "COOL", "GREAT"})


def asks_for_a_call(text: str) -> bool:
    """A request to be phoned, in either language (on folded words)."""
    joined = " ".join(words(text))
    return bool(_CALL_REQUEST.search(joined) or _CALL_REQUEST_ES.search(joined))


def is_acknowledgement(text: str) -> bool:
    """"ok", "ok thanks", "thank you so much", "gracias": nothing asked, nothing to answer but kindly."""
    found = words(text)
    return 0 < len(found) <= 5 and all(w in ACKNOWLEDGEMENTS for w in found) and any(w in _THANKS for w in found)


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




# Words that go with an answer without saying anything more ("OTHER please", "Mi hija tiene 19": an age).
ANSWER_FILLER = frozenset({"PLEASE", "PLS", "THANKS", "THANK", "YOU", "OK", "OKAY", "YES", "SI", "POR", "FAVOR",
                           "GRACIAS", "IS", "ES", "TIENE", "HE", "SHE", "HES", "SHES", "AGE", "YEARS", "YEAR", "OLD",
                           "ANOS", "ANO", "Y", "AND"})


def _opens(found: list[str], option: str) -> bool:
    """Whether a reply's words start with an answer option: its first word, or a phrase's words."""
    joined = " ".join(found)
    return option == found[0] if " " not in option else (joined == option or joined.startswith(option + " "))


def says_more(text: str, answers: list[tuple[str, ...]]) -> bool:
    """Whether a reply says more than its answer: words past the answer's own (the longest option it
    starts with, else its first word) that are not filler or a number ("other hes gray and cold")."""
    found = words(text)
    length = max((len(w.split()) for options in answers for w in options if " " in w and _opens(found, w)), default=1)
    return any(w not in ANSWER_FILLER and not w.isdigit() for w in found[length:])


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


def match(text: str, triggers: dict[str, str], crisis: bool = False) -> Match:
    """Compliance words first, then a plain request to stop texting (it wins over a keyword that happens to
    come first: "Phone is not mine, stop texting me"), then flow keywords exactly, then with one typo."""
    found = words(text)
    if not found:
        return Match(Intent.EMPTY)
    first = found[0]
    if len(found) > 1 and first == "OPT" and found[1] == "OUT":
        first = "OPTOUT"
    if _about_something_else(text, found):  # AYUDA with a sentence stays Spanish
        compliance = Match(Intent.UNKNOWN, first, language="es") if first in SPANISH_WORDS else None
    else:
        compliance = _compliance(first, crisis, len(found) == 1)
    return (compliance or _language(found) or _revocation(found)
            or _flow(first, triggers) or (Match(Intent.THANKS, first) if is_acknowledgement(text) else None)
            or Match(Intent.UNKNOWN, first))


def _revocation(found: list[str]) -> Match | None:
    if len(found) > REVOKE_MAX_WORDS:
        return None
    text = " ".join(found)
    if len(found) == 1 and (text in STOP_TYPOS or (len(text) >= TYPO_MIN_LENGTH + 3
                                                   and within_one_edit(text, "UNSUBSCRIBE"))):
        return Match(Intent.OPT_OUT, "REVOKE_PHRASE")
    if _REVOKE.search(text) or _PLEA.match(text):
        return Match(Intent.OPT_OUT, "REVOKE_PHRASE")
    if _REVOKE_ES.search(text) or _PLEA_ES.match(text):
        return Match(Intent.OPT_OUT, "REVOKE_PHRASE", language="es")
    return None


def _compliance(word: str, crisis: bool = False, alone: bool = True) -> Match | None:
    language = "es" if word in SPANISH_WORDS else ""
    if word in OPT_OUT_WORDS and not (crisis and word in CRISIS_SPEECH_WORDS) and (alone or word not in WHOLE_MESSAGE_ONLY):
        return Match(Intent.OPT_OUT, word, language=language)
    if word in OPT_IN_WORDS:
        return Match(Intent.OPT_IN, word, language=language)
    if word in HELP_WORDS:
        return Match(Intent.HELP, word, language=language)
    return None


POLITE = frozenset({"POR", "FAVOR", "PORFA", "PLEASE", "PLS", "EN", "IN"})


# Asking whether we speak a language ("hablan español?", "do you speak spanish"): answered in it from then on.
SPEAK_VERBS = frozenset({"HABLAN", "HABLA", "HABLAS", "SPEAK", "SPEAKS"})
SPEAK = SPEAK_VERBS | frozenset({"EN", "IN", "DO", "YOU", "U", "ANYONE", "SOMEONE", "ALGUIEN", "AQUI", "THERE", "IS",
                                 "HAY", "QUIEN", "WHO", "SE"})


def _language(found: list[str]) -> Match | None:
    """A language asked for by name: the word alone, or with "please" ("Spanish speaking counselors?" is a
    question, not a request), or asking whether we speak it ("hablan español?", "do you speak spanish")."""
    word = found[0]
    if word in LANGUAGE_WORDS and all(w in POLITE for w in found[1:]):
        return Match(Intent.LANGUAGE, word, language=LANGUAGE_WORDS[word])
    last = found[-1]
    if last in LANGUAGE_WORDS and 1 < len(found) <= 5 and SPEAK_VERBS & set(found) \
            and all(w in SPEAK | POLITE for w in found[:-1]):
        return Match(Intent.LANGUAGE, last, language=LANGUAGE_WORDS[last])
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
