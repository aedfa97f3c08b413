"""Sign-in throttling: failures count per client address and per email, known or not (so the answer and
its timing never tell which staff emails exist), and each beyond the first few makes the next try wait
longer. No hard lock: an attacker can slow an account's sign-in by a minute at most, never shut it."""
import hashlib

from redis import Redis

from service.store import keys

FREE_TRIES = 5
MAX_WAIT = {"addr": 15 * 60, "email": 60}  # seconds
FORGET_AFTER = 3600


def _key(kind: str, who: str) -> str:
    return keys.login_failures(kind, hashlib.sha256(who.strip().lower().encode()).hexdigest()[:24])


def wait(r: Redis, address: str, email: str, now: float) -> float:
    """Seconds before this address may try this email again (0: now)."""
    pipe = r.pipeline(transaction=False)
    for kind, who in (("addr", address), ("email", email)):
        pipe.hget(_key(kind, who), "until")
    return max([0.0] + [float(u) - now for u in pipe.execute() if u])


def failed(r: Redis, address: str, email: str, now: float) -> None:
    for kind, who in (("addr", address), ("email", email)):
        key = _key(kind, who)
        count = r.hincrby(key, "count", 1)
        if count >= FREE_TRIES:
            r.hset(key, "until", now + min(2 ** (count - FREE_TRIES + 1), MAX_WAIT[kind]))
        r.expire(key, FORGET_AFTER)


def succeeded(r: Redis, address: str, email: str) -> None:
    r.delete(_key("addr", address), _key("email", email))
