"""Pending follow-ups: one sorted set of compact ids by due time, plus each person's own list.

An id is "person:flow:step:scheduled" (scheduled in base 36 seconds), so the set alone says what to
send and to whom; cancelling a person touches only their own ids, never a scan.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from redis import Redis

from flows.engine import ScheduledFollowUp
from service import scripts
from service.config import Config
from service.phone import time_zones
from service.store import contact_key

DUE = "sms:followups:due"
JITTER_SECONDS = 3600
FIELD = "followups"


@dataclass(frozen=True)
class FollowUpId:
    person: str
    flow: str
    step: int
    scheduled_at: int

    def __str__(self) -> str:
        return f"{self.person}:{self.flow}:{self.step}:{_b36(self.scheduled_at)}"

    @classmethod
    def parse(cls, text: str) -> "FollowUpId":
        person, flow, step, scheduled = text.split(":")
        return cls(person, flow, int(step), int(scheduled, 36))


def schedule(pipe, config: Config, pk: str, e164: str, items: tuple[ScheduledFollowUp, ...], now: float) -> list[str]:
    horizon = now + config.followup_horizon_days * 86400
    zones = recipient_zones(config, e164)
    due = {}
    for item in items:
        fid = str(FollowUpId(pk, item.flow, item.step, int(now)))
        when = send_time(config, zones, now + item.after.total_seconds(), fid)
        if when <= horizon:
            due[fid] = when
    if due:
        pipe.zadd(DUE, due)
        pipe.hset(contact_key(pk), FIELD, " ".join(due))
    return list(due)


def cancel(pipe, pk: str, pending: tuple[str, ...]) -> None:
    if pending:
        pipe.zrem(DUE, *pending)
    pipe.hdel(contact_key(pk), FIELD)


def send_time(config: Config, zones: tuple[ZoneInfo, ...], when: float, fid: str) -> float:
    """The first moment at or after `when` inside the send window in every zone the number may be in;
    when it had to wait for an opening, jittered by id (within the window) so 9:00 isn't a spike."""
    try:
        moment = _common_opening(config, zones, when)
    except ValueError:  # no shared window across the zones: use the center's
        zones = (config.timezone,)
        moment = _common_opening(config, zones, when)
    if moment == when:
        return when
    jitter = int(hashlib.sha1(fid.encode()).hexdigest()[:8], 16) % JITTER_SECONDS
    jittered = moment + jitter
    return jittered if _common_opening(config, zones, jittered) == jittered else moment


def _common_opening(config: Config, zones: tuple[ZoneInfo, ...], when: float) -> float:
    hours, moment = config.quiet_hours, when
    for _ in range(16):  # each pass moves to a later opening; windows that overlap settle in two or three
        closed = [z for z in zones if not hours.is_open(datetime.fromtimestamp(moment, z))]
        if not closed:
            return moment
        openings = [hours.next_opening(datetime.fromtimestamp(moment, z)) for z in closed]
        if None in openings:
            break
        moment = max(o.timestamp() for o in openings)
    raise ValueError("the send hours never overlap across this number's time zones")


MAX_ZONES = 4  # a toll-free number "is" in dozens of zones: then the center's zone is the honest guess


def recipient_zones(config: Config, e164: str) -> tuple[ZoneInfo, ...]:
    zones = time_zones(e164)
    return tuple(ZoneInfo(z) for z in zones) if 0 < len(zones) <= MAX_ZONES else (config.timezone,)


def pending_of(r: Redis, pk: str) -> tuple[str, ...]:
    value = r.hget(contact_key(pk), FIELD)
    return tuple(value.decode().split()) if value else ()


def take_due(r: Redis, now: float, limit: int) -> list[tuple[str, float]]:
    """Due (id, due time), oldest first, without removing them: they leave the set once their job exists."""
    return [(m.decode(), s) for m, s in r.zrangebyscore(DUE, "-inf", now, start=0, num=limit, withscores=True)]


_REMOVE_IF_UNCHANGED = """
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then removed = removed + redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return removed
"""


def remove_dispatched(r: Redis, taken: list[tuple[str, float]]) -> int:
    """Remove ids whose due time is still what was taken: one a fast worker already deferred (re-added
    with a later time) stays scheduled."""
    args = [x for fid, score in taken for x in (fid, repr(score))]
    return scripts.run(r, _REMOVE_IF_UNCHANGED, [DUE], args) if args else 0


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, d = divmod(n, 36)
        out = digits[d] + out
        if not n:
            return out


def remove(pipe, pk: str, fid: str) -> None:
    """Drop one id from the due set and from its person's list (pipe is WATCHing the contact)."""
    pipe.zrem(DUE, fid)
    pipe.eval(_REMOVE_FROM_LIST, 1, contact_key(pk), FIELD, fid)


_REMOVE_FROM_LIST = """
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return 0 end
local kept = {}
for id in string.gmatch(value, '%S+') do if id ~= ARGV[2] then table.insert(kept, id) end end
if #kept == 0 then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], table.concat(kept, ' ')) end
return 1
"""
