"""Texts sent alike to many people (the program's own answers, a broadcast's text), stored once: a
person's transcript names one by its digest instead of keeping an encrypted copy of our own words.

Only texts that name nobody go here (flows.model.FlowSet.shared_texts, a broadcast's text): what a person
wrote, what staff wrote to them, or a text with their fields or a time in it stays in their encrypted
transcript. The table is never erased with a person: nothing in it is theirs."""
import base64
import hashlib

from redis import Redis

from service.store import keys

MISSING = ("", "[a text of ours that is no longer stored]")


def digest(stored: str) -> str:
    """72 bits of SHA-256, url-safe base64 (12 characters)."""
    return base64.urlsafe_b64encode(hashlib.sha256(stored.encode()).digest()[:9]).decode()


def keep(pipe, text: str, source: str = "") -> str:
    """The digest of the text and where it came from (a flow's step, a program message, a broadcast:
    never a newline), stored under it unless it already is."""
    stored = f"{source}\n{text}"
    ref = digest(stored)
    pipe.hsetnx(keys.of(pipe).TEXTS, ref, stored)
    return ref


def bodies(r: Redis, refs: set[str]) -> dict[str, tuple[str, str]]:
    """Digest -> (source, text), for the ones asked (a digest not found reads as MISSING)."""
    if not refs:
        return {}
    ordered = sorted(refs)
    return {ref: tuple(value.decode().split("\n", 1)) if value is not None else MISSING
            for ref, value in zip(ordered, r.hmget(keys.of(r).TEXTS, ordered))}
