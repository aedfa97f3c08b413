"""Which language a short text is in, among the ones a program offers: first the words only one of them
uses ("hola", "necesito" / "the", "thanks"), then lingua's letter statistics for longer texts; None when
the text doesn't say (a number, "ok", a lone brand name like "narcan"), so the person's language stays."""
from functools import lru_cache

from understanding.text import words

# Words common in texts to a treatment program that only one language uses ("no", "me", "a", "son",
# "he", "ok" are both languages'). Folded: lower case, no accents.
ONLY = {
    "es": frozenset("""mi mis su sus el la los las es esta estoy estas estan que q k de del y pero con por para se
        ya quiero quisiera quiere hijo hija hijos hermano hermana esposo esposa marido novio novia mama papa ayuda
        ayudenme tengo tiene tienen una uno muy hola gracias necesito necesita donde como cuando porque xq pq puedo
        puede pueden hablar alguien informacion favor porfa xfa buenos buenas dias tardes noches usted ustedes
        tambien algo nada mas ahora aqui bien dia yo ella ellos hay fue era soy eres hacer hago sabe saber mensajes
        llamar llamen llamenme consigo conseguir gratis cual cuales cuanto sobre desde hasta sin sigue nos le lo
        ni tomo hace despues antes todavia nunca siempre ser estar otra otro hablan espanol ingles""".split()),
    "en": frozenset("""my his her the is am are and but with for not to of i she want wants daughter brother sister
        husband wife mom dad help have has an very feel feeling hi hello hey thanks thank you your what where how
        when why can could would please pls get got need info about this that it its was were will just know
        someone call do dont cant wont from they them we our us there who which he s m im ive youre talk free
        anyone speak english spanish""".split()),
}
MIN_LETTERS_FOR_STATISTICS = 10
MIN_CONFIDENCE = 0.9


def detect(text: str, offered: tuple[str, ...]) -> str | None:
    """The language of `text` among `offered` ISO 639-1 codes, or None when it doesn't say."""
    found = words(text)
    if not found or len(offered) < 2:
        return None
    evidence = {code: sum(w in ONLY.get(code, ()) for w in found) for code in offered}
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
