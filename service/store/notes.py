"""Staff notes about a person: encrypted like every personal datum, each with its author and time, and
optionally what it is about (a crisis, a call back)."""
import json

from redis import Redis

from service.privacy import Vault
from service.store import keys

MAX_NOTES = 500


def add(pipe, vault: Vault, pk: str, who: str, text: str, now: float, about: str = "") -> None:
    """Stored as "time:token", like transcript entries: the retention sweep trims without decrypting."""
    entry = {"at": round(now, 3), "who": who, "text": text, **({"about": about} if about else {})}
    pipe.rpush(keys.of(pipe).notes(pk), f"{int(now)}:{vault.encrypt(json.dumps(entry))}")
    pipe.ltrim(keys.of(pipe).notes(pk), -MAX_NOTES, -1)


def of(r: Redis, vault: Vault, pk: str) -> list[dict]:
    """Oldest first."""
    return [json.loads(vault.decrypt(raw.split(b":", 1)[1] if b":" in raw else raw))
            for raw in r.lrange(keys.of(r).notes(pk), 0, -1)]
