"""Key rotation in Redis: every encrypted value re-encrypted with the newest DATA_ENCRYPTION_KEY, every
person moved to their id under the newest PHONE_HASH_KEY. Work goes in batches from a saved SCAN
cursor, so an interrupted run resumes where it stopped and a second run changes nothing that matters."""
import json
from dataclasses import dataclass

from redis import Redis

from service.privacy import RAW, Vault
from service.store import contacts, conversations, followups, holds, journeys, keys, people, scripts

BATCH = 500


def encrypted(k: keys.Keys) -> dict:
    """Where a program's encrypted values live: key pattern -> how they are held (hash fields, list items,
    the value)."""
    return {
        k.contact("*"): ("hash", ("phone", people.LANGUAGE, conversations.VAR_PREFIX + "*", contacts.FIELD_PREFIX + "*",
                                 contacts.GROUPS, contacts.EVIDENCE)),  # "*": any var:<name>, any f:<field>
        k.transcript("*"): ("list", "transcript"),
        k.notes("*"): ("list", "transcript"),  # "time:token" entries, like the transcript's
        k.callback("*"): ("hash", ("phone", "notes")),
        k.crisis_flag("*"): ("hash", ("phone", "body")),
        k.unmatched("*"): ("hash", ("body",)),
        k.message("*"): ("hash", ("to", "body", "content")),  # content: an approved template's variables
        k.OUTBOX: ("list", "plain"),
        k.provider_erasure("*"): ("string", ()),
        k.inbound("*"): ("string", "sealed"),  # a retry's answer: sealed ones only (not the pending marker)
    }


@dataclass
class Tally:
    moved: int = 0  # people now under their newest person key
    remnants: int = 0  # erased people (no number kept): they stay under the key they had
    busy: int = 0  # a follow-up of theirs was being sent: moved on a later run
    conflicts: int = 0  # a record under both keys: left for a person to look at
    reencrypted: int = 0
    current: int = 0  # already under the newest key
    changed: int = 0  # written by the service while being rotated: left for another run


def saved_cursor(r: Redis, phase: str) -> int:
    value = r.hget(keys.of(r).ROTATION_PROGRESS, phase)
    return int(value) if value else 0


def save_cursor(r: Redis, phase: str, cursor: int) -> None:
    if cursor:
        r.hset(keys.of(r).ROTATION_PROGRESS, phase, cursor)
    else:
        r.hdel(keys.of(r).ROTATION_PROGRESS, phase)


def rekey_batch(r: Redis, vault: Vault, cursor: int, in_flight: set[str], tally: Tally, now: float) -> int:
    """Move a batch of people to their newest person key; returns the next cursor (0: done)."""
    cursor, found = r.scan(cursor, match=keys.of(r).contact("*"), count=BATCH)
    pipe = r.pipeline(transaction=False)
    for key in found:
        pipe.hget(key, "phone")
    moves = []
    for key, phone in zip(found, pipe.execute()):
        pk = key.decode().rsplit(":", 1)[1]
        new = vault.person_key(vault.decrypt(phone)) if phone else None
        if new is None:
            tally.remnants += 1
        elif new != pk and any(fid.startswith(pk) for fid in in_flight):
            tally.busy += 1
        elif new != pk:
            moves.append((pk, new))
    pipe = r.pipeline(transaction=False)
    for old, _ in moves:
        pipe.smembers(keys.of(r).records(old))
    records = pipe.execute()
    for (old, new), theirs in zip(moves, records):
        rekey(pipe, old, new, now, [m.decode() for m in theirs])
    for (old, new), outcome in zip(moves, pipe.execute()):
        outcome = outcome.decode() if isinstance(outcome, bytes) else outcome
        tally.moved += outcome == "moved"
        tally.conflicts += outcome == "conflict"
        tally.changed += outcome == "retry"  # a record was added meanwhile: the next run moves them
        if outcome == "moved":
            move_groups(r, vault, old, new)
    return cursor


