"""`python -m understanding.build` (or `make model`): learn the crisis model from the corpus and write
understanding/models/crisis.json and crisis-semantic.npz. Reproducible: the same corpus gives the same
model (fixed folds and seeds, deterministic solvers, numbers rounded). Needs scikit-learn (a development
requirement), never at run time.

The learning is scikit-learn's. First stage: sublinear tf-idf per block of understanding.features and
a linear support vector machine. Second stage: the sentence encoder's vectors and an RBF-kernel support
vector machine. Both with balanced class weights. Every threshold and scale is chosen on out-of-fold
scores, never on texts a score was learned from: the first stage keeps FIRST_RECALL of each language's
crisis texts, the combined score TARGET_RECALL of them (when in doubt, the crisis answer: a false alarm
costs one text, a miss can cost a life)."""
import math
import json
from pathlib import Path

from understanding.phrases import is_crisis
from understanding import corpus
from understanding.features import blocks
from understanding.model import MODEL_FILE, CrisisModel, Scales, Spelling
from understanding.semantic import SEMANTIC_FILE, SemanticModel, embed

TARGET_RECALL = 0.98
FIRST_RECALL = 0.99
C_SPELLING = 0.5  # inverse regularization strengths
C_MEANING = 3.0
MIN_DF = 2  # a word or letter sequence seen in one text only teaches nothing general
# A crisis phrase is overruled only below every out-of-fold score of a crisis text with a phrase in it,
# less this margin (in standard deviations of the combined score): the phrases' recall stays whole.
OVERRULE_MARGIN = 0.5
INNER_FOLDS = 5
SEED = 20261206
DIGITS = 6


def fit(examples: list[corpus.Example], vectors=None) -> CrisisModel:
    """Both stages from these examples, thresholds and scales from inner cross-validation. `vectors`:
    the examples' sentence vectors when already computed (the benchmark's nested runs)."""
    vectors = embed([e.text for e in examples]) if vectors is None else vectors
    spelling = out_of_fold(examples, lambda train: fit_spelling(train).score)
    meaning = out_of_fold(examples, lambda train: _meaning_scorer(train, examples, vectors), by_index=True)
    scales = Scales(_spread(spelling), _spread(meaning))
    first = choose_threshold(examples, spelling, FIRST_RECALL)
    combined = [scales.combined(a, b) if a >= first else -math.inf for a, b in zip(spelling, meaning)]
    full = [scales.combined(a, b) for a, b in zip(spelling, meaning)]
    phrased = [s for e, s in zip(examples, full) if e.crisis and is_crisis(e.text)]
    overrule = round(min(phrased) - OVERRULE_MARGIN, DIGITS) if phrased else None
    return CrisisModel(fit_spelling(examples), first, fit_meaning(examples, vectors), scales,
                       choose_threshold(examples, combined, TARGET_RECALL), overrule_below=overrule)


def fit_spelling(examples: list[corpus.Example]) -> Spelling:
    from scipy.sparse import hstack
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.svm import LinearSVC
    matrices, names, idfs = [], [], []
    for block in zip(*(blocks(e.text) for e in examples)):
        counts = DictVectorizer(sort=True).fit(block)
        kept = {f for f, df in _document_frequency(block).items() if df >= MIN_DF}
        counts.restrict([f in kept for f in counts.get_feature_names_out()])
        weighing = TfidfTransformer(sublinear_tf=True)
        matrices.append(weighing.fit_transform(counts.transform(block)))
        names.append(counts.get_feature_names_out())
        idfs.append(weighing.idf_)
    machine = LinearSVC(C=C_SPELLING, class_weight="balanced", random_state=SEED, max_iter=20000)
    machine.fit(hstack(matrices).tocsr(), [e.crisis for e in examples])
    weights, start, vocabulary = machine.coef_[0], 0, []
    for block_names, idf in zip(names, idfs):
        block_weights = weights[start:start + len(block_names)]
        start += len(block_names)
        vocabulary.append({str(f): (round(float(i), DIGITS), round(float(w), DIGITS))
                           for f, i, w in zip(block_names, idf, block_weights)})
    return Spelling(tuple(vocabulary), round(float(machine.intercept_[0]), DIGITS))


