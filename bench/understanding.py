"""How well the service hears a crisis, judged on texts the model never learned from, per language:

    python -m bench.understanding [--folds 5] [--json bench/results/understanding.json]
                                  [--misses bench/results/understanding-misses.md] [--throughput]

1. Nested cross-validation on the corpus (understanding/corpus): each fold's model is built by the same
   procedure as `make model` (its thresholds and scales from inner folds of its own training texts) and
   judged on the fold it never saw. Three readers side by side: the crisis phrases alone (the release
   before), the first stage with the phrases, and both stages with the phrases (what ships).
2. The held-out set (understanding/heldout), written independently and never trained on, read by the
   shipped model.
3. Language identification on the corpus, and the reader's time per text.
4. With --throughput: the webhook with the model vs without it (the phrases alone), side by side in one
   run (bench.webhook_compare), on keyword traffic and with 30% free text.
Every miss (a crisis text not heard) and a sample of false alarms are listed in --misses."""
import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from understanding.phrases import is_crisis
from flows.reading import MIN_WORDS, Reader
from understanding import build, corpus, language
from understanding.model import CrisisModel, load
from understanding.semantic import embed
from understanding.text import words

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def readers(model: CrisisModel) -> dict:
    """What each system says of a text: phrases alone, first stage + phrases, both stages + phrases."""
    first_only = CrisisModel(model.spelling, model.first_threshold, None, None, model.first_threshold)
    long_enough = lambda t: len(words(t)) >= MIN_WORDS  # noqa: E731 (the reader's own rule)
    return {"phrases": is_crisis,
            "first_stage": lambda t: is_crisis(t) or (long_enough(t) and first_only.is_crisis(t)),
            "shipped": lambda t: Reader(model).crisis(t).crisis}


def nested(examples, vectors, k: int) -> dict[str, list[bool]]:
    said = {name: [False] * len(examples) for name in ("phrases", "first_stage", "shipped")}
    for test in build.folds(examples, k, seed=7):
        held = set(test)
        train = [i for i in range(len(examples)) if i not in held]
        model = build.fit([examples[i] for i in train], vectors[train])
        for name, read in readers(model).items():
            for i in test:
                said[name][i] = read(examples[i].text)
    return said


def rates(examples, said: list[bool]) -> dict:
    out = {}
    for lang in sorted({e.language for e in examples}):
        crisis = [s for e, s in zip(examples, said) if e.language == lang and e.crisis]
        ordinary = [(e, s) for e, s in zip(examples, said) if e.language == lang and not e.crisis]
        by_kind = defaultdict(list)
        for e, s in ordinary:
            by_kind[e.kind].append(s)
        out[lang] = {"crisis_texts": len(crisis), "ordinary_texts": len(ordinary),
                     "recall": round(sum(crisis) / len(crisis), 4),
                     "false_alarms": round(sum(s for _, s in ordinary) / len(ordinary), 4),
                     **({"false_alarms_by_kind": {kind: round(sum(v) / len(v), 3) for kind, v in sorted(by_kind.items())}}
                        if any(by_kind) and "" not in by_kind else {})}
    return out


def language_accuracy(examples) -> dict:
    out = {}
    for lang in sorted({e.language for e in examples}):
        found = [language.detect(e.text, ("en", "es")) for e in examples if e.language == lang]
        out[lang] = {"right": round(sum(f == lang for f in found) / len(found), 4),
                     "wrong": round(sum(f not in (lang, None) for f in found) / len(found), 4),
                     "undecided": round(sum(f is None for f in found) / len(found), 4)}
    return out


def timing(model: CrisisModel, texts: list[str]) -> dict:
    reader, spent = Reader(model), []
    reader.crisis("warm up the encoder")
    for text in texts:
        start = time.perf_counter()
        reader.crisis(text)
        spent.append((time.perf_counter() - start) * 1000)
    spent.sort()
    return {"texts": len(texts), "p50_ms": round(statistics.median(spent), 3),
            "p99_ms": round(spent[int(len(spent) * 0.99)], 3), "mean_ms": round(sum(spent) / len(spent), 3)}


