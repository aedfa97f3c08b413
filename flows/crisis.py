"""Crisis detection: overdose and suicide language gets 911/988 whatever keyword came with it."""
import re
import unicodedata

_PATTERNS = [
    r"over[\s-]?dos(e|ed|es|ing)",
    r"\bod(?:'d|'ing|ing|ed)?\b",
    r"\bo\.d\.?",
    r"(isn'?t|is\s+not|stopped|stop|quit|can'?t|cannot|won'?t|not)\s+breath(e|es|ing)?\b",
    r"(can'?t|cannot|won'?t|will\s+not)\s+(wake|get)\s+(him|her|them|up)",
    r"\bunresponsive\b",
    r"\b(lips|face|skin)\s+(are\s+|is\s+|turning\s+|turned\s+)?blue",
    r"\bsuicid",
    r"\bkill(s|ed|ing)?\s+(my|him|her|them)\s?sel(f|ves)",
    r"\bend\s+(my|it)\s+(life|all)",
    r"\bwant\s+to\s+die\b",
    r"\bwanna\s+die\b",
    r"\bbetter\s+off\s+dead\b",
    r"\bhurt\s+myself\b",
    r"\b(don'?t|do\s+not|dont)\s+want\s+to\s+(live|be\s+alive)\b",
    r"\bno\s+reason\s+to\s+live\b",
]
_CRISIS = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def is_crisis(text: str) -> bool:
    """True for messages that mention overdose, not breathing, suicide or self-harm."""
    folded = unicodedata.normalize("NFKC", text).replace("\u2019", "'")
    return bool(_CRISIS.search(folded))
