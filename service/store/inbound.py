"""Inbound messages: the MessageSid claim that makes handling idempotent, and what the engine needs to
know of the texter, read together in one round trip."""
import hashlib
import json
from dataclasses import dataclass, field

from redis import Redis

from flows.engine import Consent, Texter
from service.privacy import RAW, Vault
from service.store import conversations, crises, holds, journeys, keys, people, scripts, texts

HOUR = 3600
DAY = 86400
ANSWER_TTL = 2 * 24 * HOUR  # Twilio retries and fallbacks arrive within minutes; two days is generous
PENDING_TTL = 30
REVISION = "rev"  # the contact field every handled text of the person bumps
LAST_BROADCAST = "last_bc"  # workers/broadcast.py writes it: a reply within a day counts for that broadcast
SEEN_BATCH = 256


@dataclass(frozen=True)
class InboundClaim:
    """Claiming a MessageSid: first time, already answered, or being answered right now."""
    fresh: bool
    # our replies (a str: the TwiML itself, as stored for two days by the release before this one)
    answer: tuple[str, ...] | str | None = None
    replayed: bool = False  # handled long ago (its answer has expired): a replay of a captured request


@dataclass(frozen=True)
class State:
    texter: Texter
    pending: tuple[str, ...]  # follow-up ids waiting for this person
    has_phone: bool = False
    undeliverable: bool = False
    flows_version: int | None = None
    settings: dict = field(default_factory=dict)  # console overrides of the center's settings
    latest: float = 0.0  # the person's latest handled message or consent change: older news is stale
    revision: bytes | None = None  # bumped by every handled text: a write guarded by it sees a twin text land
    crisis: str | None = None  # the id of their open crisis
    simulated: bool = False  # one of the simulator's fictional people
    journeys: tuple[str, ...] = ()  # their planned journey event ids
    last_broadcast: str = ""  # "id|when" of the latest broadcast text they got
    oldest: float | None = None  # when their oldest record was kept, if known: retention's index (people.py)
    has_trail: bool = False  # a consent trail kept from before an erasure: a first contact's entry follows it


def open_inbound(r: Redis, vault: Vault, sid: str, pk: str, now: float) -> tuple[InboundClaim, State]:
    """Claim the MessageSid and read everything the engine needs, in one round trip."""
    pipe = r.pipeline(transaction=False)
    pipe.set(keys.of(r).inbound(sid), "", nx=True, ex=PENDING_TTL)
    pipe.get(keys.of(r).inbound(sid))
    pipe.hexists(*seen_field(pipe, sid))
    fresh, answer, seen, *read = _read_state(pipe, pk, now).execute()
    claim = InboundClaim(bool(fresh), None if fresh else _answer(r, vault, answer), bool(seen))
    return claim, _state(vault, *read)


def read_state(r: Redis, vault: Vault, pk: str, now: float) -> State:
    """What the engine needs, without claiming anything (after a person moved to a new person key)."""
    return _state(vault, *_read_state(r.pipeline(transaction=False), pk, now).execute())


def _read_state(pipe, pk: str, now: float):
    k = keys.of(pipe)
    pipe.get(k.FLOWS_PUBLISHED)
    pipe.hgetall(k.SETTINGS)
    pipe.hmget(k.contact(pk), "consent", "followups", "phone", "undeliverable", "open_callback", "last_seen",
               "consent_at", conversations.FIELD, people.LANGUAGE, holds.FIELD, REVISION, crises.FIELD,
               people.OWED, people.ECHO, "simulated", journeys.FIELD, LAST_BROADCAST, "first_seen", crises.KIND)
    for crisis in (False, True):
        pipe.zcount(k.replies(pk, crisis), now - HOUR, "+inf")
    pipe.exists(k.consent_log(pk))
    return pipe


