"""Staff sessions, kept server-side: the cookie holds only a random token; Redis keeps what the session
holds under a hash of that token. Logout, a password change or a disabled account end sessions for good;
an idle one and an old one end by themselves."""
import hashlib
import json
import secrets
from dataclasses import dataclass

from redis import Redis

from service.store import keys


@dataclass(frozen=True)
class Limits:
    idle_seconds: int
    max_seconds: int


def _id(token: str) -> str:
    """Redis never holds a usable cookie value, only its digest."""
    return hashlib.sha256(token.encode()).hexdigest()


def create(r: Redis, data: dict, now: float, limits: Limits) -> str:
    token = secrets.token_urlsafe(32)
    save(r, token, data, now, limits, created=now)
    return token


def save(r: Redis, token: str, data: dict, now: float, limits: Limits, created: float | None = None) -> None:
    k = keys.of(r)
    key, email = k.session(_id(token)), data.get("staff", "")
    pipe = r.pipeline()
    fields = {"data": json.dumps(data), "seen": round(now, 3), "email": email}
    if created is not None:
        fields["created"] = round(created, 3)
    pipe.hset(key, mapping=fields)
    pipe.expire(key, limits.idle_seconds + 60)
    if email:
        pipe.sadd(k.account_sessions(email), _id(token))
        pipe.expire(k.account_sessions(email), limits.max_seconds + 60)
    pipe.execute()


def load(r: Redis, token: str, now: float, limits: Limits) -> dict | None:
    """The session's data, or None when it does not exist, sat idle too long or is too old."""
    raw = r.hmget(keys.of(r).session(_id(token)), "data", "seen", "created")
    if raw[0] is None:
        return None
    data, seen, created = json.loads(raw[0]), float(raw[1]), float(raw[2] or 0)
    if now - seen >= limits.idle_seconds or now - created >= limits.max_seconds:
        end(r, token)
        return None
    return data


def end(r: Redis, token: str) -> None:
    key = keys.of(r).session(_id(token))
    email = r.hget(key, "email")
    pipe = r.pipeline()
    pipe.delete(key)
    if email:
        pipe.srem(keys.of(r).account_sessions(email.decode()), _id(token))
    pipe.execute()


def end_all(r: Redis, email: str) -> int:
    """Every session of an account (logout everywhere, password change, account disabled)."""
    k = keys.of(r)
    ids = [i.decode() for i in r.smembers(k.account_sessions(email))]
    pipe = r.pipeline()
    for sid in ids:
        pipe.delete(k.session(sid))
    pipe.delete(k.account_sessions(email))
    pipe.execute()
    return len(ids)
