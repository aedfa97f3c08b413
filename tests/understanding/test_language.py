"""The language of a short text, among the program's: the words only one language uses, then lingua's
statistics; None when a text doesn't say (the person's language stays)."""
import pytest

from understanding.language import detect

OFFERED = ("en", "es")


@pytest.mark.parametrize("text,language", [
    ("Hola, necesito informacion para mi hijo", "es"), ("donde consigo narcan gratis", "es"),
    ("quisiera hablar con alguien", "es"), ("se puso azul y no contesta", "es"), ("gracias", "es"),
    ("Quiero dejar de recibir mensajes", "es"), ("mi hijo usa heroina", "es"),
    ("help my brother took something and wont respond", "en"), ("ok thanks", "en"), ("my son", "en"),
    ("how much does methadone cost", "en"), ("is anyone there", "en"),
    ("ok", None), ("narcan", None), ("si", None), ("911", None), ("", None), ("👍", None),
])
def test_the_language_a_text_is_written_in(text, language):
    assert detect(text, OFFERED) == language


def test_only_the_languages_a_program_offers():
    assert detect("Hola, necesito informacion para mi hijo", ("en",)) is None
