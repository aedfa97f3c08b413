"""Published flow versions in Redis: immutable, numbered, with author and time. Files are the seed.

The engine stays pure: this module only decides which FlowSet is current and caches parsed versions.
"""
import json
import time
from pathlib import Path

from redis import Redis

from flows.loader import load_documents
from flows.model import FlowSet

PUBLISHED = "sms:flows:published"
DRAFT = "sms:flows:draft"


def version_key(n: int) -> str:
    return f"sms:flows:version:{n}"


def seed_documents(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))}


class FlowSource:
    """The current FlowSet: the published version in Redis, else the seed files. One GET per call."""

    def __init__(self, seed: FlowSet):
        self.seed = seed
        self._cache: dict[int, FlowSet] = {}
        self._last = seed

    def current(self, r: Redis) -> FlowSet:
        version = r.get(PUBLISHED)
        return self.for_version(r, int(version) if version else None)

    def for_version(self, r: Redis, version: int | None) -> FlowSet:
        """The FlowSet for a published version read elsewhere (None: nothing published, the seed)."""
        return self.version(r, version) if version else self.seed

    def last_known(self) -> FlowSet:
        """For the fallback path: no Redis call at all (Redis is likely down and every second counts)."""
        return self._last

    def version(self, r: Redis, n: int) -> FlowSet:
        if n not in self._cache:
            self._cache[n] = load_documents(documents(r, n))
        self._last = self._cache[n]
        return self._last


def documents(r: Redis, n: int) -> dict[str, str]:
    raw = r.get(version_key(n))
    if raw is None:
        raise KeyError(f"flow version {n} does not exist")
    return json.loads(raw)["documents"]


def publish(r: Redis, docs: dict[str, str], author: str, note: str, keep_draft: bool = False) -> int:
    """Validate, then store as the next immutable version and make it current."""
    load_documents(docs)  # raises FlowError with every problem
    n = r.incr("sms:flows:next-version")
    record = {"version": n, "documents": docs, "author": author, "note": note, "at": round(time.time(), 3)}
    pipe = r.pipeline()
    pipe.set(version_key(n), json.dumps(record))
    pipe.set(PUBLISHED, n)
    if not keep_draft:
        pipe.delete(DRAFT)
    pipe.execute()
    return n


def history(r: Redis) -> list[dict]:
    latest = int(r.get("sms:flows:next-version") or 0)
    pipe = r.pipeline(transaction=False)
    for n in range(latest, 0, -1):
        pipe.get(version_key(n))
    return [{k: v for k, v in json.loads(raw).items() if k != "documents"} for raw in pipe.execute() if raw]


def published_version(r: Redis) -> int | None:
    value = r.get(PUBLISHED)
    return int(value) if value else None


def save_draft(r: Redis, docs: dict[str, str], author: str) -> None:
    r.set(DRAFT, json.dumps({"documents": docs, "author": author, "at": round(time.time(), 3)}))


def draft(r: Redis) -> dict | None:
    raw = r.get(DRAFT)
    return json.loads(raw) if raw else None
