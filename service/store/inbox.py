"""The staff inbox: who wrote lately (newest first, from the contact index), how many of their messages
no staff member has opened yet, and one counter that every change an open inbox shows bumps, so open
pages poll one key with a conditional GET."""
from dataclasses import dataclass

from redis import Redis

from service.privacy import Vault
from service.store import crises, holds, keys, people

UNREAD = "unread"  # contact field: messages since a staff member last opened the conversation
PREVIEW_LOOKBACK = 3  # transcript entries read for a row's preview (follow-ups after their last text)


@dataclass(frozen=True)
class Row:
    pk: str
    phone: str
    last_at: float
    unread: int
    consent: str
    language: str
    held_by: str
    open_callback: bool
    crisis: bool
    last: dict | None = None  # their latest message (what they wrote), else our latest text
    simulated: bool = False  # one of the simulator's fictional people: marked TEST


def arrived(pipe, pk: str) -> None:
    """A message from the person: one more unread, and open inboxes refresh."""
    pipe.hincrby(keys.of(pipe).contact(pk), UNREAD, 1)
    pipe.incr(keys.of(pipe).INBOX_VERSION)


def changed(pipe) -> None:
    pipe.incr(keys.of(pipe).INBOX_VERSION)


def version(r: Redis) -> int:
    return int(r.get(keys.of(r).INBOX_VERSION) or 0)


def opened(r: Redis, pk: str) -> None:
    """A staff member opened the conversation: nothing unread (open inboxes refresh only if there was)."""
    if r.hdel(keys.of(r).contact(pk), UNREAD):
        r.incr(keys.of(r).INBOX_VERSION)


def page(r: Redis, vault: Vault, start: int, count: int, only: set[str] | None = None,
         skip: set[str] | None = None) -> tuple[list[Row], int]:
    """Rows start..start+count of everyone by latest message (or of `only` those person keys; without
    the `skip` ones), and the number of people in the list."""
    k = keys.of(r)
    if only is not None:
        people_ = sorted(only - (skip or set()))
        scores = r.zmscore(k.RECENT, people_) if people_ else []
        ranked = sorted(((pk, s) for pk, s in zip(people_, scores) if s is not None), key=lambda x: -x[1])
        return rows(r, vault, ranked[start:start + count]), len(ranked)
    total = r.zcard(k.RECENT)
    if not skip:
        found = r.zrevrange(k.RECENT, start, start + count - 1, withscores=True)
        return rows(r, vault, [(pk.decode(), score) for pk, score in found]), total
    # everyone but a few (the held ones): their ranks are known, so the page is one range read
    skipped = sorted(rank for rank in (r.zrevrank(k.RECENT, pk) for pk in skip) if rank is not None)
    first = start  # the rank, in the whole list, of the page's first row
    for rank in skipped:
        first += rank <= first
    found = [(pk.decode(), s) for pk, s in r.zrevrange(k.RECENT, first, first + count + len(skipped) - 1,
                                                       withscores=True) if pk.decode() not in skip]
    return rows(r, vault, found[:count]), total - len(skipped)


def rows(r: Redis, vault: Vault, found: list[tuple[str, float]]) -> list[Row]:
    pipe = r.pipeline(transaction=False)
    for pk, _ in found:
        pipe.hmget(keys.of(r).contact(pk), "phone", UNREAD, "consent", people.LANGUAGE, holds.FIELD, "open_callback",
                   "simulated")
        pipe.lrange(keys.of(r).transcript(pk), -PREVIEW_LOOKBACK, -1)
    read = pipe.execute()
    crisis_people = crises.people_in_crisis(r)
    out = []
    previews = _previews(r, vault, read[1::2])
    for (pk, score), (phone, unread, consent, language, held_by, callback, simulated), preview in zip(
            found, read[::2], previews):
        if phone is None:
            continue  # erased meanwhile
        out.append(Row(pk, vault.decrypt(phone), score, int(unread or 0), (consent or b"subscribed").decode(),
                       people.language_of(vault, language), (held_by or b"").decode(), callback is not None,
                       pk in crisis_people, preview, simulated == b"1"))
    return out


def _previews(r: Redis, vault: Vault, lasts: list[list[bytes]]) -> list[dict | None]:
    """For each row: what the person last wrote (a staff member wants their words, not our canned
    answer), else our latest text when they wrote nothing lately (our shared texts read at once)."""
    chosen = []
    for entries in lasts:
        messages = [m for raw in entries for m in people.decode_entry(vault, raw)]
        theirs = [m for m in messages if m.get("dir") == "in"]
        chosen.append(theirs[-1] if theirs else (messages[-1] if messages else None))
    people.resolve(r, [m for m in chosen if m])
    return chosen


def everyone_matching(r: Redis, vault: Vault, last4: str, limit: int = 2000) -> set[str]:
    """Person keys whose number ends with these digits, among the latest `limit` people (numbers are
    encrypted: searching decrypts them, so it is bounded)."""
    found = r.zrevrange(keys.of(r).RECENT, 0, limit - 1)
    pipe = r.pipeline(transaction=False)
    for pk in found:
        pipe.hget(keys.of(r).contact(pk.decode()), "phone")
    return {pk.decode() for pk, phone in zip(found, pipe.execute()) if phone and vault.decrypt(phone).endswith(last4)}
