"""Redis memory per person after one SIGNS and our answers, side by side with a baseline, in one run.

    python -m bench.person_memory --variant previous=9104bea --variant now=. [--people 50000]
           [--json bench/results/person_memory.json]

Each variant is a git revision ("." is the working tree), checked out with `git worktree` and served by
gunicorn against its own embedded Redis, exactly as the webhook benchmarks do. Every one of `--people`
distinct numbers texts SIGNS once, through Twilio-signed webhook POSTs; the bytes are Redis' own
`used_memory` before and after, divided by the people. "Steady state" is after what expires by itself
has expired (the MessageSid's cached answer, the hour's reply counts): the keys carrying a TTL are
removed, which is what waiting for them would do. Goal: <= 1,000 bytes per person in steady state.
Some structures cost the same however many people there are (65,536 small hashes of MessageSid
digests, hash tables sized in powers of two), so the report also gives the marginal bytes of a person:
steady state after half the people and after all of them, the difference divided by the second half.
The breakdown groups every key by its family (the person key replaced by *), with MEMORY USAGE.
"""
import argparse
import asyncio
import json
import re
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from redis import Redis

from bench.loadgen import RequestFactory, closed_loop, us_numbers
from bench.servers import AUTH_TOKEN, Gunicorn, service_env
from bench.webhook_compare import checkout, remove_checkout
from devtools.embedded_redis import EmbeddedRedis, free_port

GOAL = 1000
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}|\d{6,}|SM[0-9a-f]{32}|(?<=:seen:)[0-9a-f]{4}$")


def family(key: bytes) -> str:
    return TOKEN.sub("*", key.decode(errors="replace"))


def breakdown(r: Redis) -> tuple[Counter, Counter, Counter]:
    """Bytes and key counts by family, and the bytes of keys that expire by themselves."""
    sizes, counts, expiring = Counter(), Counter(), Counter()
    cursor = 0
    while True:
        cursor, batch = r.scan(cursor, count=2000)
        pipe = r.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
            pipe.pttl(key)
        answers = pipe.execute()
        for key, size, ttl in zip(batch, answers[::2], answers[1::2]):
            name = family(key)
            sizes[name] += size or 0
            counts[name] += 1
            if ttl and ttl > 0:
                expiring[name] += size or 0
        if cursor == 0:
            return sizes, counts, expiring


def drop_expiring(r: Redis) -> int:
    gone, cursor = 0, 0
    while True:
        cursor, batch = r.scan(cursor, count=2000)
        pipe = r.pipeline(transaction=False)
        for key in batch:
            pipe.pttl(key)
        doomed = [k for k, ttl in zip(batch, pipe.execute()) if ttl and ttl > 0]
        if doomed:
            gone += r.delete(*doomed)
        if cursor == 0:
            return gone


def measure(label: str, rev: str, people: int, tmp: Path, numbers: list[str]) -> dict:
    with ExitStack() as stack:
        code = checkout(rev, tmp / f"code-{label}")
        stack.callback(remove_checkout, code)
        redis = EmbeddedRedis(tmp / f"redis-{label}").start()
        stack.callback(redis.stop)
        port = free_port()
        server = Gunicorn(label, "service:create_app()", 4, service_env(redis.url, f"http://127.0.0.1:{port}"), tmp,
                          port, cwd=code).start()
        stack.callback(server.stop)
        server.wait_ready()
        r = Redis.from_url(redis.url)
        before = r.info("memory")["used_memory"]
        url = server.base_url + "/twilio/sms"
        requests = RequestFactory(url, AUTH_TOKEN, numbers, ("SIGNS",)).make(people)
        half = people // 2
        first = asyncio.run(closed_loop(url, requests[:half], 16, 3600))
        drop_expiring(r)
        steady_half = r.info("memory")["used_memory"]
        result = asyncio.run(closed_loop(url, requests[half:], 16, 3600))
        if first.tally.ok + result.tally.ok != people:
            raise RuntimeError(f"{label}: {first.tally.ok + result.tally.ok} of {people} texts answered")
        after = r.info("memory")["used_memory"]
        sizes, counts, expiring = breakdown(r)
        dropped = drop_expiring(r)
        steady = r.info("memory")["used_memory"]
    per = lambda n: round(n / people, 1)  # noqa: E731
    second = people - half  # what expires by itself is the second half's only (the first half's was dropped)
    families = {name: {"keys": counts[name],
                       "bytes_per_person": round(size / second, 1) if expiring[name] else per(size),
                       **({"expires_by_itself": True} if expiring[name] else {})}
                for name, size in sizes.most_common() if size / people >= 1}
    return {"rev": rev, "people": people, "marginal_bytes_per_person_at_once": round((after - steady_half) / second, 1),
            "bytes_per_person_steady": per(steady - before),
            "marginal_bytes_per_person_steady": round((steady - steady_half) / second, 1),
            "expiring_keys_dropped": dropped,
            "texts_per_second": round(result.throughput, 1), "families": families}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", required=True, help="label=REV (REV '.' = working tree)")
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    numbers = us_numbers(args.people)
    report = {}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        for label, rev in (v.split("=", 1) for v in args.variant):
            report[label] = measure(label, rev, args.people, Path(tmp), numbers)
            print(label, json.dumps({k: v for k, v in report[label].items() if k != "families"}), flush=True)
            for name, row in report[label]["families"].items():
                print(f"    {row['bytes_per_person']:8.1f}  {name}{'  (expires)' if row.get('expires_by_itself') else ''}")
    first = next(iter(report.values()))["bytes_per_person_steady"]
    for row in report.values():
        row["ratio_to_first"] = round(row["bytes_per_person_steady"] / first, 3)
        row["goal_met"] = row["bytes_per_person_steady"] <= GOAL
        row["goal_met_marginal"] = row["marginal_bytes_per_person_steady"] <= GOAL
    report["goal_bytes_per_person"] = GOAL
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
