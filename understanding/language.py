"""Which language a short text is in, among the ones a program offers: first the words only one of them
uses ("hola", "necesito" / "the", "thanks"), then lingua's letter statistics for longer texts; None when
the text doesn't say (a number, "ok", a lone brand name like "narcan"), so the person's language stays."""
from functools import lru_cache

from languages import Languages, builtin
from understanding.text import words

MIN_LETTERS_FOR_STATISTICS = 10
MIN_CONFIDENCE = 0.9


def detect(text: str, offered: tuple[str, ...], languages: Languages | None = None) -> str | None:
    """The language of `text` among `offered` ISO 639-1 codes, or None when it doesn't say (the words only
    one language uses are in its file: words.only)."""
    languages = languages or builtin()
    found = words(text)
    if not found or len(offered) < 2:
        return None
    evidence = {code: sum(w in languages[code].only for w in found) if code in languages else 0 for code in offered}
    ranked = sorted(evidence.items(), key=lambda kv: -kv[1])
    lead = ranked[0][1] - ranked[1][1]
    if lead >= 2 or (lead == 1 and len(found) <= 3):
        return ranked[0][0]
    guess = _statistics(" ".join(found), offered) if sum(map(len, found)) >= MIN_LETTERS_FOR_STATISTICS else None
    if guess is not None:
        return guess
    return ranked[0][0] if lead == 1 else None


def _statistics(text: str, offered: tuple[str, ...]) -> str | None:
    detector = _detector(tuple(sorted(offered)))
    if detector is None:
        return None
    values = detector.compute_language_confidence_values(text)
    if not values or values[0].value < MIN_CONFIDENCE:
        return None
    return values[0].language.iso_code_639_1.name.lower()


@lru_cache(maxsize=8)
def _detector(offered: tuple[str, ...]):
    """lingua's detector for these languages, built once per process (its models load on first use)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    known = []
    for code in offered:
        try:
            known.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except (AttributeError, ValueError):
            continue
    if len(known) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*known).with_low_accuracy_mode().build()
