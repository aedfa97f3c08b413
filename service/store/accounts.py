"""Staff accounts (hashed passwords, roles, disabled or not) and the staff audit log. Sign-in throttling
lives in logins.py, sessions in sessions.py."""
import json
import re
from dataclasses import dataclass
from enum import Enum
from functools import cache

from redis import Redis
from werkzeug.security import check_password_hash, generate_password_hash

from service.store import keys, sessions

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


HASH_METHOD = "scrypt"  # werkzeug's default: scrypt with n=2**15, r=8, p=1 (about 0.1 s a hash)


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no such account, same cost")


class LoginRefused(Exception):
    """Wrong email or password, or a disabled account: one message for all, so accounts can't be probed."""


def create(r: Redis, email: str, password: str, role: Role, *, now: float,
           method: str = HASH_METHOD) -> Account:
    """Create an account, or reset one (new password and role, enabled again). `method` is werkzeug's
    hash method: the default everywhere but in tests, which make many accounts at a lower cost."""
    email = _email(email)
    r.hset(keys.of(r).account(email), mapping={"email": email, "role": role.value, "created_at": int(now),
                                         "password": _hash(password, method), "disabled": ""})
    sessions.end_all(r, email)  # a reset ends whatever sessions the old password opened
    return Account(email, role)


def set_password(r: Redis, email: str, password: str) -> None:
    r.hset(keys.of(r).account(email), "password", _hash(password))
    sessions.end_all(r, email)


def set_role(r: Redis, email: str, role: Role) -> None:
    r.hset(keys.of(r).account(email), "role", role.value)


def set_disabled(r: Redis, email: str, disabled: bool) -> None:
    r.hset(keys.of(r).account(email), "disabled", "1" if disabled else "")
    if disabled:
        sessions.end_all(r, email)


EMAIL = re.compile(r"^[a-z0-9._+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)*$")  # what a URL path carries as it is


def _email(email: str) -> str:
    """A new account's address (an existing one is looked up as it was written: _normal)."""
    email = _normal(email)
    if not EMAIL.match(email) or len(email) > 254:
        raise ValueError("email must look like name@example.org (letters, digits and . _ + ' - only)")
    return email


def _normal(email: str) -> str:
    return email.strip().lower()


def _hash(password: str, method: str = HASH_METHOD) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    return generate_password_hash(password, method)


def exists(r: Redis, email: str) -> bool:
    return bool(r.exists(keys.of(r).account(_normal(email))))


def listing(r: Redis) -> list[dict]:
    """Every account (disabled ones too), by email: what the accounts page shows."""
    found = sorted(k.decode() for k in r.scan_iter(match=keys.of(r).account("*"), count=500))
    pipe = r.pipeline(transaction=False)
    for key in found:
        pipe.hmget(key, "email", "role", "disabled", "created_at")
    return [{"email": e.decode(), "role": role.decode(), "disabled": bool(disabled), "created_at": float(created or 0)}
            for e, role, disabled, created in pipe.execute() if e]


def check_password(r: Redis, email: str, password: str) -> bool:
    stored = r.hget(keys.of(r).account(email), "password")
    return bool(stored) and check_password_hash(stored.decode(), password)


def get(r: Redis, email: str) -> Account | None:
    """An enabled account (a disabled one is as good as gone)."""
    email_value, role, disabled = r.hmget(keys.of(r).account(email), "email", "role", "disabled")
    return Account(email_value.decode(), Role(role.decode())) if email_value and not disabled else None


def authenticate(r: Redis, email: str, password: str) -> Account:
    stored = r.hget(keys.of(r).account(email), "password")
    if not stored:
        check_password_hash(_dummy_hash(), password)  # same work as a real check: timing doesn't reveal accounts
    account = get(r, email)
    if not stored or not check_password_hash(stored.decode(), password) or account is None:
        raise LoginRefused()
    return account


def audit(r: Redis, who: str, action: str, detail: str = "", *, now: float) -> None:
    """Who did what, when: flows changes, reveals of numbers, exports and deletions."""
    entry = json.dumps({"at": round(now, 3), "who": who, "action": action, "detail": detail})
    pipe = r.pipeline()
    pipe.lpush(keys.of(r).AUDIT, entry)
    pipe.ltrim(keys.of(r).AUDIT, 0, AUDIT_LIMIT - 1)
    pipe.execute()


def audit_log(r: Redis, limit: int = 200) -> list[dict]:
    return [json.loads(e) for e in r.lrange(keys.of(r).AUDIT, 0, limit - 1)]


def trim_audit(r: Redis, cutoff: float) -> int:
    """Drop audit entries older than `cutoff` (the newest are at the head)."""
    dropped = 0
    while (last := r.lindex(keys.of(r).AUDIT, -1)) is not None and json.loads(last)["at"] < cutoff:
        r.rpop(keys.of(r).AUDIT)
        dropped += 1
    return dropped
