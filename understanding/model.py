"""The crisis model as data, in two stages. The first is a linear model over understanding.features
(each block weighed by sublinear tf-idf, scaled to unit length), scored in plain Python: a text below
its threshold is not a crisis by the model's reckoning. A text that passes is read again by meaning
(understanding.semantic), and the two scores, each standardized, are added: at or above the second
threshold it is a crisis. The cheap stage spares most ordinary texts the encoder; the second halves
the false alarms the first alone would raise (bench/understanding.py measures both).

Stored as JSON (crisis.json: per feature its idf and weight, the bias, both thresholds, the scales,
the corpus digest) beside the second stage's support vectors (crisis-semantic.npz)."""
import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from understanding.features import blocks
from understanding.semantic import SEMANTIC_FILE, SemanticModel

MODEL_FILE = Path(__file__).parent / "models" / "crisis.json"


@dataclass(frozen=True)
class Spelling:
    """The first stage: a linear model over words and letter sequences."""
    vocabulary: tuple[dict[str, tuple[float, float]], ...]  # per block: feature -> (idf, weight)
    bias: float

    def score(self, text: str) -> float:
        return self.bias + sum(_block_score(vocab, counts) for vocab, counts in zip(self.vocabulary, blocks(text)))

    def reasons(self, text: str, count: int = 5) -> list[str]:
        """The words and letters that pushed a text most toward crisis."""
        found = [(vocab[f][1] * vocab[f][0], f) for vocab, counts in zip(self.vocabulary, blocks(text))
                 for f in counts if f in vocab]
        return [f for weight, f in sorted(found, reverse=True)[:count] if weight > 0]


@dataclass(frozen=True)
class Scales:
    """Where each stage's scores sit on the corpus (out of fold): the two are added standardized."""
    spelling: tuple[float, float]  # mean, standard deviation
    meaning: tuple[float, float]

    def combined(self, spelling: float, meaning: float) -> float:
        return (spelling - self.spelling[0]) / self.spelling[1] + (meaning - self.meaning[0]) / self.meaning[1]


@dataclass(frozen=True)
class CrisisModel:
    spelling: Spelling
    first_threshold: float  # the first stage's score below which a text is not read again
    meaning: SemanticModel | None = None
    scales: Scales | None = None
    threshold: float = 0.0  # on the combined score (or on the first stage's alone, without a second stage)
    corpus_digest: str = ""
    meta: dict | None = None
    overrule_below: float | None = None  # a crisis phrase in a text both stages score this low is no crisis

    def full_score(self, text: str) -> float | None:
        """The combined score whatever the first stage says (None without a second stage)."""
        if self.meaning is None or self.scales is None:
            return None
        return self.scales.combined(self.spelling.score(text), self.meaning.score(text))

    def overrules(self, text: str) -> bool:
        """Whether the model is sure enough that a text with a crisis phrase in it is no crisis ("he
        overdosed two years ago and is doing great", "what are the signs of an overdose?")."""
        if self.overrule_below is None:
            return False
        score = self.full_score(text)
        return score is not None and score < self.overrule_below

    def score(self, text: str) -> float | None:
        """The combined score, or None when the first stage already says no."""
        first = self.spelling.score(text)
        if first < self.first_threshold:
            return None
        if self.meaning is None or self.scales is None:
            return first
        return self.scales.combined(first, self.meaning.score(text))

    def is_crisis(self, text: str) -> bool:
        score = self.score(text)
        return score is not None and score >= self.threshold

    def document(self) -> dict:
        return {"first_threshold": self.first_threshold, "threshold": self.threshold, "bias": self.spelling.bias,
                "overrule_below": self.overrule_below,
                "scales": {"spelling": list(self.scales.spelling), "meaning": list(self.scales.meaning)}
                if self.scales else None, "corpus_digest": self.corpus_digest, "meta": self.meta,
                "blocks": [{f: list(v) for f, v in sorted(block.items())} for block in self.spelling.vocabulary]}

    @classmethod
    def from_json(cls, text: str, meaning: SemanticModel | None = None) -> "CrisisModel":
        data = json.loads(text)
        vocabulary = tuple({f: (v[0], v[1]) for f, v in block.items()} for block in data["blocks"])
        scales = Scales(tuple(data["scales"]["spelling"]), tuple(data["scales"]["meaning"])) \
            if data.get("scales") and meaning is not None else None
        return cls(Spelling(vocabulary, data["bias"]), data["first_threshold"], meaning, scales, data["threshold"],
                   data.get("corpus_digest", ""), data.get("meta"), data.get("overrule_below"))


def _block_score(vocab: dict[str, tuple[float, float]], counts: Counter) -> float:
    total = norm = 0.0
    for feature, n in counts.items():
        entry = vocab.get(feature)
        if entry is None:
            continue
        value = (1.0 + math.log(n)) * entry[0]
        total += value * entry[1]
        norm += value * value
    return total / math.sqrt(norm) if norm else 0.0


@lru_cache(maxsize=4)
def load(path: Path = MODEL_FILE, semantic: Path = SEMANTIC_FILE) -> CrisisModel:
    """Loaded once per process (and per file): both stages, or an error (never half a model)."""
    return CrisisModel.from_json(path.read_text(encoding="utf-8"), SemanticModel.load(semantic))
