"""The crisis model: built from the corpus in the repo (the file matches it), reproducible, and reading
the texts of the issue that filed it as a crisis, however they are written; the corpus is big enough,
without duplicates, and never holds the sentences the model is tested on."""
import json

import pytest

from flows.reading import MIN_WORDS, MIN_WORDS_TO_OVERRULE, RULES_ONLY, default_reader
from understanding import build, corpus
from understanding.model import MODEL_FILE, load
from understanding.text import normalize

READER = default_reader()

# Realistic crisis texts from the issue that asked for the model: none of them is in the corpus.
ISSUE_CRISES = [
    "help my brother took something and wont respond", "HELP he's not waking up",
    "ayuda mi hermano tomo algo y no responde", "my husband collapsed after using heroin",
    "he's nodding out and we can't get him to respond", "shes having a seizure after taking pills",
    "i have a plan to end it", "thinking about ending my life tonight", "se puso azul y no contesta",
    "le pusimos narcan pero sigue sin respirar", "my son overdosed", "he is not breathing please help",
    "still not breathing", "ambulance not here yet he is blue",
]
# Ordinary texts, some with the words a keyword list would take for a crisis.
ISSUE_ORDINARY = [
    "this traffic is killing me", "me muero de ganas", "he passed his test", "ok thanks",
    "Hola, necesito informacion para mi hijo", "donde consigo narcan gratis", "quisiera hablar con alguien",
    "Quiero dejar de recibir mensajes", "ya no me manden mensajes", "i want to know about methadone",
    "how much does treatment cost", "my son", "SIGNS", "TREATMENT", "CALL", "STOP",
]


def test_the_model_file_was_built_from_the_corpus_in_the_repo():
    assert load().corpus_digest == corpus.digest() == json.loads(MODEL_FILE.read_text())["corpus_digest"]


@pytest.mark.slow
def test_building_again_gives_the_same_model(tmp_path):
    rebuilt = build.build(tmp_path / "crisis.json", tmp_path / "crisis-semantic.npz")
    shipped = load()
    assert rebuilt.first_threshold == pytest.approx(shipped.first_threshold, abs=1e-4)
    assert rebuilt.threshold == pytest.approx(shipped.threshold, abs=1e-3)
    assert rebuilt.overrule_below == pytest.approx(shipped.overrule_below, abs=1e-3)
    assert [set(b) for b in rebuilt.spelling.vocabulary] == [set(b) for b in shipped.spelling.vocabulary]
    assert rebuilt.meaning.vectors.shape == shipped.meaning.vectors.shape


def test_the_corpus_has_enough_of_each_kind_per_language_and_no_duplicates():
    examples = corpus.training()
    for language in ("en", "es"):
        crisis = [e for e in examples if e.language == language and e.crisis]
        ordinary = [e for e in examples if e.language == language and not e.crisis]
        assert len(crisis) >= 400 and len(ordinary) >= 400
        assert {e.kind for e in ordinary} >= {"question", "idiom", "past", "program", "reply"}
    longer = [normalize(e.text) for e in examples if len(e.text.split()) > 2]
    assert len(set(longer)) == len(longer)  # only short replies repeat ("SIGNS", "signs?", "ok", "👍")


def test_the_texts_the_model_is_judged_on_are_not_in_what_it_learned_from():
    learned = {normalize(e.text) for e in corpus.training()}
    assert not [t for t in ISSUE_CRISES + ISSUE_ORDINARY[:10] if normalize(t) in learned]
    shared = [e.text for e in corpus.heldout() if normalize(e.text) in learned]  # written apart, common phrases
    assert len(shared) < 0.07 * len(corpus.heldout())  # bench/understanding.py also reports the unseen rest alone


@pytest.mark.parametrize("text", ISSUE_CRISES)
def test_crisis_texts_however_written_are_heard(text):
    assert READER.crisis(text).crisis


@pytest.mark.parametrize("text", [t for t in ISSUE_CRISES if not RULES_ONLY.crisis(t).crisis])
def test_the_model_hears_what_the_phrases_miss(text):
    assert READER.crisis(text).by_rule == frozenset() and READER.crisis(text).score >= load().threshold


@pytest.mark.parametrize("text", ISSUE_ORDINARY)
def test_ordinary_texts_are_not_a_crisis(text):
    assert not READER.crisis(text).crisis


def test_one_word_is_the_phrases_alone():
    assert MIN_WORDS == 2
    assert READER.crisis("overdose").crisis and READER.crisis("overdose").score is None  # a phrase
    assert not READER.crisis("myself").crisis  # an answer, not a crisis


def test_the_model_can_be_told_to_stay_out_of_a_reading():
    assert not READER.crisis("myself please", model=False).crisis
    assert READER.crisis("he is not breathing", model=False).crisis  # the phrases always read


@pytest.mark.parametrize("text", ["my brother died of an overdose in 2019 and he would have been 30 today, we still "
                                  "miss him but we are doing ok",
                                  "what are the signs of an overdose, asking for a class i am taking next month"])
def test_the_model_overrules_a_phrase_only_in_a_long_calm_text(text):
    assert RULES_ONLY.crisis(text).crisis and len(text.split()) >= MIN_WORDS_TO_OVERRULE
    reading = READER.crisis(text)
    assert reading.crisis is not reading.overruled  # overruled only when both stages are sure


def test_a_short_text_with_a_phrase_is_never_overruled():
    assert READER.crisis("signs of overdose").crisis and READER.crisis("my son overdosed").crisis


def test_the_model_is_loaded_once_per_process():
    assert load() is load() and default_reader() is READER
