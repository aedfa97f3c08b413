"""Redis memory per pending follow-up at 100k and 1M, and the time to cancel one person's follow-ups.

python -m bench.followup_memory [--sizes 100000 1000000] [--json bench/results/followup_memory.json]
"""
import argparse
import json
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from redis import Redis

from flows.engine import ScheduledFollowUp
from service.planning import schedule_followups
from service.store import followups, keys
from service.config import Config
from devtools.embedded_redis import EmbeddedRedis
from service.privacy import Vault

PER_PERSON = (ScheduledFollowUp("signs", 0, timedelta(days=1)),
              ScheduledFollowUp("signs", 1, timedelta(days=3)))


def config(url: str) -> Config:
    return Config.from_env({"APP_ENV": "test", "REDIS_URL": url, "SECRET_KEY": "bench",
                            "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(), "PHONE_HASH_KEY": "bench"})


def number(i: int) -> str:
    return f"+1617{i % 10_000_000:07d}"


def populate(r: Redis, cfg: Config, vault: Vault, people: int, now: float) -> tuple[int, int]:
    """People first (as texting creates them), then their follow-ups; returns memory before and after."""
    phone_token = vault.encrypt(number(0))  # same size as any number's token; encryption isn't measured here
    for start in range(0, people, 10_000):
        pipe = r.pipeline(transaction=False)
        for i in range(start, min(start + 10_000, people)):
            pipe.hset(keys.of(r).contact(vault.person_key(number(i))), mapping={
                "consent": "subscribed", "phone": phone_token, "first_seen": int(now), "last_seen": int(now)})
        pipe.execute()
    before = r.info("memory")["used_memory"]
    for start in range(0, people, 10_000):
        pipe = r.pipeline(transaction=False)
        for i in range(start, min(start + 10_000, people)):
            schedule_followups(cfg, pipe, vault.person_key(number(i)), number(i), PER_PERSON, now)
        pipe.execute()
    return before, r.info("memory")["used_memory"]


def cancel_times(r: Redis, vault: Vault, people: int, samples: int = 1000) -> list[float]:
    times = []
    for i in range(0, people, max(people // samples, 1)):
        pk = vault.person_key(number(i))
        t0 = time.perf_counter()
        pending = followups.pending_of(r, pk)
        pipe = r.pipeline()
        followups.cancel(pipe, pk, pending)
        pipe.execute()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def measure(pending: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp)).start()
        try:
            r = Redis.from_url(server.url)
            cfg = config(server.url)
            vault = Vault.from_config(cfg)
            people = pending // len(PER_PERSON)
            t0 = time.time()
            before, after = populate(r, cfg, vault, people, t0)
            assert r.zcard(keys.of(r).FOLLOWUPS_DUE) == pending
            cancels = cancel_times(r, vault, people)
            return {"pending": pending, "bytes_per_followup": round((after - before) / pending, 1),
                    "total_mb": round(after / 2**20, 1), "cancel_ms_p50": round(statistics.median(cancels), 3),
                    "cancel_ms_p99": round(sorted(cancels)[int(len(cancels) * 0.99) - 1], 3),
                    "populate_seconds": round(time.time() - t0, 1)}
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--json", default="bench/results/followup_memory.json")
    args = parser.parse_args()
    results = [measure(n) for n in args.sizes]
    print(f"{'pending':>10} {'bytes/follow-up':>16} {'redis MB':>9} {'cancel p50 ms':>14} {'cancel p99 ms':>14}")
    for row in results:
        print(f"{row['pending']:>10} {row['bytes_per_followup']:>16} {row['total_mb']:>9} "
              f"{row['cancel_ms_p50']:>14} {row['cancel_ms_p99']:>14}")
    print("goal: under 300 bytes per pending follow-up")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
