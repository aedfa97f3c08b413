"""Outbound message records: created before sending, so a crash can never cause a second text."""
import json
from enum import Enum, IntEnum

from redis import Redis

from service.privacy import Vault
from service.metrics import OUTBOUND as OUTBOUND_METRIC
from service import scripts
from service.store import contact_key, records_key


class OutState(str, Enum):
    QUEUED = "queued"  # ours: not yet handed to the provider
    SENDING = "sending"  # ours: the provider call started; never start it again
    SENT = "sent"  # accepted by the provider; its callbacks refine `status`
    UNKNOWN = "unknown"  # the call may or may not have gone through
    SKIPPED = "skipped"  # consent changed before sending
    OPTED_OUT = "opted_out"
    UNDELIVERABLE = "undeliverable"
    REJECTED = "rejected"


# Twilio MessageStatus order; a callback may only move a message forward.
STATUS_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
               "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5}

# Status callbacks and our own record of a send meet in Redis, each side in one atomic script: a callback
# finds the message through the provider sid, or (when it beat our record) waits in an "early" hash that
# the send's record adopts. Either order ends with the furthest status on the message.
_FORWARD = """
local function forward(key, status, code, rank)
  local current = redis.call('HGET', key, 'status')
  if current and rank[current] and rank[current] >= rank[status] then return 0 end
  redis.call('HSET', key, 'status', status)
  if code and code ~= '' then redis.call('HSET', key, 'error_code', code) end
  return 1
end
"""
# KEYS: provider sid -> message id, early hash. ARGV: status, error code, ranks, early ttl, message prefix.
_ADVANCE = _FORWARD + """
local mid = redis.call('GET', KEYS[1])
local key = mid and (ARGV[5] .. mid) or KEYS[2]
local moved = forward(key, ARGV[1], ARGV[2], cjson.decode(ARGV[3]))
if not mid then redis.call('EXPIRE', key, ARGV[4]) end
return moved
"""
# The outcome of a send, in one atomic step, and only while the record exists (an erasure that landed
# meanwhile is not undone). KEYS: message, outcome counters, pending alerts, provider sid -> message id,
# early hash. ARGV: state, provider sid, error code, counter field, message id, mapping ttl, ranks.
_FINISH = _FORWARD + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'provider_sid', ARGV[2], 'error_code', ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
redis.call('ZREM', KEYS[3], ARGV[5])
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[4], ARGV[5], 'EX', ARGV[6])
  local early = redis.call('HMGET', KEYS[5], 'status', 'error_code')
  if early[1] then forward(KEYS[1], early[1], early[2], cjson.decode(ARGV[7])) end
  redis.call('DEL', KEYS[5])
end
return 1
"""
# KEYS: the message, the person's contact record (may be absent). The last Redis call before the provider
# call, so a STOP or an erasure that came while the worker waited for its send slot is still honoured: an
# opted-out person's message becomes skipped, an erased person's is deleted (an erasure can miss a message
# created while it ran). claimed_at lets the alert sweeper tell a stalled claim from a call in flight.
_CLAIM = """
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 0 end
if KEYS[2] then
  if redis.call('HEXISTS', KEYS[2], 'phone') == 0 then
    redis.call('DEL', KEYS[1])
    return 2
  end
  if redis.call('HGET', KEYS[2], 'consent') == 'opted_out' then
    redis.call('HSET', KEYS[1], 'state', 'skipped')
    return 2
  end
end
redis.call('HSET', KEYS[1], 'state', 'sending', 'claimed_at', redis.call('TIME')[1])
return 1
"""
# ARGV: from, to. Only the holder of a state moves it: a duplicate job cannot overwrite another worker's
# send, and a released claim cannot recreate an erased record.
_MOVE = """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
"""


class Claim(IntEnum):
    TAKEN = 0  # not queued any more: another worker has it, or it was erased
    CLAIMED = 1  # ours to send, exactly once
    REFUSED = 2  # the person opted out (now skipped) or was erased (now gone) since it was queued

    def __bool__(self) -> bool:
        return self is Claim.CLAIMED


PROVIDER_TTL = 30 * 86400
EARLY_TTL = 7 * 86400
ALERTS_PENDING = "sms:alerts:pending"  # staff alerts not yet final, by creation time: the sweeper's index


def message_key(mid: str) -> str:
    return f"sms:out:{mid}"


def provider_key(provider_sid: str) -> str:
    return f"sms:out-sid:{provider_sid}"


def early_key(provider_sid: str) -> str:
    """Status callbacks that arrived before our record of the send (holds only statuses)."""
    return f"sms:out-early:{provider_sid}"


def create(pipe, vault: Vault, mid: str, to: str, body: str, kind: str, person: str, now: float) -> None:
    pipe.hsetnx(message_key(mid), "state", OutState.QUEUED.value)
    pipe.hset(message_key(mid), mapping={"to": vault.encrypt(to), "body": vault.encrypt(body), "kind": kind,
                                         "person": person, "created_at": round(now, 3)})
    if person:
        pipe.sadd(records_key(person), message_key(mid))


def claim(r: Redis, mid: str, person: str = "") -> Claim:
    """queued -> sending, atomically: of two racing workers only one may call the provider, and never
    for someone who opted out (then queued -> skipped; the caller records the outcome with finish) or
    was erased (then the record is deleted)."""
    keys = [message_key(mid)] + ([contact_key(person)] if person else [])
    return Claim(scripts.run(r, _CLAIM, keys))


def skip(r: Redis, mid: str) -> bool:
    """queued -> skipped, only if nobody took it meanwhile; True when this call did it."""
    return bool(scripts.run(r, _MOVE, [message_key(mid)], [OutState.QUEUED.value, OutState.SKIPPED.value]))


def finish(r: Redis, mid: str, state: OutState, provider_sid: str = "", code: int | None = None) -> bool:
    """Record a send's outcome (and adopt any status callback that beat it); False when the record was
    erased meanwhile, which stays erased."""
    code_text = "" if code is None else str(code)
    keys = [message_key(mid), OUTBOUND_METRIC, ALERTS_PENDING, provider_key(provider_sid), early_key(provider_sid)]
    return bool(scripts.run(r, _FINISH, keys, [state.value, provider_sid, code_text, f"{state.value}|{code_text}",
                                               mid, PROVIDER_TTL, json.dumps(STATUS_RANK)]))


def release(r: Redis, mid: str) -> bool:
    """sending -> queued, only when the provider certainly never received the request."""
    return bool(scripts.run(r, _MOVE, [message_key(mid)], [OutState.SENDING.value, OutState.QUEUED.value]))


def advance_status(r: Redis, provider_sid: str, status: str, error_code: str) -> bool:
    """Apply a status callback unless the message already reached that stage or a later one.

    A callback can beat our own bookkeeping of the send; it waits under the provider sid until finish()
    adopts it into the message (or expires unclaimed after a week).
    """
    return bool(scripts.run(r, _ADVANCE, [provider_key(provider_sid), early_key(provider_sid)],
                            [status, error_code, json.dumps(STATUS_RANK), EARLY_TTL, message_key("")]))


def load(r: Redis, vault: Vault, mid: str) -> dict | None:
    raw = r.hgetall(message_key(mid))
    if not raw:
        return None
    rec = {k.decode(): v.decode() for k, v in raw.items()}
    rec["to"], rec["body"] = vault.decrypt(rec["to"]), vault.decrypt(rec["body"])
    return rec