def throughput() -> dict:
    """The webhook with the model vs the phrases alone, side by side (keywords; then 30% free text)."""
    out = {}
    for name, share in (("keywords", 0.0), ("free_text_30", 0.3)):
        path = RESULTS / f"understanding_throughput_{name}.json"
        cmd = [sys.executable, "-m", "bench.webhook_compare", "--variant", "without=.@bench.rules_only:create_app()",
               "--variant", "with=.@service:create_app(surface='twilio')", "--rounds", "3", "--json", str(path)]
        if share:
            cmd += ["--free-text", str(share)]
        subprocess.run(cmd, cwd=ROOT, check=True)
        report = json.loads(path.read_text())
        out[name] = {"without_rps": report["without"]["median_rps"], "with_rps": report["with"]["median_rps"],
                     "ratio": report["with"]["ratio_to_first"]}
    return out


def _unseen(examples, held, said):
    """The held-out texts none of the corpus's texts reads the same as (a few short common phrases are in
    both: "i want to die", "ok", "STOP")."""
    learned = {words_of(e.text) for e in examples}
    kept = [(e, s) for e, s in zip(held, said) if words_of(e.text) not in learned]
    return [e for e, _ in kept], [s for _, s in kept]


def words_of(text: str) -> str:
    return " ".join(words(text))


def misses_report(examples, said: list[bool], heldout_examples, heldout_said: list[bool]) -> str:
    lines = ["# What the crisis reader missed, and a sample of its false alarms", "",
             "Generated by `python -m bench.understanding`: the shipped reader (both stages and the crisis phrases).",
             "Corpus texts are judged by the fold's model that never saw them (nested cross-validation); the",
             "held-out texts by the shipped model.", ""]
    for title, exs, flags in (("Cross-validation", examples, said), ("Held-out set", heldout_examples, heldout_said)):
        for lang in sorted({e.language for e in exs}):
            missed = [e for e, s in zip(exs, flags) if e.language == lang and e.crisis and not s]
            alarms = [e for e, s in zip(exs, flags) if e.language == lang and not e.crisis and s]
            lines += [f"## {title}, {lang}: {len(missed)} crisis texts missed", ""]
            lines += [f"- ({e.kind or 'crisis'}) {e.text}" for e in missed] or ["- none"]
            lines += ["", f"### {title}, {lang}: {len(alarms)} false alarms (the first 40)", ""]
            lines += [f"- ({e.kind or 'ordinary'}) {e.text}" for e in alarms[:40]] or ["- none"]
            lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=RESULTS / "understanding.json")
    parser.add_argument("--misses", type=Path, default=RESULTS / "understanding-misses.md")
    parser.add_argument("--throughput", action="store_true")
    args = parser.parse_args()
    examples, held = corpus.training(), corpus.heldout()
    started = time.monotonic()
    vectors = embed([e.text for e in examples])
    said = nested(examples, vectors, args.folds)
    shipped = load()
    held_said = {name: [read(e.text) for e in held] for name, read in readers(shipped).items()}
    report = {
        "corpus": {"texts": len(examples), "crisis": sum(e.crisis for e in examples), "digest": corpus.digest()},
        "cross_validation": {"folds": args.folds, **{name: rates(examples, s) for name, s in said.items()}},
        "heldout": {"texts": len(held), **{name: rates(held, s) for name, s in held_said.items()},
                    "unseen_only": rates(*_unseen(examples, held, held_said["shipped"]))},
        "language_identification": language_accuracy(examples),
        "reader_time": {"free_text": timing(shipped, [e.text for e in held]),
                        "keywords": timing(shipped, ["SIGNS", "CALL", "STOP", "treatment", "me", "other"] * 50)},
        "model": shipped.meta, "seconds": round(time.monotonic() - started, 1)}
    if args.throughput:
        report["webhook_throughput"] = throughput()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    args.misses.write_text(misses_report(examples, said["shipped"], held, held_said["shipped"]) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "model"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
