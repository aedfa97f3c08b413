"""Webhook latency while sign-in attempts arrive (#10 item 6), side by side with the layout it replaces.

python -m bench.login_load [--rate 200] [--logins 10] [--seconds 15] [--json bench/results/login_load.json]

Three phases on one Redis, the same open-loop webhook load in each:
  quiet       the Procfile's layout (web serves Twilio only, console apart), no sign-ins;
  separate    the same layout, while `--logins` wrong-password attempts per second reach the console,
              each from its own address (a spread-out guessing attack: none is throttled, each costs
              a full scrypt);
  shared      the layout before this change (one gunicorn serving both), the same sign-in load.
Goal: webhook p99 under 20 ms in "separate", on the 2-core machine.
"""
import argparse
import asyncio
import json
import re
import tempfile
from pathlib import Path

import aiohttp

from bench.loadgen import RequestFactory, open_loop, percentile, us_numbers
from bench.servers import AUTH_TOKEN, Gunicorn, service_env
from devtools.embedded_redis import EmbeddedRedis, free_port

GOAL_P99_MS = 20.0
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def login_attempts(base: str, per_second: float, seconds: float) -> dict:
    """Each attempt: fetch the sign-in page (a session and its CSRF token), post a wrong password, from an
    address of its own (X-Forwarded-For, trusted from the console's one proxy hop)."""
    loop, done, statuses = asyncio.get_running_loop(), [], {}

    async def attempt(i: int):
        headers = {"X-Forwarded-For": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10),
                                         cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # an IP host
            try:
                async with http.get(base + "/staff/login", headers=headers) as page:
                    token = TOKEN.search(await page.text()).group(1)
                form = {"email": f"guess{i}@center.org", "password": "not the password", "csrf_token": token}
                async with http.post(base + "/staff/login", data=form, headers=headers) as answer:
                    statuses[answer.status] = statuses.get(answer.status, 0) + 1
            except (aiohttp.ClientError, asyncio.TimeoutError, AttributeError) as exc:
                statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
        done.append(loop.time())

    start, tasks = loop.time(), []
    for i in range(int(per_second * seconds)):
        await asyncio.sleep(max(0.0, start + i / per_second - loop.time()))
        tasks.append(asyncio.create_task(attempt(i)))
    await asyncio.gather(*tasks)
    return {"attempts": len(tasks), "statuses": {str(k): v for k, v in statuses.items()}}


async def phase(webhook: str, factory: RequestFactory, rate: float, seconds: float, console: str | None,
                logins: float) -> dict:
    requests = factory.make(int(rate * seconds))
    jobs = [open_loop(webhook + "/twilio/sms", requests, rate)]
    if console:
        jobs.append(login_attempts(console, logins, seconds))
    results = await asyncio.gather(*jobs)
    lat = results[0].tally.latencies
    return {"webhook_rps": rate, "ok": results[0].tally.ok, "errors": results[0].tally.errors,
            "p50_ms": round(percentile(lat, 50) * 1000, 2), "p99_ms": round(percentile(lat, 99) * 1000, 2),
            "max_ms": round(max(lat) * 1000, 2), "logins": results[1] if console else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="webhook requests per second")
    parser.add_argument("--logins", type=float, default=10.0, help="sign-in attempts per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    numbers, out = us_numbers(2000), {}
    with tempfile.TemporaryDirectory(prefix="bench-login-") as tmp:
        tmp = Path(tmp)
        redis = EmbeddedRedis(tmp / "redis").start()
        servers = []
        try:
            web_port, console_port, shared_port = free_port(), free_port(), free_port()
            env = lambda port: service_env(redis.url, f"http://127.0.0.1:{port}", PROXY_HOPS="1")  # noqa: E731
            servers = [Gunicorn("web", 'service:create_app(surface="twilio")', 3, env(web_port), tmp, web_port),
                       Gunicorn("console", 'service:create_app(surface="console")', 2, env(web_port), tmp,
                                console_port),
                       Gunicorn("shared", "service:create_app()", 3, env(shared_port), tmp, shared_port)]
            for server in servers:
                server.start()
            for server in servers:
                server.wait_ready()
            web, console, shared = servers
            warm = RequestFactory(web.base_url + "/twilio/sms", AUTH_TOKEN, numbers)
            asyncio.run(phase(web.base_url, warm, args.rate, 3, None, 0))  # warm-up, not reported
            for name, server, login_base in (("quiet", web, None), ("separate", web, console.base_url),
                                             ("shared", shared, shared.base_url)):
                factory = RequestFactory(server.base_url + "/twilio/sms", AUTH_TOKEN, numbers)
                out[name] = asyncio.run(phase(server.base_url, factory, args.rate, args.seconds, login_base,
                                              args.logins))
                print(name, json.dumps(out[name]), flush=True)
        finally:
            for server in servers:
                server.stop()
            redis.stop()
    out["goal"] = {"p99_max_ms": GOAL_P99_MS, "separate_p99_ms": out["separate"]["p99_ms"],
                   "met": out["separate"]["p99_ms"] < GOAL_P99_MS}
    print(json.dumps(out["goal"]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
