"""Redis memory per person waiting at a question, above today's contact record, at 100k people waiting.

python -m bench.conversation_memory [--people 100000] [--json bench/results/conversation_memory.json]

Baseline: people as the previous release kept them after a text (the contact record: consent, number
as a Fernet token, first and last seen). Then the same records as this release writes them (the number
sealed with AES-GCM, short enough for Redis' compact hash encoding), and then those people waiting at
SIGNS' question, written by the same store functions the webhook uses: the conversation field and the
question's timeout. Goal: under 200 bytes per person above the baseline; the bytes above this release's
own record are reported too.
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

BATCH = 10_000
PREVIOUS_RELEASE = Fernet(Fernet.generate_key())  # the previous release sealed numbers as Fernet tokens


def people(vault: Vault, count: int) -> list[str]:
    return [vault.person_key(f"+1617{2000000 + i:07d}") for i in range(count)]


def populate_contacts(r: Redis, token: str, pks: list[str], now: float) -> None:
    for start in range(0, len(pks), BATCH):
        pipe = r.pipeline(transaction=False)
        for pk in pks[start:start + BATCH]:
            pipe.hset(keys.of(r).contact(pk), mapping={"consent": "subscribed", "phone": token, "first_seen": int(now),
                                                 "last_seen": round(now, 3)})
        pipe.execute()


def make_them_wait(r: Redis, vault: Vault, pks: list[str], now: float) -> None:
    for start in range(0, len(pks), BATCH):
        pipe = r.pipeline(transaction=False)
        for i, pk in enumerate(pks[start:start + BATCH], start):
            asked = now - i  # they arrived over a day or so
            conversations.save(pipe, vault, pk, Conversation("signs", "ask", asked), {})
            followups.set_timeout(pipe, pk, asked + 86400)
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
            empty = r.info("memory")["used_memory"]
            # every token is the same size; encryption itself isn't measured here
            populate_contacts(r, PREVIOUS_RELEASE.encrypt(b"+16172000000").decode(), pks, now)
            baseline = r.info("memory")["used_memory"]
            r.flushall()
            populate_contacts(r, vault.encrypt("+16172000000"), pks, now)
            compact = r.info("memory")["used_memory"]
            make_them_wait(r, vault, pks, now)
            waiting = r.info("memory")["used_memory"]
        finally:
            server.stop()
    per = lambda a, b: round((a - b) / args.people, 1)  # noqa: E731
    result = {"people": args.people, "contact_record_bytes_previous_release": per(baseline, empty),
              "contact_record_bytes_now": per(compact, empty),
              "bytes_per_waiting_person_above_previous_record": per(waiting, baseline),
              "bytes_per_waiting_person_above_record_now": per(waiting, compact), "goal_bytes": 200}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
