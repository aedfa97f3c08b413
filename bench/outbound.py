"""Outbound throughput through the whole follow-up pipeline against a fake Twilio with 150 ms latency.

Starts the real clock (rq cron) and a pool of the Procfile's RQ workers, waits until they are up,
sends a 3 s warm-up batch, then schedules N follow-ups due now and measures
the rate at which the fake receives messages and the busiest 1-second window (must not exceed the cap).

python -m bench.outbound [--messages 3000] [--rate 100] [--workers 20] [--latency 0.15]
(BENCH_ARRIVALS=path.json also writes every arrival time at the fake, warm-up and measured, for analysis.)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from redis import Redis

from flows.engine import ScheduledFollowUp
from service.planning import schedule_followups
from service.config import Config
from service.store import keys
from devtools.embedded_redis import EmbeddedRedis
from service.privacy import Vault
from tests.fakes.twilio_api import FakeTwilio

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WARMUP_SECONDS = 3
SID, TOKEN = "AC" + "1" * 32, "bench-token"


def environment(url: str, fake: FakeTwilio, rate: int) -> dict[str, str]:
    return {"APP_ENV": "test", "REDIS_URL": url, "SECRET_KEY": "bench", "PHONE_HASH_KEY": "bench",
            "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(), "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_API_BASE_URL": fake.url, "TWILIO_FROM_NUMBER": "+18555909944",
            "SEND_RATE_PER_SECOND": str(rate), "SEND_HOURS": "Mon-Sun 00:00-24:00"}


def wait_for_sent(fake: FakeTwilio, count: int, rate: int) -> None:
    deadline = time.monotonic() + count / rate * 3 + 60
    while len(fake.sent()) < count and time.monotonic() < deadline:
        time.sleep(0.5)


def schedule_due_now(r: Redis, env: dict, count: int, first: int) -> None:
    cfg = Config.from_env(env)
    vault = Vault.from_config(cfg)
    now = time.time()
    item = (ScheduledFollowUp("signs", 0, timedelta(0)),)
    pipe = r.pipeline(transaction=False)
    for i in range(first, first + count):
        e164 = f"+1617{i:07d}"
        pk = vault.person_key(e164)
        pipe.hset(keys.of(r).contact(pk), mapping={"consent": "subscribed", "phone": vault.encrypt(e164)})
        schedule_followups(cfg, pipe, pk, e164, item, now - 60)
    pipe.execute()


def busiest_second(arrivals: list[float]) -> int:
    best, j = 0, 0
    for i, t in enumerate(arrivals):
        while arrivals[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def shortest_span(arrivals: list[float], count: int) -> float | None:
    spans = [arrivals[i + count - 1] - arrivals[i] for i in range(len(arrivals) - count + 1)]
    return round(min(spans), 4) if spans else None


def wait_for_workers(r: Redis, count: int, procs: list, timeout: float = 180.0) -> float:
    """Until `count` workers have registered and the machine has settled after their start-up."""
    from rq import Worker
    started = time.monotonic()
    while Worker.count(connection=r) < count:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a benchmark process exited during start-up")
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"only {Worker.count(connection=r)} of {count} workers started in {timeout:.0f}s")
        time.sleep(0.2)
    time.sleep(2.0)  # the last ones registered just now; let their start-up finish
    return round(time.monotonic() - started, 1)


def run(messages: int, rate: int, workers: int, latency: float) -> tuple[dict, dict]:
    """The results, and every arrival time at the fake (warm-up and measured)."""
    fake = FakeTwilio(SID, TOKEN, latency=latency).start()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp)).start()
        procs = []
        try:
            env = environment(server.url, fake, rate)
            r = Redis.from_url(server.url)
            full_env = {**os.environ, **env}
            # the Procfile's processes: the clock, and workers of the Procfile's class (a pool of them)
            procs.append(subprocess.Popen([str(BIN / "rq"), "cron", "--url", server.url, "workers/cron.py"],
                                          cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen(
                [str(BIN / "rq"), "worker-pool", "--url", server.url, "--num-workers", str(workers),
                 "--worker-class", "workers.worker.Worker", "-q", "schedule", "alerts", "followups"],
                cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            startup = wait_for_workers(r, workers, procs)
            warmup = rate * WARMUP_SECONDS  # as the webhook benchmark: cold starts are not the steady state
            schedule_due_now(r, env, warmup, first=0)
            wait_for_sent(fake, warmup, rate)
            warm_arrivals = sorted(x.at for x in fake.sent())
            fake.received.clear()
            schedule_due_now(r, env, messages, first=warmup)
            wait_for_sent(fake, messages, rate)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
            server.stop()
            fake.stop()
    arrivals = sorted(r.at for r in fake.sent())
    steady = arrivals[len(arrivals) // 10: len(arrivals) * 9 // 10]
    return {"messages": messages, "received": len(arrivals), "cap_per_second": rate, "workers": workers,
            "worker_startup_s": startup, "warmup_messages": len(warm_arrivals),
            "warmup_busiest_1s_window": busiest_second(warm_arrivals),
            "fake_latency_ms": latency * 1000,
            "sustained_msg_per_s": round((len(steady) - 1) / (steady[-1] - steady[0]), 1) if len(steady) > 1 else 0,
            "busiest_1s_window": busiest_second(arrivals),
            # how close the provider came to seeing cap + 1 in one second: above 1.0 s means never
            "shortest_span_of_cap_plus_1_s": shortest_span(arrivals, rate + 1),
            "duplicates": len(arrivals) - len({r.params["To"] for r in fake.sent()})}, \
        {"warmup": warm_arrivals, "measured": arrivals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--json", default="bench/results/outbound.json")
    args = parser.parse_args()
    result, arrivals = run(args.messages, args.rate, args.workers, args.latency)
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    print(f"goal: {args.rate} msg/s sustained, busiest 1 s window <= {args.rate}, no duplicates")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    if os.environ.get("BENCH_ARRIVALS"):
        Path(os.environ["BENCH_ARRIVALS"]).write_text(json.dumps(arrivals))


if __name__ == "__main__":
    main()
