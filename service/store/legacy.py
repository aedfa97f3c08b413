"""Data kept under another layout's names, moved under the program that owns it (`flask ops migrate-keys`),
before this release serves texts (its processes refuse to start until then: runtime.refuse_unmoved):
- a release before programs: keys `sms:...` without a program (and its `contact:`/`transcript:` families);
- a deployment of one program split into program folders: keys `sms:{main}:...` (keys.DEFAULT), which
  the one program's processes wrote, now a named program's."""
import json
from dataclasses import dataclass, field

from redis import Redis
from redis.exceptions import ResponseError

from service.store import keys, people

UNTAGGED = b"sms:"
BATCH = 1000
FAMILIES = ((b"contact:", b"p:"), (b"transcript:", b"t:"))  # the release before programs' names (store/keys.py)
DROPPED = (b"rotation:progress",)  # SCAN cursors of an unfinished key rotation: meaningless under new names
LINKS = ("day_key", "bc_key")  # fields of a sent text's record naming other keys (store/messages.py)


@dataclass
class Tally:
    moved: int = 0
    merged: int = 0  # an index the new layout had written too: the old entries added to it
    relinked: int = 0  # values naming keys (a person's records, a text's day and broadcast) renamed too
    kept: list[str] = field(default_factory=list)  # a value both wrote: the newer kept, the older listed
    dropped: int = 0


def _sources(r) -> tuple[bytes, ...]:
    """The prefixes of data this program takes over: untagged keys, and the one-program layout's."""
    own = keys.program_of(r)
    return (UNTAGGED,) if own == keys.DEFAULT else (UNTAGGED, keys.named(keys.DEFAULT).prefix.encode())


def _source_of(r, key: bytes) -> bytes | None:
    """Which of `_sources` a key is under, or None."""
    return next((s for s in _sources(r) if key.startswith(s) and (s != UNTAGGED or not key.startswith(b"sms:{"))),
                None)


def is_legacy(r, key: bytes) -> bool:
    return _source_of(r, key) is not None


def left(r: Redis) -> bool:
    """Whether another layout's data is still under its old names (one EXISTS): indexes every deployment
    had once it served anyone (sorted sets and hashes, which a clash merges, so none can stay behind), or a
    migration that started and did not finish (its SCAN may have moved the indexes before the people)."""
    markers = [s + name for s in _sources(r) for name in (b"contacts:recent", b"contacts:known", b"settings",
                                                          b"api-tokens")]
    return bool(r.exists(keys.of(r).MIGRATING, *markers))


def published_documents(r: Redis) -> dict[str, str]:
    """The flow files the old layout had published ({} when none): they name the program it served."""
    for source in _sources(r):
        version = r.get(source + b"flows:published")
        raw = r.get(source + b"flows:version:" + version) if version else None
        if raw:
            return json.loads(raw).get("documents", {})
    return {}


def renamed(r: Redis, key: bytes) -> bytes:
    source = _source_of(r, key)
    if source is None:
        return key
    rest = key[len(source):]
    for old, new in FAMILIES if source == UNTAGGED else ():
        if rest.startswith(old):
            rest = new + rest[len(old):]
    return keys.of(r).prefix.encode() + rest


def move_all(r: Redis, now: float) -> Tally:
    """Everything moved; until it returns, the processes stay refused (MIGRATING), however it stops."""
    tally = Tally()
    r.set(keys.of(r).MIGRATING, repr(now))
    for batch in (move_batch, relink_batch):  # every key renamed, then every value naming keys
        cursor = batch(r, 0, tally)
        while cursor:
            cursor = batch(r, cursor, tally)
    r.delete(keys.of(r).MIGRATING)
    return tally


def move_batch(r: Redis, cursor: int, tally: Tally) -> int:
    """Rename a batch of old keys to their program's names (RENAMENX: never over a key the new layout
    wrote; such a clash is merged or listed); returns the next cursor (0: done)."""
    cursor, found = r.scan(cursor, match=b"sms:*", count=BATCH)
    old = [k for k in found if is_legacy(r, k)]
    dropped = [k for k in old if k[len(_source_of(r, k)):] in DROPPED]
    if dropped:
        tally.dropped += r.delete(*dropped)
    old = [k for k in old if k not in dropped]
    pipe = r.pipeline(transaction=False)
    for key in old:
        pipe.renamenx(key, renamed(r, key))
    for key, result in zip(old, pipe.execute(raise_on_error=False)):
        if isinstance(result, ResponseError) and "no such key" in str(result).lower():
            continue  # expired since the SCAN (a retry's answer, a session): nothing to move
        if isinstance(result, Exception):
            raise result  # the run stops; MIGRATING stays, and running it again goes on
        if result:
            tally.moved += 1
        else:
            _merge(r, key, renamed(r, key), tally)
    return cursor


