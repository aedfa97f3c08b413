"""insights.json latency with a year of a big program's data: 1M people who texted over the last 90 days.

python -m bench.insights_latency [--people 1000000] [--requests 50] [--json bench/results/insights_latency.json]

Populates a real Redis with what the counters hold after such a run, written by the same store functions
the webhook and the workers use (store/daily.py): each of the 90 days has its counters hash (texts,
flows, opt-outs, delivery by status and code, call backs, crises, the minute histograms) and its two
HyperLogLog sketches of people, with the 1M people spread over the days (a person texts on one to three
days). Then asks the signed-in console for insights.json?days=N through Flask's stack (session, role
check, reads, JSON), N = 7, 30, 90, and reports the latency (p50, p95, max). Goal: days=90 under 50 ms.
"""
import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from redis import Redis

from bench.report import emit
from devtools.embedded_redis import EmbeddedRedis
from service import create_app
from service.clock import ManualClock
from service.store import accounts, daily
from service.store.accounts import Role

NOW = datetime(2026, 11, 25, 12, 0).timestamp()
PASSWORD = "bench insights password"
BATCH = 20_000


def populate(r: Redis, people: int, days: int, zone) -> None:
    today = datetime.fromtimestamp(NOW, zone).date()
    dates = [(today - timedelta(days=i)).isoformat() for i in range(days)]
    rnd = random.Random(7)
    pipe = r.pipeline(transaction=False)
    for n in range(people):
        pk = f"p{n:07d}"
        for day in rnd.sample(dates, rnd.choice((1, 1, 2, 3))):
            daily.person(pipe, day, "people", pk)
            daily.person(pipe, day, "texted", pk)
        if len(pipe) >= BATCH:
            pipe.execute()
    pipe.execute()
    per_day = people * 2 // days
    for day in dates:
        daily.counts(pipe, day, {
            "inbound": per_day, "outbound": per_day * 2, "new_people": people // days, "opt_outs": per_day // 50,
            "carrier_opt_outs": per_day // 500, "flow_start:signs": per_day // 3, "flow_start:treatment": per_day // 4,
            "flow_start:call": per_day // 10, "followups_sent": per_day, "followups_held:send_hours": per_day // 5,
            "followups_held:weekly_cap": per_day // 20, "followups_held:horizon": per_day // 100,
            "followups_held:opted_out": per_day // 50, "sent": per_day, "delivered": per_day * 95 // 100,
            "undelivered": per_day // 50, "failed:30003": per_day // 100, "failed:30005": per_day // 200,
            "failed:30007": per_day // 300, "callbacks_requested": per_day // 20, "callbacks_reached": per_day // 25,
            "callbacks_reached_in_time": per_day // 30, "crisis_flags": per_day // 200, "staff_replies": per_day // 10})
        for minutes in (3, 12, 25, 40, 70, 200):
            daily.minutes(pipe, day, "callback_first_attempt", minutes * 60)
            daily.minutes(pipe, day, "crisis_resolve", minutes * 30)
    pipe.execute()


def signed_in(app):
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/staff/login", data={"email": "bench@center.org", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def measure(client, days: int, requests: int) -> dict:
    client.get(f"/staff/insights.json?days={days}")  # warm: templates, connections
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(f"/staff/insights.json?days={days}")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and len(response.json["days"]) == days
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "max_ms": round(times[-1], 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp)).start()
        try:
            env = {"APP_ENV": "test", "REDIS_URL": server.url, "SECRET_KEY": "bench-secret-key-0123456789",
                   "PUBLIC_BASE_URL": "https://sms.example.org"}
            app = create_app(env, clock=ManualClock(NOW), surface="console")
            r = Redis.from_url(server.url)
            r.config_set("appendonly", "no")
            accounts.create(r, "bench@center.org", PASSWORD, Role.STAFF, now=NOW)
            started = time.perf_counter()
            populate(r, args.people, 90, app.extensions["sms_outreach"].config.timezone)
            filled = time.perf_counter() - started
            client = signed_in(app)
            result = {"people": args.people, "days_of_data": 90, "populate_s": round(filled, 1),
                      "redis_used_mb": round(r.info("memory")["used_memory"] / 1e6, 1),
                      **{f"days_{n}": measure(client, n, args.requests) for n in (7, 30, 90)}, "goal_ms_days_90": 50}
        finally:
            server.stop()
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
