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
TWILIO_WEB = "@service:create_app(surface='twilio')"  # the web process as the Procfile runs it
# Revisions the comparisons measure against (each one in the same run, on the same machine):
BASELINE = "35d4038"  # the first release
CONVERSATIONS = "185f987"  # conversations (issue #11), before Spanish
BEFORE_COUNTERS = "df78aec"  # the inbox (issue #13), before the insight counters
BEFORE_PACKING = "9104bea"  # the console (issue #21), before our shared texts were stored once (issue #22)
BEFORE_LANGUAGE_FILES = "217281a"  # before languages were files (issue #22)
RUNS = [
    ("webhook", ["-m", "bench.webhook", "--json", str(RESULTS / "webhook.json")]),
    ("outbound", ["-m", "bench.outbound", "--json", str(RESULTS / "outbound.json"), "--workers", "32"]),
    ("followup_memory", ["-m", "bench.followup_memory", "--json", str(RESULTS / "followup_memory.json")]),
    ("login_load", ["-m", "bench.login_load", "--json", str(RESULTS / "login_load.json")]),
    ("seen_memory", ["-m", "bench.seen_memory", "--json", str(RESULTS / "seen_memory.json")]),
    ("conversation_memory", ["-m", "bench.conversation_memory", "--json", str(RESULTS / "conversation_memory.json")]),
    ("person_memory", ["-m", "bench.person_memory", "--variant", f"previous={BEFORE_PACKING}", "--variant", "now=.",
                       "--json", str(RESULTS / "person_memory.json")]),
    ("compare_conversations", ["-m", "bench.webhook_compare", "--variant", f"today={BASELINE}{TWILIO_WEB}",
                               "--variant", f"conversations=.{TWILIO_WEB}", "--json",
                               str(RESULTS / "compare_conversations_web.json")]),
    ("compare_spanish", ["-m", "bench.webhook_compare", "--variant", f"conversations={CONVERSATIONS}{TWILIO_WEB}",
                         "--variant", f"spanish=.{TWILIO_WEB}", "--spanish", "--json",
                         str(RESULTS / "compare_spanish.json")]),
    ("compare_inbox", ["-m", "bench.webhook_compare", "--variant", f"quiet=.{TWILIO_WEB}", "--variant",
                       f"inbox=.{TWILIO_WEB}", "--pollers", "20", "--pollers-on", "inbox", "--json",
                       str(RESULTS / "compare_inbox.json")]),
    ("compare_insights", ["-m", "bench.webhook_compare", "--variant", f"before={BEFORE_COUNTERS}{TWILIO_WEB}",
                          "--variant", f"counters=.{TWILIO_WEB}", "--json", str(RESULTS / "compare_insights.json")]),
    ("insights_latency", ["-m", "bench.insights_latency", "--json", str(RESULTS / "insights_latency.json")]),
    ("understanding", ["-m", "bench.understanding", "--json", str(RESULTS / "understanding.json")]),
    ("classifier_keywords", ["-m", "bench.webhook_compare", "--variant", "without=.@bench.rules_only:create_app()",
                             "--variant", f"with=.{TWILIO_WEB}", "--json", str(RESULTS / "classifier_keywords.json")]),
    ("classifier_freetext", ["-m", "bench.webhook_compare", "--variant", "without=.@bench.rules_only:create_app()",
                             "--variant", f"with=.{TWILIO_WEB}", "--free-text", "0.3", "--json",
                             str(RESULTS / "classifier_freetext.json")]),
    ("outreach", ["-m", "bench.outreach", "--json", str(RESULTS / "outreach.json")]),
    ("outreach_webhook", ["-m", "bench.webhook_compare", "--variant", f"empty=.{TWILIO_WEB}", "--variant",
                          f"planned=.{TWILIO_WEB}", "--setup", "planned=bench.outreach:preload", "--json",
                          str(RESULTS / "outreach_webhook.json")]),
    ("broadcast", ["-m", "bench.broadcast", "--workers", "20", "--json", str(RESULTS / "broadcast.json")]),
    ("languages", ["-m", "bench.webhook_compare", "--variant", f"before={BEFORE_LANGUAGE_FILES}{TWILIO_WEB}",
                   "--variant", f"now=.{TWILIO_WEB}", "--json", str(RESULTS / "languages.json")]),
    ("whatsapp", ["-m", "bench.webhook_compare", "--variant", f"sms=.{TWILIO_WEB}", "--variant",
                  f"whatsapp=.{TWILIO_WEB}", "--whatsapp-on", "whatsapp", "--json", str(RESULTS / "whatsapp.json")]),
    ("programs", ["-m", "bench.programs", "--programs", "20", "--json", str(RESULTS / "programs.json")]),
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
        f"Written from `bench/results/` on {time.strftime('%Y-%m-%d')} (`make bench` runs every benchmark, then "
        f"writes this; a script run alone updates its own result), {platform.machine()}, "
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
        *_later_sections(),
    ]
    return "\n".join(lines)