def rekey(client, old: str, new: str, now: float, records: list[str] | None = None):
    """On a client, the outcome ('moved', 'absent', 'conflict', 'retry': the person's records changed
    since `records` was read); on a pipeline, queued, with `records` read by the caller. The person's
    records (call backs, crisis flags, texts out) are declared to the script, which touches no other key."""
    k = keys.of(client)
    if records is None:
        records = [m.decode() for m in client.smembers(k.records(old))]
    pair = [f(pk) for pk in (old, new) for f in (k.contact, k.transcript, k.consent_log, k.records,
                                                 k.replies, lambda p: k.replies(p, True), k.tombstone,
                                                 k.notes)]
    result = scripts.run(client, "rekey_person", [*pair, k.RECENT, k.FIRST_SEEN, k.FOLLOWUPS_DUE, k.HOLDS,
                                                  k.CONTACTS, k.ATTENTION, k.JOURNEYS_DUE, *records],
                         [old, new, followups.FIELD, now, holds.PAUSED, journeys.FIELD])
    return result.decode() if isinstance(result, bytes) else result


def move_groups(r: Redis, vault: Vault, old: str, new: str) -> None:
    """The group indexes hold person keys: a moved person's memberships move too."""
    k = keys.of(r)
    token = r.hget(k.contact(new), contacts.GROUPS)
    if token is None:
        return
    pipe = r.pipeline()
    for name in json.loads(vault.decrypt(token)):
        pipe.srem(k.group(name), old)
        pipe.sadd(k.group(name), new)
    pipe.execute()


def reencrypt_batch(r: Redis, vault: Vault, pattern: str, cursor: int, tally: Tally) -> int:
    """Re-encrypt a batch of one pattern's values with the newest key; returns the next cursor."""
    kind, what = encrypted(keys.of(r))[pattern]
    if "*" in pattern:
        cursor, found = r.scan(cursor, match=pattern, count=BATCH)
    else:
        cursor, found = 0, [pattern.encode()]
    pipe = r.pipeline(transaction=False)
    for key in found:
        if kind == "hash":
            pipe.hgetall(key) if _prefixes(what) else pipe.hmget(key, *what)
        else:
            pipe.get(key) if kind == "string" else pipe.lrange(key, 0, -1)
    swaps = []
    for key, values in zip(found, pipe.execute()):
        swaps += _swaps(vault, key.decode(), kind, what, values, tally)
    pipe = r.pipeline(transaction=False)
    for key, where, old, new in swaps:
        scripts.run(pipe, "swap_value", [key], [kind, where, old, new])
    done = sum(pipe.execute())
    tally.reencrypted += done
    tally.changed += len(swaps) - done
    return cursor


def _swaps(vault: Vault, key: str, kind: str, what, values, tally: Tally) -> list[tuple]:
    """(key, field or index, value read, value under the newest key) for each value not yet current."""
    if kind == "hash" and _prefixes(what):
        found = [(f, old) for f, old in ((f.decode(), v) for f, v in values.items())
                 if old and (f in what or f.startswith(_prefixes(what)))]
    elif kind == "hash":
        found = [(field, old) for field, old in zip(what, values) if old]
    elif kind == "string":
        found = [("", values)] if values and (what != "sealed" or values.startswith(RAW)) else []
    else:
        found = [(str(i), old) for i, old in enumerate(values)]
    token = people.entry_token if what == "transcript" else (lambda raw: raw)
    stale = [(where, old) for where, old in found if not vault.is_current(token(old))]
    tally.current += len(found) - len(stale)
    rotate = _rotate_entry if what == "transcript" else lambda v, old: _as_bytes(vault.rotate(old))
    return [(key, where, old, rotate(vault, old)) for where, old in stale]


def _prefixes(fields) -> tuple[str, ...]:
    return tuple(f[:-1] for f in fields if isinstance(f, str) and f.endswith("*"))


def _rotate_entry(vault: Vault, raw: bytes) -> bytes:
    """A transcript entry keeps its time prefix."""
    token = _as_bytes(vault.rotate(people.entry_token(raw)))
    return raw.split(b":", 1)[0] + b":" + token if people.entry_time(raw) is not None else token


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
