"""`make bench`: every benchmark, one after another (never concurrently: they share 2 cores),
then a table in docs/benchmarks.md. Each script also runs alone; see its --help."""
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RUNS = [
    ("webhook", ["-m", "bench.webhook", "--json", str(RESULTS / "webhook.json")]),
    ("outbound", ["-m", "bench.outbound", "--json", str(RESULTS / "outbound.json"), "--workers", "32"]),
    ("followup_memory", ["-m", "bench.followup_memory", "--json", str(RESULTS / "followup_memory.json")]),
]


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name, args in RUNS:
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, *args], cwd=ROOT).returncode:
            print(f"{name} failed", file=sys.stderr)
            return 1
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(report())
    print((ROOT / "docs" / "benchmarks.md").read_text())
    return 0


def report() -> str:
    web = json.loads((RESULTS / "webhook.json").read_text())
    out = json.loads((RESULTS / "outbound.json").read_text())
    mem = json.loads((RESULTS / "followup_memory.json").read_text())
    echo, hook = web["apps"]["echo"], web["apps"]["webhook"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{web['machine']['cpus']} cores, Python {platform.python_version()}. Load generator, servers, Redis and "
        "fake Twilio share the same 2 cores.",
        "",
        "## Webhook (gunicorn, 4 sync workers, real Redis) vs a bare Flask TwiML echo",
        "",
        "| app | max req/s | p50 ms at half load | p99 ms at half load | errors |",
        "|---|---|---|---|---|",
        *(f"| {name} | {a['throughput']['rps']:.0f} | {a['half_load']['p50_ms']:.2f} | {a['half_load']['p99_ms']:.2f} "
          f"| {a['errors']} |" for name, a in (("echo", echo), ("webhook", hook))),
        "",
        f"Ratio webhook / echo throughput: **{web['ratio_webhook_echo_throughput']:.2f}** (goal >= 0.6). "
        f"Webhook p99 at half load: **{hook['half_load']['p99_ms']:.2f} ms** (goal < 10 ms).",
        "",
        "## Outbound follow-ups through the clock, RQ workers and Twilio's client (fake API, 150 ms latency)",
        "",
        "| cap msg/s | workers | messages | sustained msg/s | busiest 1 s window | shortest span of cap+1 sends | "
        "busiest 1 s in the cold-start warm-up | duplicates |",
        "|---|---|---|---|---|---|---|---|",
        f"| {out['cap_per_second']} | {out['workers']} | {out['messages']} | {out['sustained_msg_per_s']} "
        f"| {out['busiest_1s_window']} | {out['shortest_span_of_cap_plus_1_s']} s "
        f"| {out['warmup_busiest_1s_window']} ({out['warmup_messages']} messages) | {out['duplicates']} |",
        "",
        "Workers start and register first; a 3 s warm-up batch goes out from cold workers (its busiest second "
        "is shown); then the measured batch. The shortest span holding cap + 1 arrivals at the fake must stay "
        "above 1 s: the gap to 1 s is the margin left against scheduling jitter.",
        "",
        "## Pending follow-ups in Redis",
        "",
        "| pending | bytes per follow-up | Redis MB | cancel one person p50 ms | p99 ms |",
        "|---|---|---|---|---|",
        *(f"| {m['pending']:,} | {m['bytes_per_followup']} | {m['total_mb']} | {m['cancel_ms_p50']} "
          f"| {m['cancel_ms_p99']} |" for m in mem),
        "",
        "Goal: under 300 bytes per pending follow-up; cancelling never scans.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