def _load(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _compare(title: str, name: str, goal: str) -> list[str]:
    data = _load(name)
    if data is None:
        return []
    rows = [(label, v) for label, v in data.items() if label != "config"]
    return [f"## {title}", "", "| variant | revision | req/s per round | median | ratio to the first |",
            "|---|---|---|---|---|",
            *(f"| {label} | {v['rev']} | {', '.join(f'{x:.0f}' for x in v['rps'])} | {v['median_rps']:.0f} "
              f"| **{v['ratio_to_first']:.3f}** |" for label, v in rows), "", goal, ""]


def _later_sections() -> list[str]:
    out = []
    login = _load("login_load.json")
    if login:
        out += ["## Webhook p99 while someone guesses console passwords (200 texts/s, 10 sign-ins/s)", "",
                "| layout | p50 ms | p99 ms | max ms |", "|---|---|---|---|",
                *(f"| {k} | {login[k]['p50_ms']} | {login[k]['p99_ms']} | {login[k]['max_ms']} |"
                  for k in ("quiet", "separate", "shared")), "",
                "Goal: p99 under 20 ms with the console in its own process (`separate`, as in the Procfile).", ""]
    seen = _load("seen_memory.json")
    if seen:
        out += ["## Replay protection: memory per handled MessageSid", "", "| messages | bytes per sid | "
                "baseline (a claim key per sid) |", "|---|---|---|",
                *(f"| {s['messages']:,} | {s['bytes_per_sid']} | {s['baseline_claim_key_bytes_per_sid']} |"
                  for s in seen), ""]
    conv = _load("conversation_memory.json")
    if conv:
        out += ["## Memory per person waiting at a question (100k waiting)", "",
                f"Contact record of the previous release: {conv['contact_record_bytes_previous_release']} B; "
                f"this release's: {conv['contact_record_bytes_now']} B (numbers sealed with AES-GCM fit Redis' "
                "compact hash).", "",
                f"Per waiting person, above this release's record: **{conv['bytes_per_waiting_person_above_record_now']} B**;"
                f" above the previous release's record: **{conv['bytes_per_waiting_person_above_previous_record']} B** "
                f"(goal under {conv['goal_bytes']} B).", ""]
    channels = [(name, _load(f"{name}.json")) for name in ("languages", "whatsapp")]
    programs = _load("programs.json")
    if any(found for _, found in channels) or programs:
        out += ["## Languages as files, WhatsApp, programs: webhook throughput, side by side", "",
                "| comparison | variants (median req/s) | ratio | goal |", "|---|---|---|---|"]
        out += [f"| {name} | " + ", ".join(f"{label} {row['median_rps']:.0f}" for label, row in found.items()
                                            if label != "config") +
                f" | {list(found.values())[1]['ratio_to_first']} | >= 0.95 |" for name, found in channels if found]
        if programs:
            out.append(f"| {programs['programs']} programs vs 1 | " + ", ".join(
                f"{label} {programs[label]['median_rps']:.0f}" for label in ("one", "many", "many-dbs")) +
                f" | {programs['many']['ratio_to_one']} on {programs['programs']} Redis servers, "
                f"{programs['many-dbs']['ratio_to_one']} on {programs['programs']} databases of one | >= 0.95 |")
        out.append("")
    person = _load("person_memory.json")
    if person:
        out += ["## Redis per person after one SIGNS (50,000 people)", "",
                "| variant | revision | steady state, average | steady state, marginal | at once, marginal |",
                "|---|---|---|---|---|"]
        out += [f"| {label} | {row['rev']} | {row['bytes_per_person_steady']} B | "
                f"{row['marginal_bytes_per_person_steady']} B | {row['marginal_bytes_per_person_at_once']} B |"
                for label, row in person.items() if isinstance(row, dict)]
        out += ["", f"Goal: <= {person['goal_bytes_per_person']} B per person in steady state.", ""]
    out += _compare("Webhook with conversations vs the first release (web process)", "compare_conversations_web.json",
                    "Goal: no more than 5% lower.")
    out += _compare("Webhook with Spanish vs with conversations (half the texts in Spanish)", "compare_spanish.json",
                    "Goal: within 5%.")
    out += _compare("Webhook with 20 signed-in staff inboxes open vs none", "compare_inbox.json",
                    "Goal: unchanged within 5%. The console runs in its own process; each inbox asks once a second "
                    "with If-None-Match.")
    out += _compare("Webhook with the insight counters vs without", "compare_insights.json",
                    "Goal: no more than 3% lower.")
    out += _compare("Webhook with the crisis model vs the phrases alone (keywords)", "classifier_keywords.json",
                    "Goal: at least 0.9 of without.")
    out += _compare("Webhook with the crisis model vs the phrases alone (30% free text, half of it crisis)",
                    "classifier_freetext.json", "Goal: at least 0.9 of without (missed: ~3 ms of sentence encoding a "
                    "free text).")
    out += _compare("Webhook with 100,000 planned journey events vs none", "outreach_webhook.json",
                    "Goal: within 5%.")
    for name, title in (("understanding.json", "Crisis understanding"), ("outreach.json", "Outreach at scale"),
                        ("broadcast.json", "A broadcast at the cap")):
        data = _load(name)
        if data:
            out += [f"## {title}", "", "```json", json.dumps(data, indent=2)[:6000], "```", ""]
    lat = _load("insights_latency.json")
    if lat:
        out += ["## insights.json latency (1M people over 90 days of counters)", "",
                "| days | p50 ms | p95 ms | max ms |", "|---|---|---|---|",
                *(f"| {n} | {lat[f'days_{n}']['p50_ms']} | {lat[f'days_{n}']['p95_ms']} | {lat[f'days_{n}']['max_ms']} |"
                  for n in (7, 30, 90)), "", f"Goal: days=90 under {lat['goal_ms_days_90']} ms.", ""]
    return out


if __name__ == "__main__":
    sys.exit(main())
