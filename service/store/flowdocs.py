"""Flow documents: published versions in Redis (immutable, numbered, with author and time), the
draft, and which FlowSet is current. The YAML files under flows/definitions are the seed."""
import json
from pathlib import Path

from redis import Redis

from flows.loader import load_documents, shippable
from flows.model import FlowSet
from languages import Languages
from service.store import keys


def seed_documents(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))}


class FlowSource:
    """The current FlowSet: the published version in Redis, else the seed files. Parsed versions are
    cached per process, so a publish is live at the next message everywhere."""

    def __init__(self, seed: FlowSet):
        self.seed = seed
        self._cache: dict[int, FlowSet] = {}
        self._last = seed

    def current(self, r: Redis) -> FlowSet:
        return self.for_version(r, published_version(r))

    def for_version(self, r: Redis, version: int | None) -> FlowSet:
        """The FlowSet for a published version read elsewhere (None: nothing published, the seed)."""
        return self.version(r, version) if version else self.seed

    def last_known(self) -> FlowSet:
        """For the fallback path: no Redis call at all (Redis is likely down and every second counts)."""
        return self._last

    def version(self, r: Redis, n: int) -> FlowSet:
        if n not in self._cache:
            self._cache[n] = load_documents(documents(r, n), self.seed.languages)
        self._last = self._cache[n]
        return self._last


def documents(r: Redis, n: int) -> dict[str, str]:
    raw = r.get(keys.of(r).flows_version(n))
    if raw is None:
        raise KeyError(f"flow version {n} does not exist")
    return json.loads(raw)["documents"]


def publish(r: Redis, docs: dict[str, str], author: str, note: str, now: float, keep_draft: bool = False,
            languages: Languages | None = None, every_language: bool = True) -> int:
    """Validate, then store as the next immutable version and make it current. `every_language=False`:
    the live documents with only the program's name or number changed (Settings), which adds no gap."""
    k = keys.of(r)
    flowset = load_documents(docs, languages)  # raises FlowError with every problem
    if every_language:
        shippable(flowset)
    n = r.incr(k.FLOWS_NEXT_VERSION)
    record = {"version": n, "documents": docs, "author": author, "note": note, "at": round(now, 3)}
    pipe = r.pipeline()
    pipe.set(k.flows_version(n), json.dumps(record))
    pipe.set(k.FLOWS_PUBLISHED, n)
    if not keep_draft:
        pipe.delete(k.FLOWS_DRAFT)
    pipe.execute()
    return n


def history(r: Redis) -> list[dict]:
    latest = int(r.get(keys.of(r).FLOWS_NEXT_VERSION) or 0)
    pipe = r.pipeline(transaction=False)
    for n in range(latest, 0, -1):
        pipe.get(keys.of(r).flows_version(n))
    return [{k: v for k, v in json.loads(raw).items() if k != "documents"} for raw in pipe.execute() if raw]


def published_version(r: Redis) -> int | None:
    value = r.get(keys.of(r).FLOWS_PUBLISHED)
    return int(value) if value else None


def save_draft(r: Redis, docs: dict[str, str], author: str, now: float) -> None:
    r.set(keys.of(r).FLOWS_DRAFT, json.dumps({"documents": docs, "author": author, "at": round(now, 3)}))


def discard_draft(r: Redis) -> None:
    r.delete(keys.of(r).FLOWS_DRAFT)


def draft(r: Redis) -> dict | None:
    raw = r.get(keys.of(r).FLOWS_DRAFT)
    return json.loads(raw) if raw else None


def translation_stamps(r: Redis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in r.hgetall(keys.of(r).FLOWS_TRANSLATIONS).items()}


def save_translation_stamps(r: Redis, stamps: dict[str, str]) -> None:
    pipe = r.pipeline()  # MULTI: readers see the old stamps or the new ones
    pipe.delete(keys.of(r).FLOWS_TRANSLATIONS)
    if stamps:
        pipe.hset(keys.of(r).FLOWS_TRANSLATIONS, mapping=stamps)
    pipe.execute()
