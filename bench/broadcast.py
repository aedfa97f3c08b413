"""A broadcast at the carrier's cap, side by side with the quiet service, in one run:

    python -m bench.broadcast [--recipients 100000] [--rate 100] [--workers 16] [--json ...]

1. Planning: N contacts in a group (imported first), then POST /api/v1/broadcasts to the group: the
   call's time, and Redis' memory per queued recipient.
2. Sending through the real pipeline (the rq cron clock, RQ workers of the Procfile's class as separate
   processes, Twilio's client against the fake with 150 ms latency): the sustained rate, the busiest
   1-second window at the fake (never over the cap), duplicates (none, though one worker is SIGKILLed in
   the middle).
3. While it sends: the webhook's p99 at 20 texts/s (open loop) against the same measure before the
   broadcast, and 20 crisis texts: the time from each text to its staff alert at the fake (p99 <= 10 s)."""
import argparse
import asyncio
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests
from redis import Redis

from bench.loadgen import RequestFactory, open_loop, percentile, us_numbers
from bench.outbound import BIN, ROOT, SID, TOKEN, busiest_second, wait_for_workers
from bench.outreach import env_for
from bench.report import emit
from bench.servers import Gunicorn
from devtools.embedded_redis import EmbeddedRedis, free_port
from service.store import keys
from tests.fakes.twilio_api import FakeTwilio

ON_CALL = "+16175550100"
QUEUES = ["schedule", "alerts", "replies", "followups", "bulk", "maintenance"]


def write_group(path: Path, numbers: list[str]) -> None:
    with open(path, "w") as f:
        f.write("number,groups,consent_source,consent_at\n")
        for n in numbers:
            f.write(f"{n},everyone-bench,bench,2026-11-20T10:00:00-05:00\n")


def used(r: Redis) -> int:
    return int(r.info("memory")["used_memory"])


def webhook_p99(url: str, token: str, seconds: float, rate: float, bodies) -> tuple[float, int]:
    numbers = us_numbers(2000, seed=4242)
    factory = RequestFactory(url + "/twilio/sms", token, numbers, bodies)
    result = asyncio.run(open_loop(url + "/twilio/sms", factory.make(int(rate * seconds)), rate))
    return round(percentile(result.tally.latencies, 99) * 1000, 1), result.tally.errors


def crisis_alerts(base: str, token: str, fake: FakeTwilio, count: int) -> list[float]:
    """`count` crisis texts, one a second; each one's seconds until its staff alert reached the fake."""
    from twilio.request_validator import RequestValidator
    validator, sent_at = RequestValidator(token), {}
    for i in range(count):
        params = {"MessageSid": f"SMcrisis{i:026d}", "AccountSid": SID, "From": f"+1415555{1000 + i:04d}",
                  "To": "+18555909944", "Body": "my brother is not breathing", "NumMedia": "0"}
        sig = validator.compute_signature(base + "/twilio/sms", params)
        sent_at[i] = time.time()
        requests.post(base + "/twilio/sms", data=params, headers={"X-Twilio-Signature": sig}, timeout=10)
        time.sleep(1.0)
    deadline = time.time() + 60
    alerts = []
    while time.time() < deadline:
        alerts = [x for x in fake.sent() if x.params.get("To") == ON_CALL]
        if len(alerts) >= count:
            break
        time.sleep(0.5)
    firsts = sorted(x.wall for x in alerts)[:count]
    return [round(a - s, 2) for a, s in zip(firsts, [sent_at[i] for i in range(count)])]


