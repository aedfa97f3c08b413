"""Recognising an echo: an auto-responder that sends our own words back, or the same canned text again
and again. Only digests of the last few texts are kept (never the texts)."""
import hashlib

from understanding.text import normalize

KEEP_OURS = 3  # our latest replies
KEEP_THEIRS = 3  # their latest texts
MIN_CANNED = 12  # letters: "help" twice is a person; the same long sentence three times is a machine


def digest(text: str) -> str:
    return hashlib.sha256(normalize(text).encode()).hexdigest()[:8]


def is_echo(recent: tuple[str, ...], body: str) -> bool:
    """Our own words back, or the same long text a third time in a row."""
    return is_ours(recent, body) or is_repeated(recent, body)


def is_ours(recent: tuple[str, ...], body: str) -> bool:
    """One of our latest replies, sent back to us."""
    return digest(body) in [r[2:] for r in recent if r.startswith("o:")]


def is_repeated(recent: tuple[str, ...], body: str) -> bool:
    """The same long text a third time in a row (a canned auto-reply, or a person sending it again)."""
    d = digest(body)
    return len(normalize(body)) >= MIN_CANNED and [r[2:] for r in recent if r.startswith("i:")][-2:] == [d, d]


def remember(recent: tuple[str, ...], body: str, replies: tuple[str, ...]) -> tuple[str, ...]:
    """The digests kept after this exchange."""
    ours = [r for r in recent if r.startswith("o:")] + ["o:" + digest(r) for r in replies]
    theirs = [r for r in recent if r.startswith("i:")] + ["i:" + digest(body)]
    return tuple(ours[-KEEP_OURS:] + theirs[-KEEP_THEIRS:])
