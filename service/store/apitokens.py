"""API tokens for the center's systems: a token is shown once when made and only its SHA-256 digest is
kept (a copy of Redis gives no working token); each has a name, who made it and when, when it was last
used, and can be disabled (then it opens nothing)."""
import hashlib
import json
import secrets
from dataclasses import dataclass

from redis import Redis

from service.store import keys

PREFIX = "sk_"


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    created_at: float
    created_by: str
    disabled: bool = False
    last_used: float = 0.0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(r: Redis, name: str, who: str, now: float) -> tuple[str, Token]:
    """(the token, to show once; its record)."""
    tid = secrets.token_hex(6)
    token = f"{PREFIX}{tid}_{secrets.token_urlsafe(32)}"
    record = Token(tid, name.strip()[:80], round(now, 3), who)
    pipe = r.pipeline()
    pipe.hset(keys.of(r).API_TOKENS, tid, json.dumps(record.__dict__))
    pipe.set(keys.of(r).api_token(_digest(token)), tid)
    pipe.execute()
    return token, record


def check(r: Redis, token: str, now: float) -> Token | None:
    """The token's record when it is one of ours and not disabled (its last use is noted)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    tid = r.get(keys.of(r).api_token(_digest(token)))
    record = get(r, tid.decode()) if tid else None
    if record is None or record.disabled:
        return None
    if now - record.last_used > 60:  # noted at most once a minute
        r.hset(keys.of(r).API_TOKENS, record.id, json.dumps({**record.__dict__, "last_used": round(now, 3)}))
    return record


def get(r: Redis, tid: str) -> Token | None:
    raw = r.hget(keys.of(r).API_TOKENS, tid)
    return Token(**json.loads(raw)) if raw else None


def all_tokens(r: Redis) -> list[Token]:
    return sorted((Token(**json.loads(v)) for v in r.hvals(keys.of(r).API_TOKENS)), key=lambda t: -t.created_at)


def disable(r: Redis, tid: str) -> bool:
    record = get(r, tid)
    if record is None or record.disabled:
        return False
    r.hset(keys.of(r).API_TOKENS, tid, json.dumps({**record.__dict__, "disabled": True}))
    return True
