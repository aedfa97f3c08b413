"""Texts the bot did not understand (no keyword, answer, request or crisis in them): kept so staff can
see what people write and teach the bot (an alias, an answer). Each is encrypted like every message,
listed by time, counted per day and language in the insights, erased with the person, and dropped by
the retention sweep; at most LIMIT are kept (the oldest go first)."""
from dataclasses import dataclass

from redis import Redis

from service.privacy import Vault
from service.store import daily, keys

LIMIT = 5000
MAX_BODY = 320


@dataclass(frozen=True)
class Unmatched:
    id: str
    person: str
    body: str
    language: str
    at: float
    day: str
    taught: str = ""  # what an admin made of it ("alias of CALL", "answer of signs/ask")
    simulated: bool = False


def keep(pipe, vault: Vault, uid: str, pk: str, body: str, language: str, now: float, day: str,
         simulated: bool = False) -> None:
    """In the webhook's atomic write. `day`: counted there too (never the simulator's texts)."""
    k = keys.of(pipe)
    pipe.hset(k.unmatched(uid), mapping={"person": pk, "body": vault.encrypt(body[:MAX_BODY]), "lang": language,
                                            "at": round(now, 3), "day": day, "simulated": int(simulated)})
    pipe.zadd(k.UNMATCHED, {uid: now})
    pipe.sadd(k.records(pk), k.unmatched(uid))
    if day and not simulated:
        daily.counts(pipe, day, {"not_understood": 1, f"not_understood_lang:{language}": 1})


def recent(r: Redis, vault: Vault, start: int = 0, count: int = 50, include_test: bool = False) -> tuple[list[Unmatched], int]:
    """Newest first, and how many are kept."""
    ks = keys.of(r)
    ids = [i.decode() for i in r.zrevrange(ks.UNMATCHED, start, start + count - 1)]
    pipe = r.pipeline(transaction=False)
    for uid in ids:
        pipe.hgetall(ks.unmatched(uid))
    rows = []
    for uid, h in zip(ids, pipe.execute()):
        if not h or (h.get(b"simulated") == b"1" and not include_test):
            continue
        rows.append(_row(vault, uid, {k.decode(): v for k, v in h.items()}))
    return rows, r.zcard(ks.UNMATCHED)


def get(r: Redis, vault: Vault, uid: str) -> Unmatched | None:
    h = {k.decode(): v for k, v in r.hgetall(keys.of(r).unmatched(uid)).items()}
    return _row(vault, uid, h) if h else None


def _row(vault: Vault, uid: str, h: dict) -> Unmatched:
    text = {k: v.decode() for k, v in h.items() if k != "body"}
    return Unmatched(uid, text["person"], vault.decrypt(h["body"]), text.get("lang", ""), float(text["at"]),
                     text.get("day", ""), text.get("taught", ""), text.get("simulated") == "1")


def taught(r: Redis, uid: str, what: str) -> bool:
    """An admin made it an alias or an answer (shown on the row); False when it is gone."""
    if not r.exists(keys.of(r).unmatched(uid)):
        return False
    r.hset(keys.of(r).unmatched(uid), "taught", what[:120])
    return True


def forget_before(r: Redis, cutoff: float) -> int:
    """The retention sweep: older ones go, and beyond LIMIT the oldest go."""
    k = keys.of(r)
    old = [i.decode() for i in r.zrangebyscore(k.UNMATCHED, "-inf", f"({cutoff}")]
    extra = max(0, r.zcard(k.UNMATCHED) - len(old) - LIMIT)
    old += [i.decode() for i in r.zrange(k.UNMATCHED, len(old), len(old) + extra - 1)] if extra else []
    if old:
        pipe = r.pipeline()
        pipe.delete(*(k.unmatched(i) for i in old))
        pipe.zrem(k.UNMATCHED, *old)
        pipe.execute()
    return len(old)
