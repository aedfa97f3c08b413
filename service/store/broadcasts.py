"""Broadcasts: one text (per language) to a group or to everyone with consent, now or at a time. A
broadcast is one hash (texts, audience, times, status, funnel counts) and its queue of recipients not
yet handed to a worker (a sorted set of person keys by when each is due in their own send hours: about
a hundred bytes a recipient); the recipients whose text failed are kept apart for "Resend to failed"."""
import json
import secrets
from dataclasses import dataclass, field
from enum import Enum

from redis import Redis

from service.store import keys, scripts


class Status(str, Enum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELED = "canceled"
    EXPIRED = "expired"


STOPPED = (Status.CANCELED, Status.EXPIRED)
HELD_REASONS = ("opted_out", "no_consent", "held_by_staff", "weekly_cap", "channel_window")


@dataclass(frozen=True)
class Broadcast:
    id: str
    texts: dict[str, str]
    group: str | None
    everyone: bool
    send_at: float
    expires_at: float | None
    status: Status
    created_at: float
    created_by: str
    counts: dict[str, int] = field(default_factory=dict)
    resend_of: str = ""
    template: dict | None = None  # {"sid", "variables"}: sent instead where only approved templates may go

    @property
    def failed(self) -> dict[str, int]:
        return {k.split(":", 1)[1]: v for k, v in self.counts.items() if k.startswith("failed:") and v}

    @property
    def held(self) -> dict[str, int]:
        return {r: self.counts.get(f"held:{r}", 0) for r in HELD_REASONS}


def new_id() -> str:
    return "b" + secrets.token_hex(5)


def create(pipe, b: Broadcast, due: dict[str, float], held: dict[str, int]) -> None:
    """The broadcast and its recipients' queue, in one transaction."""
    k = keys.of(pipe)
    pipe.hset(k.broadcast(b.id), mapping={
        "texts": json.dumps(b.texts), "group": b.group or "", "all": int(b.everyone), "send_at": b.send_at,
        "expires_at": b.expires_at or "", "status": b.status.value, "created_at": b.created_at,
        "created_by": b.created_by, "resend_of": b.resend_of, "recipients": len(due), "queued": len(due),
        **({"template": json.dumps(b.template)} if b.template else {}),
        **{f"held:{r}": n for r, n in held.items()}})
    for start in range(0, len(due), 5000):
        chunk = dict(list(due.items())[start:start + 5000])
        pipe.zadd(k.broadcast_due(b.id), chunk)
    pipe.zadd(k.BROADCASTS, {b.id: b.created_at})
    pipe.sadd(k.BROADCASTS_ACTIVE, b.id)


def get(r, bid: str) -> Broadcast | None:
    h = {k.decode(): v.decode() for k, v in r.hgetall(keys.of(r).broadcast(bid)).items()}
    if not h or "texts" not in h:
        return None
    counts = {k: int(v) for k, v in h.items() if k not in FIELDS and v.lstrip("-").isdigit()}
    return Broadcast(bid, json.loads(h["texts"]), h["group"] or None, h["all"] == "1", float(h["send_at"]),
                     float(h["expires_at"]) if h["expires_at"] else None, Status(h["status"]), float(h["created_at"]),
                     h["created_by"], counts, h.get("resend_of", ""),
                     json.loads(h["template"]) if "template" in h else None)


FIELDS = {"texts", "group", "all", "send_at", "expires_at", "status", "created_at", "created_by", "resend_of",
          "template"}


def recent(r: Redis, count: int = 50) -> list[Broadcast]:
    return [b for b in (get(r, i.decode()) for i in r.zrevrange(keys.of(r).BROADCASTS, 0, count - 1)) if b]


def active(r: Redis) -> list[str]:
    return sorted(i.decode() for i in r.smembers(keys.of(r).BROADCASTS_ACTIVE))


def take_due(r: Redis, bid: str, now: float, limit: int) -> list[tuple[str, float]]:
    if limit <= 0:
        return []
    return [(m.decode(), s) for m, s in r.zrangebyscore(keys.of(r).broadcast_due(bid), "-inf", now, start=0, num=limit,
                                                         withscores=True)]


def hand_over(r: Redis, bid: str, taken: list[tuple[str, float]], now: float) -> None:
    """Recipients about to get jobs: into the in-flight set first (a job can finish, and count its outcome
    by taking them out, the moment it is enqueued)."""
    if taken:
        r.zadd(keys.of(r).broadcast_inflight(bid), {pk: now for pk, _ in taken})


def remove_dispatched(r: Redis, bid: str, taken: list[tuple[str, float]]) -> None:
    """Recipients whose jobs exist: out of the queue (a crash before this hands them over again: their
    jobs have fixed ids and send at most once)."""
    if taken:
        r.zrem(keys.of(r).broadcast_due(bid), *(pk for pk, _ in taken))


def outcome(pipe, bid: str, pk: str, *fields: str) -> None:
    """A recipient's outcome without a message record (held, skipped), counted once (see the script)."""
    scripts.run(pipe, "broadcast_outcome", [keys.of(pipe).broadcast_inflight(bid), keys.of(pipe).broadcast(bid)], [pk, *fields])


def in_flight(r: Redis, bid: str) -> int:
    return r.zcard(keys.of(r).broadcast_inflight(bid))


def waiting(r: Redis, bid: str) -> int:
    return r.zcard(keys.of(r).broadcast_due(bid))


def defer(pipe, bid: str, pk: str, due: float) -> None:
    """Back in the queue until their send hours open (no outcome yet)."""
    pipe.zadd(keys.of(pipe).broadcast_due(bid), {pk: due})
    pipe.zrem(keys.of(pipe).broadcast_inflight(bid), pk)


def count(pipe, bid: str, what: str, n: int = 1) -> None:
    pipe.hincrby(keys.of(pipe).broadcast(bid), what, n)


def set_status(pipe, bid: str, status: Status) -> None:
    pipe.hset(keys.of(pipe).broadcast(bid), "status", status.value)
    if status in (Status.SENT, *STOPPED):
        pipe.srem(keys.of(pipe).BROADCASTS_ACTIVE, bid)


def stop(r: Redis, bid: str, status: Status, now: float) -> int:
    """Canceled or expired: the recipients still queued are dropped (and counted); returns how many."""
    k = keys.of(r)
    pipe = r.pipeline()
    pipe.zcard(k.broadcast_due(bid))
    pipe.delete(k.broadcast_due(bid))
    set_status(pipe, bid, status)
    pipe.hset(k.broadcast(bid), f"{status.value}_at", round(now, 3))
    dropped = pipe.execute()[0]
    if dropped:
        r.hincrby(k.broadcast(bid), status.value, dropped)
    return dropped


def failed_people(r: Redis, bid: str) -> set[str]:
    return {pk.decode() for pk in r.smembers(keys.of(r).broadcast_failed(bid))}
