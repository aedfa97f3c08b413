"""How texts are read as people type them (any case, accents or none, curly or missing apostrophes,
"pleeease"): `plain` and `plain_words` for keywords and phrases (SEÑALES, señales and Senales are one
word), `normalize` for the crisis model (lower case, ñ kept, repeats squeezed)."""
import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "", "\u2018": "", "'": "", "`": "", "\u00b4": ""})
_NOT_WORD = re.compile(r"[^a-z0-9ñ]+")
_REPEATS = re.compile(r"([a-zñ])\1{2,}")
_PLAIN_WORD = re.compile(r"[^\W_]+")


def plain(text: str) -> str:
    """Upper case without accents: SEÑALES, señales and Senales are one word."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper().strip()


def plain_words(text: str) -> list[str]:
    """Plain words with punctuation and emoji dropped ("signs?" -> ["SIGNS"], "Señales" -> ["SENALES"])."""
    return _PLAIN_WORD.findall(plain(text))


def fold(text: str) -> str:
    """Lower case without accents (ñ kept: "año" is not "ano"), apostrophes dropped ("won't" is "wont")."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES).replace("ñ", "\0")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("\0", "ñ")


def normalize(text: str) -> str:
    """Folded words only, letters repeated three times or more squeezed to two ("helppp" -> "helpp")."""
    return " ".join(_NOT_WORD.sub(" ", _REPEATS.sub(r"\1\1", fold(text))).split())


def words(text: str) -> list[str]:
    return normalize(text).split()
