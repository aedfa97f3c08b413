"""The labelled texts the crisis model is built from (corpus/<language>/crisis*.tsv and ordinary*.tsv,
"kind<TAB>text")
and the held-out set it is judged on and never built from (heldout/<language>.tsv, "label<TAB>text")."""
import hashlib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
HELDOUT = HERE / "heldout"
LABELS = ("crisis", "ordinary")


@dataclass(frozen=True)
class Example:
    text: str
    crisis: bool
    language: str
    kind: str = ""


def _rows(path: Path):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        first, sep, text = line.partition("\t")
        if not sep or not text.strip() or "\t" in text:
            raise ValueError(f"{path.name}:{number}: expected one tab between two fields")
        yield first.strip(), text.strip()


def training(root: Path = CORPUS) -> list[Example]:
    """Every training example, in a stable order (languages, then labels, then the files' order)."""
    out = []
    for language_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for label in LABELS:
            for path in sorted(language_dir.glob(f"{label}*.tsv")):
                out += [Example(text, label == "crisis", language_dir.name, kind) for kind, text in _rows(path)]
    return out


def heldout(root: Path = HELDOUT) -> list[Example]:
    out = []
    for path in sorted(root.glob("*.tsv")):
        for label, text in _rows(path):
            if label not in LABELS:
                raise ValueError(f"{path.name}: label must be crisis or ordinary, not {label!r}")
            out.append(Example(text, label == "crisis", path.stem))
    return out


def digest(root: Path = CORPUS) -> str:
    """What the model was built from: the training files' names and bytes."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.tsv")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
