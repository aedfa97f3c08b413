"""Webhook benchmark: the real service against a bare Flask echo app, both under gunicorn sync workers,
the service on a real redis-server. Run from the repository root:

    .venv/bin/python -m bench.webhook [--seconds 10] [--concurrency 16] [--workers 4] [--json PATH]

For each app: maximum throughput (closed loop, C connections, D seconds after a 2 s warm-up), then
latency at half that rate (open loop, D seconds). Everything is on 127.0.0.1; the load generator shares
the machine's CPUs with the servers, equally for both apps. Exit status 1 when any request failed."""
import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import platform
import secrets
import signal
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from cryptography.fernet import Fernet

from bench.loadgen import BODIES, REQUEST_TIMEOUT, RequestFactory, closed_loop, open_loop, percentile, us_numbers
from bench.servers import BIN, ROOT, CpuMeter, Gunicorn, machine_busy
from devtools.embedded_redis import EmbeddedRedis, free_port

DEFAULT_JSON = ROOT / "bench" / "results" / "webhook.json"
PATH = "/twilio/sms"
WARMUP_SECONDS = 2.0
NUMBERS = 5000
GOAL_RATIO = 0.6
GOAL_P99_MS = 10.0
MAX_POOL = 300_000  # pre-signed requests per phase; at ~1 KB each this bounds memory


def tally_summary(tally) -> dict:
    return {"ok": tally.ok, "non_200": tally.non_200, "bad_body": tally.bad_body, "failed": tally.failed,
            "dropped": tally.dropped, "errors": tally.errors,
            "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
            "failures": dict(tally.failures)}


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


