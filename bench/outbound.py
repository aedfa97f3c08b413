"""Outbound throughput through the whole follow-up pipeline against a fake Twilio with 150 ms latency.

Schedules N follow-ups due now, starts the real clock (rq cron) and an RQ worker pool, and measures
the rate at which the fake receives messages and the busiest 1-second window (must not exceed the cap).

python -m bench.outbound [--messages 3000] [--rate 100] [--workers 20] [--latency 0.15]
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
from service import followups
from service.config import Config
from service.embedded_redis import EmbeddedRedis
from service.privacy import Vault
from tests.fakes.twilio_api import FakeTwilio

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SID, TOKEN = "AC" + "1" * 32, "bench-token"


def environment(url: str, fake: FakeTwilio, rate: int) -> dict[str, str]:
    return {"APP_ENV": "test", "REDIS_URL": url, "SECRET_KEY": "bench", "PHONE_HASH_KEY": "bench",
            "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(), "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_API_BASE_URL": fake.url, "TWILIO_FROM_NUMBER": "+18555909944",
            "SEND_RATE_PER_SECOND": str(rate), "SEND_HOURS": "Mon-Sun 00:00-24:00"}


def schedule_due_now(r: Redis, env: dict, count: int) -> None:
    cfg = Config.from_env(env)
    vault = Vault.from_config(cfg)
    now = time.time()
    item = (ScheduledFollowUp("signs", 0, timedelta(0)),)
    pipe = r.pipeline(transaction=False)
    for i in range(count):
        e164 = f"+1617{i:07d}"
        pk = vault.person_key(e164)
        pipe.hset(f"sms:contact:{pk}", mapping={"consent": "subscribed", "phone": vault.encrypt(e164)})
        followups.schedule(pipe, cfg, pk, e164, item, now - 60)
    pipe.execute()


def busiest_second(arrivals: list[float]) -> int:
    best, j = 0, 0
    for i, t in enumerate(arrivals):
        while arrivals[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def run(messages: int, rate: int, workers: int, latency: float) -> dict:
    fake = FakeTwilio(SID, TOKEN, latency=latency).start()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp)).start()
        procs = []
        try:
            env = environment(server.url, fake, rate)
            schedule_due_now(Redis.from_url(server.url), env, messages)
            full_env = {**os.environ, **env}
            procs.append(subprocess.Popen([str(BIN / "rq"), "cron", "--url", server.url, "workers/cron.py"],
                                          cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen(
                [str(BIN / "rq"), "worker-pool", "--url", server.url, "--num-workers", str(workers),
                 "--worker-class", "rq.worker.SimpleWorker", "-q", "schedule", "alerts", "followups"],
                cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            deadline = time.monotonic() + messages / rate * 3 + 60
            while len(fake.sent()) < messages and time.monotonic() < deadline:
                time.sleep(0.5)
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
            "fake_latency_ms": latency * 1000,
            "sustained_msg_per_s": round((len(steady) - 1) / (steady[-1] - steady[0]), 1) if len(steady) > 1 else 0,
            "busiest_1s_window": busiest_second(arrivals),
            "duplicates": len(arrivals) - len({r.params["To"] for r in fake.sent()})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--json", default="bench/results/outbound.json")
    args = parser.parse_args()
    result = run(args.messages, args.rate, args.workers, args.latency)
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    print(f"goal: {args.rate} msg/s sustained, busiest 1 s window <= {args.rate}, no duplicates")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
