"""Redis memory for remembering every handled MessageSid (replay protection), at 100k and 1M messages.

python -m bench.seen_memory [--sizes 100000 1000000] [--json bench/results/seen_memory.json]

Side by side with the baseline it replaces in spirit: keeping each `sms:inbound:<sid>` claim key alive
for the whole period (a string key with a TTL per message).
"""
import argparse
import json
import tempfile
import uuid
from pathlib import Path

from redis import Redis

from devtools.embedded_redis import EmbeddedRedis
from service.store import inbound, keys

DAY = 86400


def sids(n: int) -> list[str]:
    return ["SM" + uuid.UUID(int=i + 1).hex for i in range(n)]


def measure(r: Redis, n: int, write) -> float:
    r.flushdb()
    before = r.info("memory")["used_memory"]
    all_sids = sids(n)
    for start in range(0, n, 10_000):
        pipe = r.pipeline(transaction=False)
        for sid in all_sids[start:start + 10_000]:
            write(pipe, sid)
        pipe.execute()
    return (r.info("memory")["used_memory"] - before) / n


def seen_markers(pipe, sid: str) -> None:
    key, digest = inbound.seen_field(sid)
    pipe.hset(key, digest, 20500)


def claim_keys(pipe, sid: str) -> None:
    pipe.set(keys.of(pipe).inbound(sid), "", ex=365 * DAY)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp)).start()
        try:
            r = Redis.from_url(server.url)
            r.config_set("appendonly", "no")
            for n in args.sizes:
                row = {"messages": n, "bytes_per_sid": round(measure(r, n, seen_markers), 1),
                       "baseline_claim_key_bytes_per_sid": round(measure(r, n, claim_keys), 1)}
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            server.stop()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
