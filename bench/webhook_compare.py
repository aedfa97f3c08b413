"""The webhook's throughput, side by side with a baseline, in one run on one machine.

    python -m bench.webhook_compare --variant today=35d4038 --variant now=. [--rounds 3] [--seconds 8]
           [--pollers 20] [--json bench/results/compare.json]

Each variant is a git revision ("." is the working tree), checked out with `git worktree` into a
temporary folder and served by gunicorn (sync workers, real Redis, the same environment). The load
(pre-signed Twilio webhooks, closed loop) alternates between variants round after round, so drift of the
machine hits each the same; the report gives each variant's median and its ratio to the first.
`--whatsapp-on LABELS` makes those variants' texters write on WhatsApp (whatsapp:+1... addresses) instead
of SMS: `--variant sms=. --variant whatsapp=. --whatsapp-on whatsapp` compares the channels on one code.
`--pollers N` adds N signed-in staff browsers with the inbox open (a conditional GET of its changes once a
second, and the list again whenever it changed, as its script does) to every variant's phase, or to those
named by `--pollers-on`: the console runs in its own process, as in the Procfile.
"""
import argparse
import asyncio
import importlib
import re
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import aiohttp

from bench.loadgen import RequestFactory, closed_loop, us_numbers
from bench.report import emit
from bench.servers import AUTH_TOKEN, ROOT, Gunicorn, service_env
from devtools.embedded_redis import EmbeddedRedis, free_port

BODIES = ("SIGNS", "me", "treatment", "CALL", "hello", "other", "STOP", "START", "help")
SPANISH = ("SEÑALES", "yo", "tratamiento", "LLAMAR", "hola", "otro", "PARAR", "COMENZAR", "AYUDA")


def checkout(rev: str, into: Path) -> Path:
    if rev == ".":
        return ROOT
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(into), rev], check=True,
                   capture_output=True)
    return into


def remove_checkout(path: Path) -> None:
    if path != ROOT:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], capture_output=True)


STAFF_EMAIL, STAFF_PASSWORD = "bench-staff@center.org", "bench staff password 1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_staff(redis_url: str) -> None:
    from redis import Redis
    from service.store import accounts
    accounts.create(Redis.from_url(redis_url), STAFF_EMAIL, STAFF_PASSWORD, accounts.Role.STAFF, now=time.time())


async def sign_in(base: str, count: int) -> list[dict]:
    """`count` browsers signed in to the console (its sign-in page, CSRF token, password), before any
    measuring: signing in costs a password hash, which is not what an open inbox costs. Their cookies."""
    found = []
    for _ in range(count):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(base + "/staff/login") as page:
                token = CSRF.search(await page.text()).group(1)
            async with http.post(base + "/staff/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD,
                                                              "csrf_token": token}, allow_redirects=False) as done:
                if done.status != 302:
                    raise RuntimeError(f"bench staff sign-in refused: {done.status}")
            found.append({c.key: c.value for c in http.cookie_jar})
    return found


async def pollers(base: str, cookies: list[dict], seconds: float) -> dict:
    """Signed-in staff browsers with the inbox open, doing what its script does: once a second, the
    inbox's list asked for with the version it shows (If-None-Match): 304, or the new list."""
    tally = {"polls": 0, "not_modified": 0, "refreshes": 0, "errors": 0}
    count = len(cookies)
    sessions = [aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10), cookies=c) for c in cookies]

    async def one(i: int, http: aiohttp.ClientSession):
        loop = asyncio.get_running_loop()
        end, etag = loop.time() + seconds, ""
        await asyncio.sleep(i / max(count, 1))
        while loop.time() < end:
            try:
                async with http.get(base + "/staff/inbox/?fragment=1", headers={"If-None-Match": etag},
                                    allow_redirects=False) as r:
                    await r.read()
                    tally["polls"] += 1
                    tally["not_modified"] += r.status == 304
                    tally["refreshes"] += r.status == 200
                    tally["errors"] += r.status not in (200, 304)
                    etag = r.headers.get("ETag", etag)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                tally["errors"] += 1
            await asyncio.sleep(1.0)
    try:
        await asyncio.gather(*(one(i, http) for i, http in enumerate(sessions)))
    finally:
        for http in sessions:
            await http.close()
    return tally


