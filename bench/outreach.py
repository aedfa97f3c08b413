"""Outreach at scale, measured on this machine (issue: contacts, journeys), each part side by side with
what it is compared to:

    python -m bench.outreach [--contacts 100000] [--due 10000] [--json bench/results/outreach.json]

1. `flask contacts import FILE.csv --commit` of N contacts (each with an appointment and consent), the
   whole command timed (Python's start included), and the preview alone.
2. Planning the appointment journey for all N again (the job a publish runs), timed.
3. Memory per planned event: Redis' used memory with every event planned, minus with none.
4. Delivery: M events due within one minute, at a cap of 100 msg/s, through the real clock, RQ workers
   and Twilio's client against the fake (150 ms latency): how late each reached the fake after its due
   time (p50, p99, max), in due order or not, none lost or sent twice.
Webhook throughput with N planned events vs none: `python -m bench.webhook_compare --variant
empty=.@service:create_app(surface='twilio') --variant planned=.@service:create_app(surface='twilio')
--setup planned=bench.outreach:preload`."""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from redis import Redis

from bench.loadgen import us_numbers
from bench.outbound import BIN, ROOT, SID, TOKEN, busiest_second, wait_for_workers
from bench.report import emit
from devtools.embedded_redis import EmbeddedRedis
from service.store import keys
from tests.fakes.twilio_api import FakeTwilio


def env_for(url: str, extra: dict | None = None) -> dict[str, str]:
    from cryptography.fernet import Fernet
    return {**os.environ, "APP_ENV": "test", "REDIS_URL": url, "SECRET_KEY": "bench-outreach-key",
            "PHONE_HASH_KEY": "bench", "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "FLASK_APP": "service:create_app()",
            **(extra or {})}


def write_csv(path: Path, numbers: list[str], appointment: datetime) -> None:
    with open(path, "w") as f:
        f.write("number,language,groups,consent_source,consent_at,appointment_at,first_name\n")
        for i, n in enumerate(numbers):
            at = (appointment + timedelta(minutes=i % 240)).isoformat()
            f.write(f"{n},{'es' if i % 3 == 0 else 'en'},patients,intake form,2026-11-20T10:00:00-05:00,{at},P{i}\n")


def timed(cmd: list[str], env: dict) -> tuple[float, str]:
    start = time.monotonic()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return round(time.monotonic() - start, 2), out.stdout.strip().splitlines()[0]


def afternoon(days: int) -> datetime:
    """2:00 PM in New York, `days` from today: both appointment events fall inside the send hours."""
    from zoneinfo import ZoneInfo
    day = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, 14, 0, tzinfo=ZoneInfo("America/New_York"))


def used(r: Redis) -> int:
    return int(r.info("memory")["used_memory"])


def import_and_plan(count: int) -> dict:
    numbers = us_numbers(count)
    appointment = afternoon(5)
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp)).start()
        try:
            env, r = env_for(server.url), Redis.from_url(server.url)
            path = Path(tmp) / "contacts.csv"
            write_csv(path, numbers, appointment)
            flask = [str(BIN / "flask"), "contacts", "import", str(path)]
            preview_s, preview = timed(flask, env)
            import_s, imported = timed(flask + ["--commit"], env)
            again_s, again = timed(flask + ["--commit"], env)
            events = r.zcard(keys.of(r).JOURNEYS_DUE)
            with_events = used(r)
            lists = [k for k in r.scan_iter(match=keys.of(r).contact("*"), count=1000)]
            pipe = r.pipeline(transaction=False)
            for k in lists:
                pipe.hdel(k, "jrn")
            pipe.delete(keys.of(r).JOURNEYS_DUE)
            pipe.execute()
            without = used(r)
            code = ("from workers.runtime import make_runtime; from service.runtime import build; from service.config "
                    "import Config; import time; rt = make_runtime(build(Config.from_env())); t = time.monotonic(); "
                    "from workers.journey import replan_everyone; n = replan_everyone(rt); "
                    "print(n, round(time.monotonic() - t, 2))")
            planned, plan_s = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                                             text=True, check=True).stdout.split()
            replanned = used(r)
        finally:
            server.stop()
    return {"contacts": count, "preview_s": preview_s, "preview": preview, "import_s": import_s, "import": imported,
            "import_again_s": again_s, "import_again": again, "events_planned": events,
            "replan_all_s": float(plan_s), "replan_all_events": int(planned),
            "bytes_per_planned_event": round((with_events - without) / events, 1) if events else None,
            "bytes_per_planned_event_after_replan": round((replanned - without) / int(planned), 1) if int(planned) else None}


