"""Staff accounts: hashed passwords, roles, lockout after repeated failures, and the staff audit log."""
import json
from dataclasses import dataclass
from enum import Enum
from functools import cache

from redis import Redis
from werkzeug.security import check_password_hash, generate_password_hash

from service.store import keys

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
MIN_PASSWORD = 12
AUDIT_LIMIT = 10_000


class Role(str, Enum):
    ADMIN = "admin"
    STAFF = "staff"
    OPS = "ops"


# What each role may open; admin can do everything staff can.
GRANTS = {Role.ADMIN: {Role.ADMIN, Role.STAFF, Role.OPS}, Role.STAFF: {Role.STAFF}, Role.OPS: {Role.OPS}}


@dataclass(frozen=True)
class Account:
    email: str
    role: Role

    def may(self, role: Role) -> bool:
        return role in GRANTS[self.role]


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no such account, same cost")


class LoginRefused(Exception):
    """Wrong email or password, or locked: one message for all, so accounts can't be probed."""


def create(r: Redis, email: str, password: str, role: Role, *, now: float) -> Account:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValueError("email must look like name@example.org")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    r.hset(keys.account(email), mapping={"email": email, "role": role.value, "created_at": int(now),
                                         "password": generate_password_hash(password)})
    return Account(email, role)


def get(r: Redis, email: str) -> Account | None:
    email_value, role = r.hmget(keys.account(email), "email", "role")
    return Account(email_value.decode(), Role(role.decode())) if email_value else None


def authenticate(r: Redis, email: str, password: str, now: float) -> Account:
    key = keys.account(email)
    stored, locked_until = r.hmget(key, "password", "locked_until")
    if locked_until and float(locked_until) > now:
        raise LoginRefused()
    if not stored:
        check_password_hash(_dummy_hash(), password)  # same work as a real check: timing doesn't reveal accounts
    if not stored or not check_password_hash(stored.decode(), password):
        _fail(r, key, exists=bool(stored), now=now)
        raise LoginRefused()
    r.hdel(key, "failures", "locked_until")
    return get(r, email)


def _fail(r: Redis, key: str, exists: bool, now: float) -> None:
    if not exists:
        return
    failures = r.hincrby(key, "failures", 1)
    if failures >= MAX_FAILURES:
        r.hset(key, mapping={"locked_until": now + LOCKOUT_SECONDS, "failures": 0})


def audit(r: Redis, who: str, action: str, detail: str = "", *, now: float) -> None:
    """Who did what, when: flows changes, reveals of numbers, exports and deletions."""
    entry = json.dumps({"at": round(now, 3), "who": who, "action": action, "detail": detail})
    pipe = r.pipeline()
    pipe.lpush(keys.AUDIT, entry)
    pipe.ltrim(keys.AUDIT, 0, AUDIT_LIMIT - 1)
    pipe.execute()


def audit_log(r: Redis, limit: int = 200) -> list[dict]:
    return [json.loads(e) for e in r.lrange(keys.AUDIT, 0, limit - 1)]


def trim_audit(r: Redis, cutoff: float) -> int:
    """Drop audit entries older than `cutoff` (the newest are at the head)."""
    dropped = 0
    while (last := r.lindex(keys.AUDIT, -1)) is not None and json.loads(last)["at"] < cutoff:
        r.rpop(keys.AUDIT)
        dropped += 1
    return dropped