def fit_meaning(examples: list[corpus.Example], vectors) -> SemanticModel:
    from sklearn.svm import SVC
    machine = SVC(C=C_MEANING, kernel="rbf", gamma="scale", class_weight="balanced")
    machine.fit(vectors, [e.crisis for e in examples])
    return SemanticModel(machine.support_vectors_.astype("float32"), machine.dual_coef_[0].astype("float64"),
                         float(machine._gamma), float(machine.intercept_[0]))


def _meaning_scorer(train_ids: list[int], examples, vectors):
    model = fit_meaning([examples[i] for i in train_ids], vectors[train_ids])
    return lambda i: float(model.score_vectors(vectors[i:i + 1])[0])


def _document_frequency(block) -> dict[str, int]:
    df: dict[str, int] = {}
    for counts in block:
        for f in counts:
            df[f] = df.get(f, 0) + 1
    return df


def _spread(scores: list[float]) -> tuple[float, float]:
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores)) or 1.0
    return round(mean, DIGITS), round(std, DIGITS)


def folds(examples: list[corpus.Example], k: int, seed: int = SEED) -> list[list[int]]:
    """k folds, stratified by language and label, the same every run."""
    from sklearn.model_selection import StratifiedKFold
    strata = [f"{e.language}:{e.crisis}" for e in examples]
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [list(test) for _, test in splitter.split(strata, strata)]


def out_of_fold(examples: list[corpus.Example], make, k: int = INNER_FOLDS, by_index: bool = False) -> list[float]:
    """Each example's score from a model that never saw it. `make(train)` returns a scorer of a text (or,
    `by_index`, of an example's index)."""
    scores = [0.0] * len(examples)
    for test in folds(examples, k):
        held = set(test)
        train = [i for i in range(len(examples)) if i not in held]
        score = make(train if by_index else [examples[i] for i in train])
        for i in test:
            scores[i] = score(i if by_index else examples[i].text)
    return scores


def choose_threshold(examples: list[corpus.Example], scores: list[float], recall: float) -> float:
    """The highest threshold keeping `recall` of crisis texts in every language."""
    best = math.inf
    for language in sorted({e.language for e in examples}):
        crisis = sorted(s for e, s in zip(examples, scores) if e.language == language and e.crisis)
        if crisis:
            best = min(best, crisis[int(len(crisis) * (1 - recall))])
    return round(best - 10 ** -DIGITS, DIGITS)


def build(out: Path = MODEL_FILE, semantic_out: Path = SEMANTIC_FILE) -> CrisisModel:
    examples = corpus.training()
    model = fit(examples)
    meta = {"examples": len(examples), "crisis": sum(e.crisis for e in examples), "target_recall": TARGET_RECALL,
            "first_recall": FIRST_RECALL, "c_spelling": C_SPELLING, "c_meaning": C_MEANING, "min_df": MIN_DF,
            "features": [len(v) for v in model.spelling.vocabulary], "support_vectors": len(model.meaning.vectors),
            "languages": sorted({e.language for e in examples})}
    model = CrisisModel(model.spelling, model.first_threshold, model.meaning, model.scales, model.threshold,
                        corpus.digest(), meta, model.overrule_below)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model.document(), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    model.meaning.save(semantic_out)
    return model


def main() -> None:
    model = build()
    print(f"wrote {MODEL_FILE.name} and {SEMANTIC_FILE.name}: {sum(model.meta['features'])} features, "
          f"{model.meta['support_vectors']} support vectors, thresholds {model.first_threshold} / {model.threshold}, "
          f"from {model.meta['examples']} texts")


if __name__ == "__main__":
    main()