HLL = b"HYLL"  # how a HyperLogLog's value begins (Redis keeps it as a string)


def _merge(r: Redis, old: bytes, new: bytes, tally: Tally) -> None:
    """An index or record both layouts wrote: the old entries join the new ones (the newer value wins a
    field both have, except that a person's opt-out and first consent stand; counts of distinct people
    are merged); a single value (a string) stays where it is, listed for a person to look at. The new key
    keeps its expiry."""
    kind, ttl = r.type(old).decode(), r.pttl(new)
    if kind == "zset":
        oldest_first = new == keys.of(r).FIRST_SEEN.encode()  # the retention sweep's index: the oldest record
        r.zunionstore(new, [new, old], aggregate="MIN" if oldest_first else "MAX")
    elif kind == "set":
        r.sunionstore(new, [new, old])
    elif kind == "hash":
        earlier = r.hgetall(old)
        person = new.startswith(keys.of(r).contact("").encode())
        displaced = r.hget(new, people.FIRST_CONSENT) if person and people.FIRST_CONSENT.encode() in earlier else None
        pipe = r.pipeline()
        for name, value in earlier.items():
            pipe.hsetnx(new, name, value)
        if person:
            pipe.hset(new, mapping=_consent_that_stands(earlier))
        pipe.execute()
        if displaced and displaced != earlier[people.FIRST_CONSENT.encode()]:  # the new layout's first consent
            pk = new.decode()[len(keys.of(r).contact("")):]  # joins the trail: the trail keeps every change
            _trail(r, keys.of(r).consent_log(pk).encode(), [json.dumps(people.first_consent(displaced)).encode()])
    elif kind == "list" and new.startswith(keys.of(r).consent_log("").encode()):
        _trail(r, new, r.lrange(old, 0, -1))
    elif kind == "list":
        r.lpush(new, *reversed(r.lrange(old, 0, -1)))  # the old entries came first
    elif kind == "string" and r.getrange(old, 0, 3) == HLL == r.getrange(new, 0, 3):
        r.pfmerge(new, new, old)  # counts of distinct people (daily, results): both layouts' people, once each
    else:
        tally.kept.append(old.decode())
        return
    if ttl > 0:
        r.pexpire(new, ttl)
    r.delete(old)
    tally.merged += 1


def _trail(r: Redis, key: bytes, entries: list[bytes]) -> None:
    """A consent trail with more entries: all of them in the order they happened (two layouts' trails, and
    a first consent a merge displaced, interleave)."""
    merged = sorted(r.lrange(key, 0, -1) + entries, key=lambda e: json.loads(e)["at"])
    pipe = r.pipeline()
    pipe.delete(key)
    pipe.rpush(key, *merged)
    pipe.execute()


def _consent_that_stands(earlier: dict) -> dict:
    """A person's first consent is the earlier record's, and an opt-out there is never undone by a merge:
    the new layout's record was written without seeing it (only START subscribes again)."""
    first = people.FIRST_CONSENT.encode()
    kept = {first: earlier[first]} if first in earlier else {}
    if earlier.get(b"consent") == b"opted_out":
        kept.update({name: earlier[name] for name in (b"consent", b"consent_at") if name in earlier})
    return kept


def relink_batch(r: Redis, cursor: int, tally: Tally) -> int:
    """Values that name keys, renamed like the keys: a person's records (erasure deletes what they list)
    and a sent text's day and broadcast (its outcome is counted there, a canceled broadcast stops it)."""
    k = keys.of(r)
    cursor, found = r.scan(cursor, match=k.prefix.encode() + b"*", count=BATCH)
    for key in found:
        if key.startswith(k.records("").encode()):
            old = [m for m in r.smembers(key) if is_legacy(r, m)]
            if old:
                pipe = r.pipeline()
                pipe.srem(key, *old)
                pipe.sadd(key, *(renamed(r, m) for m in old))
                pipe.execute()
                tally.relinked += len(old)
        elif key.startswith(k.message("").encode()) and r.type(key) == b"hash":
            links = {f: v for f, v in zip(LINKS, r.hmget(key, *LINKS)) if v and is_legacy(r, v)}
            if links:
                r.hset(key, mapping={f: renamed(r, v) for f, v in links.items()})
                tally.relinked += len(links)
    return cursor
