"""What the program did, per day in the center's zone, counts only: one hash per day of counters, and
two HyperLogLog sketches per day (people who texted, people who got an automatic text), which can be
counted but never read back as a list. Written inside the writes that already happen (the webhook's
atomic write, the follow-up worker's transaction, the send outcome and status callback scripts, the
call back and crisis updates); read by the insights page. Medians come from small histograms of
minutes (fixed buckets), never from a list of people. Each day's keys expire after DAYS_KEPT days."""
import bisect
from datetime import date, datetime
from zoneinfo import ZoneInfo

from redis import Redis

from service.store import keys

DAYS_KEPT = 400
TTL = DAYS_KEPT * 86400
MINUTES = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1440, 2880, 10080)  # bucket tops


def day_of(moment: float, zone: ZoneInfo) -> str:
    """The local date of a moment in the center's zone, as YYYY-MM-DD."""
    return datetime.fromtimestamp(moment, zone).date().isoformat()


def hour_of(moment: float, zone: ZoneInfo) -> int:
    """The local hour (0-23) of a moment in the center's zone: when call backs and crises come in."""
    return datetime.fromtimestamp(moment, zone).hour


def count(pipe, day: str, field: str, n: int = 1) -> None:
    pipe.hincrby(keys.of(pipe).daily(day), field, n)
    pipe.expire(keys.of(pipe).daily(day), TTL)


def counts(pipe, day: str, fields: dict[str, int]) -> None:
    """Several counters of one day, with one expiry."""
    for field, n in fields.items():
        pipe.hincrby(keys.of(pipe).daily(day), field, n)
    pipe.expire(keys.of(pipe).daily(day), TTL)


def person(pipe, day: str, which: str, pk: str, keep_seconds: int = TTL) -> None:
    """`which`: "people" (texted us) or "texted" (got a text from us). A sketch is made of person keys, so
    it is kept no longer than the retention period (`keep_seconds`), whatever the counters' time."""
    pipe.pfadd(keys.of(pipe).daily_people(day, which), pk)
    pipe.expire(keys.of(pipe).daily_people(day, which), min(TTL, keep_seconds))


def minutes(pipe, day: str, name: str, seconds: float) -> None:
    """One duration into the day's histogram `name` (field "<name>:<bucket top in minutes>")."""
    i = bisect.bisect_left(MINUTES, max(0.0, seconds) / 60)
    count(pipe, day, f"{name}:{MINUTES[i] if i < len(MINUTES) else 'more'}")


def read(r: Redis, days: list[date], languages: tuple[str, ...] = ()) -> list[dict]:
    """Each day's counters, its two people counts and its people per language, in one round trip."""
    ks = keys.of(r)
    pipe = r.pipeline(transaction=False)
    for d in days:
        pipe.hgetall(ks.daily(d.isoformat()))
        pipe.pfcount(ks.daily_people(d.isoformat(), "people"))
        pipe.pfcount(ks.daily_people(d.isoformat(), "texted"))
        for language in languages:
            pipe.pfcount(ks.daily_people(d.isoformat(), f"people:{language}"))
    found, width = pipe.execute(), 3 + len(languages)
    out = []
    for i, d in enumerate(days):
        counters, people, texted, *by_language = found[width * i:width * (i + 1)]
        out.append({"date": d.isoformat(), "counters": {k.decode(): int(v) for k, v in counters.items()},
                    "people": people, "texted": texted, "people_by_language": dict(zip(languages, by_language))})
    return out


def median(histogram: dict[str, int]) -> float | None:
    """The bucket holding the middle value, as its top in minutes (None without values; beyond the last
    bucket: its top)."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for top in MINUTES + ("more",):
        seen += histogram.get(str(top), 0)
        if seen * 2 >= total:
            return float(MINUTES[-1] if top == "more" else top)
    return float(MINUTES[-1])