def run(recipients: int, rate: int, workers: int) -> dict:
    fake = FakeTwilio(SID, TOKEN, latency=0.15).start()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis").start()
        procs, web = [], None
        try:
            port = free_port()
            env = env_for(server.url, {"TWILIO_API_BASE_URL": fake.url, "TWILIO_FROM_NUMBER": "+18555909944",
                                       "SEND_RATE_PER_SECOND": str(rate), "SEND_HOURS": "Mon-Sun 00:00-24:00",
                                       "STAFF_ALERT_NUMBERS": ON_CALL, "FOLLOWUPS_PER_WEEK": "100",
                                       "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"})
            r = Redis.from_url(server.url)
            path = Path(tmp) / "group.csv"
            write_group(path, us_numbers(recipients, seed=31))
            subprocess.run([str(BIN / "flask"), "contacts", "import", str(path), "--commit"], cwd=ROOT, env=env,
                           check=True, capture_output=True)
            token = subprocess.run([str(BIN / "flask"), "api-token", "create", "--name", "bench"], cwd=ROOT, env=env,
                                   check=True, capture_output=True, text=True).stdout.strip()
            web = Gunicorn("web", 'service:create_app(surface="all")', 3, env, Path(tmp), port).start()
            web.wait_ready()
            procs.append(subprocess.Popen([str(BIN / "rq"), "cron", "--url", server.url, "workers/cron.py"], cwd=ROOT,
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            # RQ's scheduler, as in the Procfile: the killed worker's job is retried through it
            procs.append(subprocess.Popen([str(BIN / "python"), "-m", "workers.scheduler"], cwd=ROOT,
                                          env={**env, "REDIS_URL": server.url}, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            for _ in range(workers):  # separate processes, so one can be killed
                procs.append(subprocess.Popen([str(BIN / "rq"), "worker", "--url", server.url, "-w",
                                               "workers.worker.Worker", *QUEUES], cwd=ROOT, env=env,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for_workers(r, workers, procs)
            quiet_p99, quiet_errors = webhook_p99(web.base_url, env["TWILIO_AUTH_TOKEN"], 20, 20, ("SIGNS", "hello"))
            before = used(r)
            started = time.monotonic()
            answer = requests.post(web.base_url + "/api/v1/broadcasts", timeout=600,
                                   headers={"Authorization": f"Bearer {token}"},
                                   json={"text": {"en": "Free naloxone this Saturday, 10-2, at the center.",
                                                  "es": "Naloxona gratis este sábado, de 10 a 2, en el centro."},
                                         "group": "everyone-bench"})
            plan_s = round(time.monotonic() - started, 2)
            bid = answer.json()["id"]
            per_recipient = round((used(r) - before) / recipients, 1)
            time.sleep(max(5.0, recipients / rate / 4))  # well into it
            busy_p99, busy_errors = webhook_p99(web.base_url, env["TWILIO_AUTH_TOKEN"], 20, 20, ("SIGNS", "hello"))
            alerts = crisis_alerts(web.base_url, env["TWILIO_AUTH_TOKEN"], fake, 20)
            os.kill(procs[2].pid, signal.SIGKILL)  # a worker dies mid-broadcast
            deadline = time.time() + recipients / rate * 2 + 300
            while time.time() < deadline:
                state = r.hget(keys.of(r).broadcast(bid), "status")
                if state in (b"sent",) and len([x for x in fake.sent() if x.params["To"] != ON_CALL]) >= recipients:
                    break
                time.sleep(2)
            time.sleep(5)
            status = requests.get(web.base_url + f"/api/v1/broadcasts/{bid}", timeout=30,
                                  headers={"Authorization": f"Bearer {token}"}).json()
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            for p in procs:
                p.wait(30)
            if web:
                web.stop()
            server.stop()
            fake.stop()
    bulk = sorted(x.at for x in fake.sent() if x.params["To"] != ON_CALL and x.status == 201)
    steady = bulk[len(bulk) // 10: len(bulk) * 9 // 10]
    sent_to = [x.params["To"] for x in fake.sent() if x.params["To"] != ON_CALL and x.status == 201]
    return {"recipients": recipients, "cap_per_second": rate, "workers": workers, "plan_s": plan_s,
            "bytes_per_queued_recipient": per_recipient, "received": len(bulk),
            "sustained_msg_per_s": round((len(steady) - 1) / (steady[-1] - steady[0]), 1) if len(steady) > 1 else 0,
            "busiest_1s_window": busiest_second(sorted(x.at for x in fake.sent())),
            "duplicates": len(sent_to) - len(set(sent_to)), "final": status,
            "webhook_p99_ms_quiet": quiet_p99, "webhook_p99_ms_during": busy_p99,
            "webhook_p99_ratio": round(busy_p99 / quiet_p99, 2) if quiet_p99 else None,
            "webhook_errors": quiet_errors + busy_errors,
            "crisis_alert_s": {"p50": percentile(alerts, 50), "p99": percentile(alerts, 99), "max": max(alerts or [0]),
                               "count": len(alerts)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "broadcast.json")
    args = parser.parse_args()
    report = run(args.recipients, args.rate, args.workers)
    emit(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