JOURNEY = """journey: benchsoon
version: 1
field: appointment_at
events:
  - offset: -1m
    text: "Bench reminder from {program}. Reply STOP to opt out."
"""


def delivery(count: int, rate: int = 100, workers: int = 20, latency: float = 0.15) -> dict:
    """`count` events falling due evenly across one minute, sent at the cap by the real pipeline."""
    fake = FakeTwilio(SID, TOKEN, latency=latency).start()
    with tempfile.TemporaryDirectory() as tmp:
        flows = Path(tmp) / "flows"
        flows.mkdir()
        for p in (ROOT / "flows" / "definitions").glob("*.yaml"):
            (flows / p.name).write_text(p.read_text())
        (flows / "appointment.yaml").unlink()  # only the bench's journey: one text a contact
        (flows / "benchsoon.yaml").write_text(JOURNEY)
        server = EmbeddedRedis(Path(tmp) / "redis").start()
        procs = []
        try:
            env = env_for(server.url, {"FLOWS_DIR": str(flows), "TWILIO_API_BASE_URL": fake.url,
                                       "TWILIO_FROM_NUMBER": "+18555909944", "SEND_RATE_PER_SECOND": str(rate),
                                       "SEND_HOURS": "Mon-Sun 00:00-24:00"})
            r = Redis.from_url(server.url)
            procs.append(subprocess.Popen([str(BIN / "rq"), "cron", "--url", server.url, "workers/cron.py"], cwd=ROOT,
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen(
                [str(BIN / "rq"), "worker-pool", "--url", server.url, "--num-workers", str(workers),
                 "--worker-class", "workers.worker.Worker", "-q", "schedule", "alerts", "followups"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for_workers(r, workers, procs)
            start = datetime.now(timezone.utc) + timedelta(seconds=90)  # imported first, due from start - 1 min
            path = Path(tmp) / "due.csv"
            with open(path, "w") as f:
                f.write("number,consent_source,consent_at,appointment_at\n")
                for i, n in enumerate(us_numbers(count, seed=5)):
                    at = start + timedelta(seconds=60 * i / count)
                    f.write(f"{n},bench,2026-11-20T10:00:00-05:00,{at.isoformat()}\n")
            subprocess.run([str(BIN / "flask"), "contacts", "import", str(path), "--commit"], cwd=ROOT, env=env,
                           check=True, capture_output=True)
            due = {m.decode(): s for m, s in r.zrange(keys.of(r).JOURNEYS_DUE, 0, -1, withscores=True)}
            deadline = time.time() + 60 + count / rate * 2 + 120
            while len(fake.sent()) < count and time.time() < deadline:
                time.sleep(1)
            time.sleep(3)  # anything sent twice would arrive now
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
            server.stop()
            fake.stop()
    sent = fake.sent()
    late = sorted(x.wall - s for x, s in zip(sent, _due_of(sent, due)) if s is not None)
    order = [s for s in _due_of(sorted(sent, key=lambda x: x.wall), due) if s is not None]
    return {"events": count, "cap_per_second": rate, "workers": workers, "received": len(sent),
            "duplicates": len(sent) - len({x.params["To"] for x in sent}),
            "late_p50_s": round(late[len(late) // 2], 1) if late else None,
            "late_p99_s": round(late[int(len(late) * 0.99)], 1) if late else None,
            "late_max_s": round(late[-1], 1) if late else None,
            "out_of_due_order": sum(1 for a, b in zip(order, order[1:]) if b < a - 1.0),
            "busiest_1s_window": busiest_second(sorted(x.at for x in sent))}


def _due_of(sent, due: dict[str, float]) -> list[float | None]:
    """Each message's event's due time, by its recipient (one event a contact)."""
    from service.privacy import Vault
    vault = Vault([__import__("cryptography.fernet").fernet.Fernet.generate_key()], [b"bench"])  # the same hash key
    by_person = {eid.split(":")[0]: score for eid, score in due.items()}
    return [by_person.get(vault.person_key(x.params["To"])) for x in sent]


def preload(url: str) -> None:
    """For bench.webhook_compare --setup: N contacts (BENCH_PLANNED, default 100,000) with their
    appointment journeys planned, in the variant's Redis before its server starts."""
    count = int(os.environ.get("BENCH_PLANNED", "100000"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        write_csv(path, us_numbers(count, seed=99), afternoon(5))
        subprocess.run([str(BIN / "flask"), "contacts", "import", str(path), "--commit"], cwd=ROOT,
                       env=env_for(url), check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "outreach.json")
    args = parser.parse_args()
    report = {"import_and_plan": import_and_plan(args.contacts), "delivery": delivery(args.due)}
    emit(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
