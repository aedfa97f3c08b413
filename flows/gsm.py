"""SMS encoding and segment counting: carriers bill per segment, and one non-GSM character doubles the cost."""
from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")

# Characters the seed and staff editors commonly paste in, with their closest GSM-7 spelling.
GSM_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2032": "'", "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2022": "-", "\u00b7": "-", "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u200b": "", "\t": " ", "\u00ae": "(R)", "\u2122": "(TM)", "\u00a9": "(C)",
}


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    non_gsm: tuple[str, ...]


def non_gsm_chars(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED))


def segment_info(text: str) -> SegmentInfo:
    """Encoding and segment count as carriers compute them (GSM-7 160/153, UCS-2 70/67)."""
    bad = non_gsm_chars(text)
    if not bad:
        sizes = [2 if ch in GSM7_EXTENDED else 1 for ch in text]
        return SegmentInfo("GSM-7", sum(sizes), _segments(sizes, 160, 153), ())
    sizes = [len(ch.encode("utf-16-le", "surrogatepass")) // 2 for ch in text]  # a lone surrogate: one unit
    return SegmentInfo("UCS-2", sum(sizes), _segments(sizes, 70, 67), bad)


def _segments(sizes: list[int], single: int, multi: int) -> int:
    """Characters are never split across segments (an escape pair or a surrogate pair stays whole)."""
    if sum(sizes) <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments


def to_gsm7(text: str) -> str:
    """Replace typographic characters with GSM-7 look-alikes; leaves other characters alone."""
    return "".join(GSM_REPLACEMENTS.get(ch, ch) for ch in text)
