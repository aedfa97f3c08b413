"""How a benchmark hands over its numbers: printed, and kept as JSON where asked (bench/results)."""
import json
from pathlib import Path


def emit(report: dict, path: Path | None) -> None:
    print(json.dumps(report, indent=2))
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
