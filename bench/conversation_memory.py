"""Redis memory per person waiting at a question, above today's contact record, at 100k people waiting.

python -m bench.conversation_memory [--people 100000] [--json bench/results/conversation_memory.json]

Baseline: people as the previous release kept them after a text (the contact record: consent, number,
first and last seen). Then the same people waiting at SIGNS' question, written by the same store
functions the webhook uses: the conversation field, and the question's timeout (a pending follow-up in
the due set and in the person's list). Goal: under 200 bytes per person above the baseline.
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet
from redis import Redis

from devtools.embedded_redis import EmbeddedRedis
from flows.engine import Conversation
from service.privacy import Vault
from service.store import conversations, followups, keys
from service.store.followups import FollowUpId

BATCH = 10_000


def people(vault: Vault, count: int) -> list[str]:
    return [vault.person_key(f"+1617{2000000 + i:07d}") for i in range(count)]


def populate_contacts(r: Redis, vault: Vault, pks: list[str], now: float) -> None:
    token = vault.encrypt("+16172000000")  # every token is the same size; encryption isn't measured here
    for start in range(0, len(pks), BATCH):
        pipe = r.pipeline(transaction=False)
        for pk in pks[start:start + BATCH]:
            pipe.hset(keys.contact(pk), mapping={"consent": "subscribed", "phone": token, "first_seen": int(now),
                                                 "last_seen": round(now, 3)})
        pipe.execute()


def make_them_wait(r: Redis, vault: Vault, pks: list[str], now: float) -> None:
    for start in range(0, len(pks), BATCH):
        pipe = r.pipeline(transaction=False)
        for pk in pks[start:start + BATCH]:
            conversations.save(pipe, vault, pk, Conversation("signs", "ask", now), {})
            fid = str(FollowUpId(pk, "signs", "nudge", int(now)))
            followups.add(pipe, pk, {fid: now + 86400})
        pipe.execute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    vault = Vault([Fernet.generate_key()], [b"bench"])
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp)).start()
        try:
            r = Redis.from_url(server.url)
            r.config_set("appendonly", "no")
            pks, now = people(vault, args.people), time.time()
            populate_contacts(r, vault, pks, now)
            baseline = r.info("memory")["used_memory"]
            make_them_wait(r, vault, pks, now)
            waiting = r.info("memory")["used_memory"]
        finally:
            server.stop()
    result = {"people": args.people, "contact_record_mb": round(baseline / 1e6, 1),
              "bytes_per_waiting_person": round((waiting - baseline) / args.people, 1), "goal_bytes": 200}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
