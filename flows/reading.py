"""What a text says before any keyword is matched: whether it is a crisis (the deterministic phrases of
flows.crisis, or the learned model of understanding/ when its probability reaches the model's
threshold: either one is enough, since a false alarm costs one text and a miss can cost a life), and
which language it is written in."""
from dataclasses import dataclass
from functools import lru_cache

from understanding.phrases import crisis_languages, seeks_emergency_help
from languages import Languages
from understanding import language
from understanding.model import CrisisModel, load
from understanding.text import words

MIN_WORDS = 2
MIN_WORDS_TO_OVERRULE = 5  # the model overrules a crisis phrase only in a text long enough to say it's not one

@dataclass(frozen=True)
class CrisisReading:
    crisis: bool
    by_rule: frozenset[str] = frozenset()  # the languages whose crisis phrases matched
    score: float | None = None  # the model's combined score (None: not read by it, or its first stage said no)
    overruled: bool = False  # a crisis phrase was there, in a text the model is sure is no crisis
    seeking: bool = False  # asks for emergency help (911, 988, the crisis line, a plea): a crisis whatever else
    by_model: bool = False  # the model heard a crisis

    def __bool__(self) -> bool:
        return self.crisis

    @property
    def told(self) -> bool:
        """Crisis words or the model (not only an emergency number): "END my life" is speech, not an opt-out,
        but "cancel, 911 is here" still opts out."""
        return bool(self.by_rule) or self.by_model


@dataclass(frozen=True)
class Reader:
    model: CrisisModel | None

    def crisis(self, body: str, model: bool = True, languages: Languages | None = None) -> CrisisReading:
        """One word is not enough context for the model ("me", "yes", "other" answer a question): a lone
        crisis word ("overdose", "unresponsive", "suicida") is the phrases' to catch. `model=False`: the
        phrases only (a short reply that answers the question we asked: "myself please", "my son")."""
        by_rule, seeking = crisis_languages(body, languages), seeks_emergency_help(body, languages)
        use = model and self.model is not None and len(words(body)) >= MIN_WORDS
        if by_rule and use and len(words(body)) >= MIN_WORDS_TO_OVERRULE and not seeking \
                and self.model.overrules(body):
            return CrisisReading(False, frozenset(), None, overruled=True)
        score = self.model.score(body) if use else None
        heard = score is not None and score >= self.model.threshold
        return CrisisReading(bool(by_rule) or seeking or heard, by_rule, score, seeking=seeking, by_model=heard)

    def warm(self) -> None:
        """Load everything reading needs now (the sentence encoder takes about a second): a web process
        does it at start, so no one's first text waits for it."""
        if self.model is not None and self.model.meaning is not None:
            self.model.meaning.score("warming up before the first text")

    def language(self, body: str, offered: tuple[str, ...], known: Languages | None = None) -> str | None:
        """The text's language among the program's, when it says."""
        return language.detect(body, offered, known)


RULES_ONLY = Reader(None)


@lru_cache(maxsize=1)
def default_reader() -> Reader:
    """The shipped model (understanding/models/crisis.json), loaded once per process."""
    return Reader(load())
