"""Sign-in throttling, per client address and per (address, email) pair: failures are counted for
known and unknown emails alike (so the answer and its timing never tell which staff emails exist), and
each beyond the first few makes the next try from that address wait longer. Nothing counted for one
address ever delays the right password from another: an attacker can't lock staff out. Failures per
email (from any address) are only counted, for the audit log to show an account under attack."""
import hashlib

from redis import Redis

from service.store import keys

FREE_TRIES = 5
MAX_WAIT = {"addr": 15 * 60, "pair": 15 * 60}  # seconds
FORGET_AFTER = 3600
ATTACK_FAILURES = 20  # failures for one email within FORGET_AFTER that the audit log is told of


def _key(r, kind: str, who: str) -> str:
    return keys.of(r).login_failures(kind, hashlib.sha256(who.strip().lower().encode()).hexdigest()[:24])


def _who(address: str, email: str) -> dict[str, str]:
    return {"addr": address, "pair": f"{address}|{email.strip().lower()}"}


def wait(r: Redis, address: str, email: str, now: float) -> float:
    """Seconds before this address may try this email again (0: now)."""
    pipe = r.pipeline(transaction=False)
    for kind, who in _who(address, email).items():
        pipe.hget(_key(pipe, kind, who), "until")
    return max([0.0] + [float(u) - now for u in pipe.execute() if u])


def failed(r: Redis, address: str, email: str, now: float) -> int:
    """A wrong password (never a refused, throttled try: those are not counted). Returns how many
    failures the email has had lately, from any address."""
    for kind, who in _who(address, email).items():
        key = _key(r, kind, who)
        count = r.hincrby(key, "count", 1)
        if count >= FREE_TRIES:
            r.hset(key, "until", now + min(2 ** (count - FREE_TRIES + 1), MAX_WAIT[kind]))
        r.expire(key, FORGET_AFTER)
    key = _key(r, "email", email)
    lately = r.incr(key)
    r.expire(key, FORGET_AFTER)
    return lately


def succeeded(r: Redis, address: str, email: str) -> None:
    r.delete(*(_key(r, kind, who) for kind, who in _who(address, email).items()))
