"""The outbox: texts recorded instead of sent (development, the simulator, tests), encrypted at rest."""
import json

from redis import Redis

from service.privacy import Vault
from service.store import keys

LIMIT = 1000


def append(r: Redis, vault: Vault, sid: str, to: str, body: str, now: float) -> None:
    entry = json.dumps({"sid": sid, "to": to, "body": body, "at": round(now, 3)})
    pipe = r.pipeline()
    pipe.rpush(keys.of(r).OUTBOX, vault.encrypt(entry))
    pipe.ltrim(keys.of(r).OUTBOX, -LIMIT, -1)
    pipe.execute()


def remove(r: Redis, vault: Vault, sid: str) -> None:
    for raw in r.lrange(keys.of(r).OUTBOX, 0, -1):
        if json.loads(vault.decrypt(raw))["sid"] == sid:
            r.lrem(keys.of(r).OUTBOX, 0, raw)


def remove_to(r: Redis, vault: Vault, number: str) -> None:
    for raw in r.lrange(keys.of(r).OUTBOX, 0, -1):
        if json.loads(vault.decrypt(raw))["to"] == number:
            r.lrem(keys.of(r).OUTBOX, 0, raw)


def read(r: Redis, vault: Vault) -> list[dict]:
    return [json.loads(vault.decrypt(e)) for e in r.lrange(keys.of(r).OUTBOX, 0, -1)]