def with_free_text(bodies: tuple[str, ...], share: float) -> tuple[str, ...]:
    """The keywords, and texts as people write them (crisis and ordinary, both languages) making `share`."""
    from understanding.corpus import heldout
    free = [e.text for e in heldout()]
    total = round(len(free) / share)
    slots = {round(k / share) for k in range(len(free))}  # spread evenly among the keywords
    texts, keywords = iter(free), iter(bodies[i % len(bodies)] for i in range(total))
    return tuple(next(texts) if i in slots else next(keywords) for i in range(total))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", required=True,
                        help="label=REV[@factory] (REV '.' = working tree; factory default service:create_app())")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pollers", type=int, default=0)
    parser.add_argument("--pollers-on", help="comma-separated labels whose phase has the pollers (default: all)")
    parser.add_argument("--spanish", action="store_true", help="half the texts in Spanish (the same for every variant)")
    parser.add_argument("--setup", action="append", default=[],
                        help="label=module:function, called with the variant's Redis URL before its server starts")
    parser.add_argument("--free-text", type=float, default=0.0,
                        help="this share of the texts is free text people write (the held-out set), not keywords")
    parser.add_argument("--whatsapp-on", default="",
                        help="comma-separated labels whose texters write on WhatsApp (From whatsapp:+1...), not SMS")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    variants = [v.split("=", 1) for v in args.variant]
    factories = {label: (rev.split("@", 1) + ["service:create_app()"])[1] for label, rev in variants}
    variants = [(label, rev.split("@", 1)[0]) for label, rev in variants]
    numbers, rates, consoles, cpus = us_numbers(3000), {label: [] for label, _ in variants}, {}, {}
    bodies = BODIES + SPANISH if args.spanish else BODIES
    if args.free_text:
        bodies = with_free_text(bodies, args.free_text)
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp, ExitStack() as stack:
        tmp = Path(tmp)
        servers = {}
        for label, rev in variants:
            code = checkout(rev, tmp / f"code-{label}")
            stack.callback(remove_checkout, code)
            redis = EmbeddedRedis(tmp / f"redis-{label}").start()
            stack.callback(redis.stop)
            for item in args.setup:
                target, _, spec = item.partition("=")
                if target == label:
                    module, _, function = spec.partition(":")
                    getattr(importlib.import_module(module), function)(redis.url)
            port = free_port()
            env = service_env(redis.url, f"http://127.0.0.1:{port}")
            server = Gunicorn(label, factories[label], args.workers, env, tmp, port, cwd=code).start()
            stack.callback(server.stop)
            console = None
            if args.pollers and (not args.pollers_on or label in args.pollers_on.split(",")):
                create_staff(redis.url)
                console = Gunicorn(f"{label}-console", 'service:create_app(surface="console")', 2, env, tmp, free_port(),
                                   cwd=code).start()
                stack.callback(console.stop)
            servers[label] = (server, console)
        for server, console in servers.values():
            server.wait_ready()
            if console:
                console.wait_ready()
        browsers = {label: asyncio.run(sign_in(console.base_url, args.pollers))
                    for label, (_, console) in servers.items() if console}
        addresses = {label: ["whatsapp:" + n for n in numbers] if label in args.whatsapp_on.split(",") else numbers
                     for label, _ in variants}
        for label, (server, _) in servers.items():  # warm-up, not counted
            factory = RequestFactory(server.base_url + "/twilio/sms", AUTH_TOKEN, addresses[label], bodies)
            asyncio.run(closed_loop(server.base_url + "/twilio/sms", factory.make(4000), args.concurrency, 2.0))
        for round_ in range(args.rounds):
            for label, (server, console) in servers.items():
                factory = RequestFactory(server.base_url + "/twilio/sms", AUTH_TOKEN, addresses[label], bodies)
                pool = factory.make(int(3000 * args.seconds))

                async def phase():
                    jobs = [closed_loop(server.base_url + "/twilio/sms", pool, args.concurrency, args.seconds)]
                    if console:
                        jobs.append(pollers(console.base_url, browsers[label], args.seconds))
                    return await asyncio.gather(*jobs)
                cpu_before = (server.cpu_seconds(), console.cpu_seconds() if console else 0.0)
                result, *polled = asyncio.run(phase())
                cpu = [round(b - a, 2) for a, b in zip(cpu_before, (server.cpu_seconds(),
                                                                     console.cpu_seconds() if console else 0.0))]
                if polled:
                    consoles.setdefault(label, []).append({**polled[0], "console_cpu_s": cpu[1]})
                cpus.setdefault(label, []).append(cpu[0])
                rates[label].append(round(result.throughput, 1))
                print(f"round {round_ + 1} {label}: {result.throughput:.0f} req/s, errors {result.tally.errors}",
                      flush=True)
    base = statistics.median(rates[variants[0][0]])
    report = {label: {"rev": rev, "factory": factories[label], "rps": rates[label], "median_rps": statistics.median(rates[label]),
                      "ratio_to_first": round(statistics.median(rates[label]) / base, 3),
                      "web_cpu_s": cpus.get(label, []),
                      **({"pollers": consoles[label]} if label in consoles else {})} for label, rev in variants}
    report["config"] = {"whatsapp_on": args.whatsapp_on, "rounds": args.rounds, "seconds": args.seconds, "concurrency": args.concurrency,
                        "workers": args.workers, "pollers": args.pollers, "bodies": bodies}
    emit(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
