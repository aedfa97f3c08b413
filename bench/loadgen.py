"""Twilio-like load over loopback: pre-signed webhook POSTs, a closed loop for maximum throughput and
an open loop (fixed arrival rate) for latency. asyncio + aiohttp, one process, every loop time-bounded."""
import asyncio
import itertools
import math
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
import phonenumbers
from twilio.request_validator import RequestValidator

BODIES = ("SIGNS", "treatment", "CALL", "hello", "STOP", "START", "help")
TO_NUMBER = "+18555909944"
ACCOUNT_SID = "AC" + "0" * 32
FORM = "application/x-www-form-urlencoded"
REQUEST_TIMEOUT = 10.0


def us_numbers(count: int, seed: int = 617) -> list[str]:
    """`count` distinct valid numbers of the form +1617NXXXXXX, the same ones on every run."""
    rng, found = random.Random(seed), {}
    for _ in range(count * 20):
        number = f"+1617{rng.randrange(2_000_000, 10_000_000):07d}"
        if number not in found and phonenumbers.is_valid_number(phonenumbers.parse(number)):
            found[number] = None
            if len(found) == count:
                return list(found)
    raise RuntimeError(f"found only {len(found)} valid numbers")


@dataclass(frozen=True)
class SignedRequest:
    data: bytes
    headers: dict


class RequestFactory:
    """Signed like Twilio signs: HMAC-SHA1 of the public URL plus the sorted form params."""

    def __init__(self, url: str, auth_token: str, numbers: list[str], bodies=BODIES, tos: list[str] | None = None):
        self.url = url
        self._validator = RequestValidator(auth_token)
        self._numbers, self._bodies, self._tos = numbers, bodies, tos or [TO_NUMBER]
        self._seq = itertools.count()

    def make(self, count: int) -> list[SignedRequest]:
        out = []
        for _ in range(count):
            i = next(self._seq)
            params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID,
                      "From": self._numbers[i % len(self._numbers)], "To": self._tos[i % len(self._tos)],
                      "Body": self._bodies[i % len(self._bodies)], "NumMedia": "0"}
            signature = self._validator.compute_signature(self.url, params)
            out.append(SignedRequest(urlencode(params).encode(),
                                     {"Content-Type": FORM, "X-Twilio-Signature": signature}))
        return out


@dataclass
class Tally:
    ok: int = 0
    non_200: int = 0          # any status but 200
    bad_body: int = 0         # 200 without a TwiML <Response>
    failed: int = 0           # timeouts, refused or reset connections
    dropped: int = 0          # open loop only: not sent, too many already in flight
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    latencies: list = field(default_factory=list)  # seconds, ok responses only
    send_lags: list = field(default_factory=list)  # open loop: actual start minus scheduled start

    @property
    def errors(self) -> int:
        return self.non_200 + self.bad_body + self.failed + self.dropped

    def response(self, status: int, body: bytes, latency: float | None) -> None:
        self.statuses[status] += 1
        if status != 200:
            self.non_200 += 1
        elif b"<Response" not in body:
            self.bad_body += 1
        else:
            self.ok += 1
            if latency is not None:
                self.latencies.append(latency)

    def failure(self, exc: BaseException) -> None:
        self.failed += 1
        self.failures[type(exc).__name__] += 1


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def session(limit: int) -> aiohttp.ClientSession:
    # gunicorn's sync workers close every connection, so no keep-alive on either side
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit, force_close=True),
                                 timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))


async def _post(http: aiohttp.ClientSession, url: str, req: SignedRequest) -> tuple[int, bytes]:
    async with http.post(url, data=req.data, headers=req.headers) as resp:
        return resp.status, await resp.read()


@dataclass
class ClosedResult:
    tally: Tally
    elapsed: float
    exhausted: bool  # ran out of pre-signed requests before the time was up

    @property
    def throughput(self) -> float:
        return self.tally.ok / self.elapsed if self.elapsed > 0 else 0.0


async def closed_loop(url: str, requests: list[SignedRequest], concurrency: int, seconds: float) -> ClosedResult:
    """`concurrency` connections, each sending its next request as soon as the last one is answered.
    Counts what completes inside the window; anything still in flight at the end may finish, uncounted."""
    loop = asyncio.get_running_loop()
    tally, pool = Tally(), iter(requests)
    start = loop.time()
    deadline = start + seconds
    ran_out_at: list[float] = []

    async def connection(http):
        while loop.time() < deadline:
            req = next(pool, None)
            if req is None:
                ran_out_at.append(loop.time())
                return
            sent = loop.time()
            try:
                status, body = await _post(http, url, req)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                tally.failure(exc)
                continue
            done = loop.time()
            if done <= deadline:
                tally.response(status, body, done - sent)
            elif status != 200:
                tally.response(status, body, None)  # late, but an error is an error

    async with session(concurrency) as http:
        await asyncio.wait_for(asyncio.gather(*(connection(http) for _ in range(concurrency))),
                               timeout=seconds + REQUEST_TIMEOUT + 5)
    end = min(ran_out_at) if ran_out_at else deadline
    return ClosedResult(tally, min(end, deadline) - start, bool(ran_out_at))


@dataclass
class OpenResult:
    tally: Tally
    rate: float
    elapsed: float  # from first scheduled send to last answer


async def open_loop(url: str, requests: list[SignedRequest], rate: float, max_in_flight: int = 1000) -> OpenResult:
    """Requests leave on a fixed schedule (rate per second) whether or not earlier ones were answered.
    Latency counts from the scheduled send time, so a slow client or server cannot hide queueing."""
    loop = asyncio.get_running_loop()
    tally, in_flight = Tally(), set()
    interval = 1.0 / rate
    planned = len(requests) * interval
    t0 = loop.time() + 0.05

    async def one(http, req, scheduled):
        started = loop.time()
        try:
            status, body = await _post(http, url, req)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            tally.failure(exc)
            return
        tally.response(status, body, loop.time() - scheduled)
        tally.send_lags.append(started - scheduled)

    async with session(max_in_flight) as http:
        for i, req in enumerate(requests):
            scheduled = t0 + i * interval
            now = loop.time()
            if now > t0 + planned + 5:  # hopelessly behind: stop sending, count the rest as dropped
                tally.dropped += len(requests) - i
                break
            if scheduled > now:
                await asyncio.sleep(scheduled - now)
            if len(in_flight) >= max_in_flight:
                tally.dropped += 1
                continue
            task = asyncio.create_task(one(http, req, scheduled))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            _, late = await asyncio.wait(set(in_flight), timeout=REQUEST_TIMEOUT + 2)
            for task in late:
                task.cancel()
                tally.failure(asyncio.TimeoutError())
            await asyncio.gather(*late, return_exceptions=True)
    return OpenResult(tally, rate, loop.time() - t0)