@contextlib.contextmanager
def frozen_heap():
    """The pre-signed pools are tens of thousands of long-lived objects; a full collection walking them
    pauses this client for 10-20 ms, which would show up as server latency. Freeze them for the phase."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def bench_app(server: Gunicorn, factory: RequestFactory, redis_pid: int | None, args) -> dict:
    url = server.base_url + PATH
    cpu = CpuMeter(server, redis_pid)
    print(f"[{server.name}] warm-up {WARMUP_SECONDS:g}s ...", flush=True)
    warm_pool = factory.make(10_000)
    with frozen_heap():
        warm = asyncio.run(closed_loop(url, warm_pool, args.concurrency, WARMUP_SECONDS))
    del warm_pool
    warm_rate = max(warm.throughput, 50.0)
    pool = factory.make(min(MAX_POOL, math.ceil(warm_rate * args.seconds * 2.5) + 1000))

    print(f"[{server.name}] closed loop: {args.concurrency} connections, {args.seconds:g}s ...", flush=True)
    with frozen_heap():
        before = cpu.sample()
        closed = asyncio.run(closed_loop(url, pool, args.concurrency, args.seconds))
    closed_cpu = CpuMeter.delta(before, cpu.sample(), closed.tally.ok)
    if closed.exhausted:
        print(f"[{server.name}] note: request pool ran out after {closed.elapsed:.1f}s; rate is over that time")
    max_rate = closed.throughput
    del pool

    half = max(max_rate / 2, 1.0)  # at least 1 req/s, so a server that only failed still gets probed
    count = max(1, round(half * args.seconds))
    print(f"[{server.name}] open loop: {half:.0f} req/s for {args.seconds:g}s ({count} requests) ...", flush=True)
    reqs = factory.make(count)
    with frozen_heap():
        before = cpu.sample()
        opened = asyncio.run(open_loop(url, reqs, half))
    open_cpu = CpuMeter.delta(before, cpu.sample(), opened.tally.ok)
    lat, lag = opened.tally.latencies, opened.tally.send_lags

    return {
        "url": url,
        "warmup": {"seconds": WARMUP_SECONDS, "throughput_rps": round(warm.throughput, 1),
                   "errors": warm.tally.errors},
        "throughput": {"rps": round(max_rate, 1), "seconds": round(closed.elapsed, 3),
                       "concurrency": args.concurrency, "pool_exhausted": closed.exhausted,
                       "latency_p50_ms": ms(percentile(closed.tally.latencies, 50)),
                       "latency_p99_ms": ms(percentile(closed.tally.latencies, 99)),
                       **tally_summary(closed.tally), "cpu": closed_cpu},
        "half_load": {"target_rps": round(half, 1), "achieved_rps": round(opened.tally.ok / opened.elapsed, 1),
                      "requests": count, "p50_ms": ms(percentile(lat, 50)), "p90_ms": ms(percentile(lat, 90)),
                      "p99_ms": ms(percentile(lat, 99)), "max_ms": ms(max(lat) if lat else None),
                      "send_lag_p50_ms": ms(percentile(lag, 50)), "send_lag_p99_ms": ms(percentile(lag, 99)),
                      **tally_summary(opened.tally), "cpu": open_cpu},
        "errors": warm.tally.errors + closed.tally.errors + opened.tally.errors,
    }


def print_table(results: dict, ratio: float | None, goals: dict, args) -> None:
    head = (f"{'app':<8} {'req/s':>8} {'half-load req/s':>16} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
            f"{'errors':>6}  {'CPU ms/req srv/redis/loadgen':<28} {'other cores':>11}")
    print()
    print(f"workers={args.workers} (sync)  concurrency={args.concurrency}  seconds={args.seconds:g}  "
          f"warm-up={WARMUP_SECONDS:g}s  cpus={os.cpu_count()}")
    print(head)
    print("-" * len(head))
    fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for name, r in results.items():
        t, h, c = r["throughput"], r["half_load"], r["throughput"]["cpu"]
        other = f"{c['other_cpu_cores']:.2f}/{h['cpu']['other_cpu_cores']:.2f}"
        cpu_cell = f"{c['server_cpu_ms_per_req']:.2f} / {c['redis_cpu_ms_per_req']:.2f} / {c['loadgen_cpu_ms_per_req']:.2f}"
        print(f"{name:<8} {t['rps']:>8.0f} {h['achieved_rps']:>16.0f} {fmt(h['p50_ms']):>7} {fmt(h['p90_ms']):>7} "
              f"{fmt(h['p99_ms']):>7} {r['errors']:>6}  "
              f"{cpu_cell:<28} {other:>11}")
    print("(req/s and CPU ms/req: closed loop; latencies: open loop at half that rate, from scheduled send;\n"
          " other cores: machine busy minus this benchmark's processes, closed/open loop: should be ~0)")
    busy = max(max(r["throughput"]["cpu"]["other_cpu_cores"], r["half_load"]["cpu"]["other_cpu_cores"])
               for r in results.values())
    if busy > 0.3:
        print(f"WARNING: up to {busy:.2f} cores busy outside the benchmark's processes; numbers may be skewed")
    print()
    ratio_s = "-" if ratio is None else f"{ratio:.2f}"
    print(f"goal: webhook/echo throughput ratio >= {GOAL_RATIO}: {ratio_s}  "
          f"{'PASS' if goals['ratio_ok'] else 'FAIL'}")
    p99 = results["webhook"]["half_load"]["p99_ms"]
    print(f"goal: webhook p99 at half load < {GOAL_P99_MS:g} ms: {fmt(p99)} ms  "
          f"{'PASS' if goals['p99_ok'] else 'FAIL'}")
    print(f"errors (non-200, bad body, failed, dropped), all phases: {goals['errors_total']}  "
          f"{'PASS' if goals['errors_total'] == 0 else 'FAIL'}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.webhook", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="measured duration of each phase (default 10)")
    p.add_argument("--concurrency", type=int, default=16, help="connections in the closed loop (default 16)")
    p.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per app (default 4)")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"results file (default {DEFAULT_JSON.relative_to(ROOT)})")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.seconds > 600:
        p.error("--seconds must be in (0, 600]")
    if not 1 <= args.concurrency <= 1000:
        p.error("--concurrency must be 1..1000")
    if not 1 <= args.workers <= 64:
        p.error("--workers must be 1..64")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # so the finally blocks below run on kill too
    token = secrets.token_hex(16)
    base_env = {k: v for k, v in os.environ.items() if k not in ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY")}
    base_env["PATH"] = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
    before = machine_busy()
    time.sleep(1.0)
    busy_before_start = round(machine_busy() - before, 2)
    if busy_before_start > 0.3:
        print(f"WARNING: {busy_before_start:.2f} cores already busy before the benchmark started")
    numbers = us_numbers(NUMBERS)
    servers: list[Gunicorn] = []
    redis = None
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as tmp:
        tmp = Path(tmp)
        try:
            redis = EmbeddedRedis(tmp / "redis").start()
            port = free_port()
            webhook_env = {**base_env, "APP_ENV": "test", "REDIS_URL": redis.url,
                           "SECRET_KEY": secrets.token_urlsafe(32), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                           "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": token,
                           "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                           "PHONE_HASH_KEY": secrets.token_urlsafe(32), "REPLIES_PER_HOUR": "100000"}
            servers.append(Gunicorn("webhook", "service:create_app()", args.workers, webhook_env, tmp, port).start())
            servers.append(Gunicorn("echo", "bench.echo_app:create_app()", args.workers, base_env, tmp,
                                    free_port()).start())
            for server in servers:
                server.wait_ready()
            webhook, echo = servers
            results = {}
            for server, redis_pid in ((echo, None), (webhook, redis.process.pid)):
                factory = RequestFactory(server.base_url + PATH, token, numbers)
                results[server.name] = bench_app(server, factory, redis_pid, args)
                if server.process.poll() is not None:
                    raise RuntimeError(f"{server.name}: gunicorn died during the run\n{server.log_tail()}")
            for server in servers:
                if "Traceback" in server.log.read_text(errors="replace"):
                    print(f"[{server.name}] gunicorn log has tracebacks:\n{server.log_tail()}")
        finally:
            for server in servers:
                server.stop()
            if redis:
                redis.stop()

    echo_rps, hook_rps = results["echo"]["throughput"]["rps"], results["webhook"]["throughput"]["rps"]
    ratio = hook_rps / echo_rps if echo_rps else None
    p99 = results["webhook"]["half_load"]["p99_ms"]
    errors_total = sum(r["errors"] for r in results.values())
    goals = {"ratio_min": GOAL_RATIO, "ratio": None if ratio is None else round(ratio, 3),
             "ratio_ok": ratio is not None and ratio >= GOAL_RATIO,
             "p99_max_ms": GOAL_P99_MS, "p99_ms": p99, "p99_ok": p99 is not None and p99 < GOAL_P99_MS,
             "errors_total": errors_total}
    print_table(results, ratio, goals, args)

    report = {
        "benchmark": "webhook",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"seconds": args.seconds, "concurrency": args.concurrency, "workers": args.workers,
                   "worker_class": "sync", "warmup_seconds": WARMUP_SECONDS, "numbers": NUMBERS,
                   "bodies": list(BODIES), "request_timeout_s": REQUEST_TIMEOUT,
                   "half_load_latency_from": "scheduled send time (open loop)"},
        "machine": {"cpus": os.cpu_count(), "busy_cores_before_start": busy_before_start, "python": platform.python_version(), "platform": platform.platform(),
                    "versions": {p: version(p) for p in ("gunicorn", "flask", "aiohttp", "twilio", "redis")}},
        "apps": results,
        "ratio_webhook_echo_throughput": goals["ratio"],
        "goals": goals,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    return 1 if errors_total else 0


if __name__ == "__main__":
    sys.exit(main())