def _state(vault: Vault, version, tuned, contact, replies, crisis_replies, trail) -> State:
    consent, pending, phone, undeliverable, open_callback, last_seen, consent_at, conversation, language, held_by, \
        revision, crisis, owed, echo, simulated, planned, last_broadcast, first_seen, crisis_kind = contact
    texter = Texter(Consent(consent.decode()) if consent else Consent.SUBSCRIBED, consent is None,
                    replies, crisis_replies, callback_open=open_callback is not None,
                    conversation=conversations.decode(conversation), language=people.language_of(vault, language),
                    held=held_by is not None, crisis_open=crisis is not None,
                    crisis_kind=crisis_kind.decode() if crisis_kind and crisis is not None else "",
                    owes_disclosure=owed is not None,
                    recent=tuple(echo.decode().split()) if echo else ())
    state = State(texter, tuple(pending.decode().split()) if pending else (), phone is not None,
                  undeliverable is not None, int(version) if version else None,
                  {k.decode(): v.decode() for k, v in tuned.items()},
                  max(float(last_seen or 0), float(consent_at or 0)), revision,
                  crisis.decode() if crisis else None, simulated == b"1",
                  tuple(planned.decode().split()) if planned else (),
                  last_broadcast.decode() if last_broadcast else "",
                  min(float(v) for v in (first_seen, last_seen) if v) if first_seen or last_seen else None,
                  bool(trail))
    return state


def answer_of(r: Redis, vault: Vault, sid: str) -> tuple[str, ...] | str | None:
    """What we answered (None: not yet, or too long ago)."""
    return _answer(r, vault, r.get(keys.of(r).inbound(sid)))


def _answer(r: Redis, vault: Vault, value: bytes | None) -> tuple[str, ...] | str | None:
    if not value:
        return None
    if not value.startswith(RAW):
        return value.decode()  # TwiML stored by the previous release
    try:
        items = json.loads(vault.decrypt(value))
    except ValueError:  # sealed under a key retired since: the first answer went out; none again
        return ()
    found = texts.bodies(r, {i["r"] for i in items if isinstance(i, dict)})
    # a shared text no longer stored is left out, never texted as a placeholder
    return tuple(found[i["r"]][1] if isinstance(i, dict) else i for i in items
                 if not isinstance(i, dict) or found[i["r"]] is not texts.MISSING)


def guard(r, pk: str, state: State) -> tuple[str, str, bytes | None]:
    """A write of this text applies only if no other text of the person was handled since `state`."""
    return keys.of(r).contact(pk), REVISION, state.revision


def bump(pipe, pk: str) -> None:
    pipe.hincrby(keys.of(pipe).contact(pk), REVISION, 1)


def finish_inbound(pipe, vault: Vault, sid: str, replies: list[tuple[str, str]], now: float,
                   shared: frozenset[str] = frozenset()) -> None:
    """The answer a retry of this MessageSid gets, for two days: our replies ((text, source) each), a
    shared text by its reference (store/texts.py, as the transcript names it), the rest sealed with it."""
    items = [{"r": texts.keep(pipe, text, source)} if text in shared else text for text, source in replies]
    pipe.set(keys.of(pipe).inbound(sid), vault.seal(json.dumps(items, separators=(",", ":"), ensure_ascii=False)),
             ex=ANSWER_TTL)
    key, digest = seen_field(pipe, sid)
    pipe.hset(key, digest, int(now // DAY))


def seen_field(r, sid: str) -> tuple[str, bytes]:
    digest = hashlib.sha256(sid.encode()).digest()
    return keys.of(r).seen(digest[:2].hex()), digest[2:10]


def forget_seen_before(r: Redis, cutoff: float) -> int:
    """Drop seen-markers older than `cutoff` (the retention sweep): 65,536 small hashes, 256 at a time in
    one script each (a missing bucket costs the server a lookup; Redis is never held for long)."""
    first_kept, dropped = int(cutoff // DAY), 0
    for start in range(0, 65536, SEEN_BATCH):
        buckets = [keys.of(r).seen(f"{b:04x}") for b in range(start, start + SEEN_BATCH)]
        dropped += scripts.run(r, "forget_seen", buckets, [first_kept])
    return dropped


def release_inbound(r: Redis, sid: str) -> None:
    """Give a claim back when handling failed, so Twilio's retry is processed afresh."""
    r.delete(keys.of(r).inbound(sid))
