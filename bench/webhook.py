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
import http.client
import json
import math
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from cryptography.fernet import Fernet

from bench.loadgen import BODIES, REQUEST_TIMEOUT, RequestFactory, closed_loop, open_loop, percentile, us_numbers
from devtools.embedded_redis import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_JSON = ROOT / "bench" / "results" / "webhook.json"
PATH = "/twilio/sms"
WARMUP_SECONDS = 2.0
NUMBERS = 5000
GOAL_RATIO = 0.6
GOAL_P99_MS = 10.0
MAX_POOL = 300_000  # pre-signed requests per phase; at ~1 KB each this bounds memory
TICK = os.sysconf("SC_CLK_TCK")


class Gunicorn:
    """One gunicorn arbiter in its own process group, logs to a file; stop() always leaves nothing behind."""

    def __init__(self, name: str, app: str, workers: int, env: dict[str, str], logdir: Path, port: int):
        self.name, self.app, self.workers, self.env, self.port = name, app, workers, env, port
        self.log = logdir / f"{name}.gunicorn.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Gunicorn":
        cmd = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
               "--worker-class", "sync", "--log-level", "info", self.app]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Ready when all workers have booted and one of them answers HTTP (any status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited {self.process.returncode}\n{self.log_tail()}")
            booted = self.log.read_text(errors="replace").count("Booting worker")
            if booted >= self.workers and self._answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: not ready within {timeout}s\n{self.log_tail()}")

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            conn.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid) if self.process else 0.0

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        self.process.terminate()  # graceful: the arbiter stops its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this script created for it
            self.process.wait(timeout=5)


def tree_cpu_seconds(pid: int) -> float:
    """user+system CPU of a live process and its live descendants, from /proc."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICK
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_cpu_seconds(int(child))
    except (OSError, IndexError, ValueError):
        pass
    return total


class CpuMeter:
    """CPU used by the app's server processes, redis and this load generator over one phase."""

    def __init__(self, server: Gunicorn, redis_pid: int | None):
        self.server, self.redis_pid = server, redis_pid

    def sample(self) -> tuple[float, ...]:
        return (time.monotonic(), self.server.cpu_seconds(),
                tree_cpu_seconds(self.redis_pid) if self.redis_pid else 0.0, time.process_time(), machine_busy())

    @staticmethod
    def delta(before, after, requests: int) -> dict:
        wall, server, redis, loadgen, busy = (a - b for a, b in zip(after, before))
        per = 1000.0 / requests if requests else float("nan")
        return {"server_cpu_ms_per_req": round(server * per, 3), "redis_cpu_ms_per_req": round(redis * per, 3),
                "loadgen_cpu_ms_per_req": round(loadgen * per, 3),
                "server_cpu_cores": round(server / wall, 2), "redis_cpu_cores": round(redis / wall, 2),
                "loadgen_cpu_cores": round(loadgen / wall, 2), "machine_busy_cores": round(busy / wall, 2),
                # softirq/loopback work plus anything else running on the machine (other benchmarks, tests)
                "other_cpu_cores": round(max(busy - server - redis - loadgen, 0.0) / wall, 2)}


def machine_busy() -> float:
    """Non-idle CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    # user nice system idle iowait irq softirq steal: busy is what ran here, not idle/iowait/steal
    return sum(v for i, v in enumerate(values[:7]) if i not in (3, 4)) / TICK


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
