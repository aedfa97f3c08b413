"""Webhook throughput with 20 programs configured vs 1, side by side in one run on one machine (#22).

    python -m bench.programs [--programs 20] [--rounds 3] [--seconds 8] [--json bench/results/programs.json]

"one": FLOWS_DIR is the shipped program, one Redis. "many": FLOWS_DIR holds N program folders (the shipped
flows, each program.yaml with a number of its own), each with its own Redis server (REDIS_URL_<NAME>), and
the texts are spread over the N numbers, so every text is routed by its To. "many-dbs": the same N programs,
each on its own database of one Redis server (what the software costs, without N redis-server processes
sharing the machine's cores). "many-shared": the same N programs in one database of one Redis, kept apart
by their keys' names alone (`sms:{p07}:...`, no REDIS_URL_<NAME>). Same code, same gunicorn
(sync workers), the same closed-loop load of pre-signed webhooks; rounds alternate between the variants.
"""
import argparse
import asyncio
import shutil
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

import requests

from bench.loadgen import RequestFactory, closed_loop, us_numbers
from bench.report import emit
from bench.servers import AUTH_TOKEN, ROOT, Gunicorn, service_env
from bench.webhook_compare import BODIES
from devtools.embedded_redis import EmbeddedRedis, free_port

DEFINITIONS = ROOT / "flows" / "definitions"
SHIPPED_BLOCK = "program:\n  name: Roaring Brook Recovery\n  phone: 855.590.9944\n"


class ManyDatabases(EmbeddedRedis):
    """One redis-server with a database for each program."""

    def command(self) -> list[str]:
        return super().command() + ["--databases", "64"]


def program_numbers(count: int) -> list[str]:
    return [f"+1855555{1000 + i:04d}" for i in range(count)]


def many_programs(root: Path, count: int) -> list[str]:
    numbers = program_numbers(count)
    for i, number in enumerate(numbers):
        folder = root / f"p{i:02d}"
        shutil.copytree(DEFINITIONS, folder)
        text = (folder / "program.yaml").read_text(encoding="utf-8")
        assert SHIPPED_BLOCK in text
        (folder / "program.yaml").write_text(text.replace(
            SHIPPED_BLOCK, f"program:\n  name: Center {i}\n  phone: 855.590.9944\n  numbers: [\"{number}\"]\n"),
            encoding="utf-8")
    return numbers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    texters = us_numbers(3000)
    rates = {"one": [], "many": [], "many-dbs": [], "many-shared": []}
    with tempfile.TemporaryDirectory(prefix="bench-programs-") as tmp, ExitStack() as stack:
        tmp = Path(tmp)
        servers, tos = {}, {}
        single = EmbeddedRedis(tmp / "redis-one").start()
        stack.callback(single.stop)
        port = free_port()
        servers["one"] = Gunicorn("one", 'service:create_app(surface="twilio")', args.workers,
                                  service_env(single.url, f"http://127.0.0.1:{port}"), tmp, port).start()
        stack.callback(servers["one"].stop)
        tos["one"] = ["+18555909944"]
        numbers = many_programs(tmp / "flows", args.programs)
        urls = {}
        for i in range(args.programs):
            redis = EmbeddedRedis(tmp / f"redis-p{i:02d}").start()
            stack.callback(redis.stop)
            urls[f"REDIS_URL_P{i:02d}"] = redis.url
        port = free_port()
        env = service_env(urls["REDIS_URL_P00"], f"http://127.0.0.1:{port}", FLOWS_DIR=str(tmp / "flows"), **urls)
        servers["many"] = Gunicorn("many", 'service:create_app(surface="twilio")', args.workers, env, tmp, port).start()
        stack.callback(servers["many"].stop)
        tos["many"] = numbers
        shared = ManyDatabases(tmp / "redis-shared").start()
        stack.callback(shared.stop)
        dbs = {f"REDIS_URL_P{i:02d}": shared.url.rsplit("/", 1)[0] + f"/{i}" for i in range(args.programs)}
        port = free_port()
        env = service_env(dbs["REDIS_URL_P00"], f"http://127.0.0.1:{port}", FLOWS_DIR=str(tmp / "flows"), **dbs)
        servers["many-dbs"] = Gunicorn("many-dbs", 'service:create_app(surface="twilio")', args.workers, env, tmp,
                                       port).start()
        stack.callback(servers["many-dbs"].stop)
        tos["many-dbs"] = numbers
        one_db = EmbeddedRedis(tmp / "redis-one-db").start()
        stack.callback(one_db.stop)
        port = free_port()
        env = service_env(one_db.url, f"http://127.0.0.1:{port}", FLOWS_DIR=str(tmp / "flows"))
        servers["many-shared"] = Gunicorn("many-shared", 'service:create_app(surface="twilio")', args.workers, env,
                                          tmp, port).start()
        stack.callback(servers["many-shared"].stop)
        tos["many-shared"] = numbers
        for server in servers.values():
            server.wait_ready()
        for label, server in servers.items():  # each variant answers with its program's content (routing works)
            for to in tos[label][:3]:
                [probe] = RequestFactory(server.base_url + "/twilio/sms", AUTH_TOKEN, texters[-1:], ("HELP",),
                                         [to]).make(1)
                answer = requests.post(server.base_url + "/twilio/sms", data=probe.data, headers=probe.headers, timeout=10)
                if "<Message>" not in answer.text:
                    raise RuntimeError(f"{label}: a text to {to} was not answered: {answer.text[:200]}")
        for label, server in servers.items():  # warm-up, not counted
            factory = RequestFactory(server.base_url + "/twilio/sms", AUTH_TOKEN, texters, BODIES, tos[label])
            asyncio.run(closed_loop(server.base_url + "/twilio/sms", factory.make(4000), args.concurrency, 2.0))
        for round_ in range(args.rounds):
            for label, server in servers.items():
                factory = RequestFactory(server.base_url + "/twilio/sms", AUTH_TOKEN, texters, BODIES, tos[label])
                result = asyncio.run(closed_loop(server.base_url + "/twilio/sms", factory.make(int(3000 * args.seconds)),
                                                 args.concurrency, args.seconds))
                rates[label].append(round(result.throughput, 1))
                print(f"round {round_ + 1} {label}: {result.throughput:.0f} req/s, errors {result.tally.errors}",
                      flush=True)
    base = statistics.median(rates["one"])
    report = {"programs": args.programs,
              **{label: {"rps": found, "median_rps": statistics.median(found),
                         "ratio_to_one": round(statistics.median(found) / base, 3)} for label, found in rates.items()},
              "config": {"rounds": args.rounds, "seconds": args.seconds, "concurrency": args.concurrency,
                         "workers": args.workers}}
    emit(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
