"""People: the contact record, consent and its audit trail, the transcript, the recent list, erasure."""
import json

from redis import Redis

from flows.engine import Consent
from service.privacy import Vault
from service.store import daily, followups, keys, scripts, texts

HOUR = 3600
TRANSCRIPT_LIMIT = 250  # exchanges (a text in and our replies): about the 500 messages kept before
CARRIER_OPT_OUT = "CARRIER_21610"  # the keyword recorded when the carrier tells us a person opted out
LANGUAGE = "lang"  # the person's language when it is not the program's default, encrypted
LAST_SEEN = "last_seen"  # their latest text to us (a channel's free-form window counts from it)
OWED = "owe"  # their first answer was a crisis answer: the disclosure goes with the next ordinary one
ECHO = "echo"  # digests of the latest texts both ways (flows.echo): an auto-responder is recognised
FIRST_CONSENT = "consent0"  # the trail's first entry, "at|s|keyword|sid": most people never change it
PACKED = 64  # bytes: a contact record whose values all fit stays in Redis' compact hash encoding
STATES = {c.value[0]: c.value for c in Consent}  # "s": subscribed, "o": opted_out


def record_contact(pipe, vault: Vault, pk: str, e164: str, consent: Consent | None, now: float,
                   first_contact: bool, has_phone: bool, undeliverable: bool, simulated: bool = False,
                   touch: bool = True, oldest: float | None = None) -> None:
    """`consent` only when it changes: rewriting an unchanged value could undo a STOP (or a carrier
    opt-out) that another process committed since we read it. `touch`: this message is the person's
    latest news (a stale replayed one is not, and must not move their last-seen time back).

    Retention: someone who texted once is erased when silent for the period (RECENT), so only people
    texting again need the oldest-record index (FIRST_SEEN, which finds records to trim): they join it at
    their next text, at the time of their oldest record (`oldest`: at their second text, the first's time;
    the consent trail keeps when they first wrote)."""
    k = keys.of(pipe)
    fields = {LAST_SEEN: round(now, 3)} if touch else {}
    if consent is Consent.OPTED_OUT or (consent is not None and not first_contact):
        fields["consent"], fields["consent_at"] = consent.value, round(now, 3)
    elif consent is not None:  # first contact staying subscribed: never over a STOP that raced in
        pipe.hsetnx(k.contact(pk), "consent", consent.value)
    if has_phone and not first_contact:  # texting again: records older than the period get trimmed
        pipe.zadd(k.FIRST_SEEN, {pk: min(oldest or now, now)}, nx=True)
    elif not touch:  # new (or back) by a stale replay, so not in RECENT: the sweep must still find them
        pipe.zadd(k.FIRST_SEEN, {pk: now}, nx=True)
    if not has_phone:  # first contact, or back after an erasure: only a new text brings the number back
        fields["phone"] = vault.seal(e164)
    if simulated:  # the console's simulator: this person's texts go to the outbox, never to a phone
        fields["simulated"] = 1
    if fields:
        pipe.hset(k.contact(pk), mapping=fields)
    if touch:
        pipe.zadd(k.RECENT, {pk: now})
    if undeliverable:
        pipe.hdel(k.contact(pk), "undeliverable")  # they just texted us: the number works


def is_simulated(r, pk: str) -> bool:
    return r.hget(keys.of(r).contact(pk), "simulated") == b"1"


def mark_simulated(r, pk: str) -> None:
    """A simulator's person: whatever reaches them goes to the outbox, never to a phone."""
    r.hset(keys.of(r).contact(pk), "simulated", 1)


def record_language(pipe, vault: Vault, pk: str, language: str, default: str) -> None:
    """The language the person's texts are in; not stored for the program's default language."""
    if language == default:
        pipe.hdel(keys.of(pipe).contact(pk), LANGUAGE)
    else:
        pipe.hset(keys.of(pipe).contact(pk), LANGUAGE, vault.encrypt(language))


def language_of(vault: Vault, token: bytes | None) -> str:
    """"" for the program's default language."""
    return vault.decrypt(token) if token else ""


def consent_of(r: Redis, pk: str) -> Consent:
    value = r.hget(keys.of(r).contact(pk), "consent")
    return Consent(value.decode()) if value else Consent.SUBSCRIBED


def record_consent(pipe, pk: str, consent: Consent, keyword: str, sid: str, now: float, first: bool = False) -> None:
    """Append-only audit trail of every consent change: when, which word, which message, in the order
    recorded. A first contact's entry (`first`: and no trail kept from before an erasure) sits in the
    contact record when it fits its compact encoding (to the second), the rest in a list: a key per person
    costs ~170 bytes and most people never change their consent."""
    packed = f"{int(now)}|{consent.value[0]}|{keyword}|{sid}"
    if first and len(packed.encode()) <= PACKED:
        pipe.hset(keys.of(pipe).contact(pk), FIRST_CONSENT, packed)
        return
    entry = {"at": round(now, 3), "state": consent.value, "keyword": keyword, "sid": sid}
    pipe.rpush(keys.of(pipe).consent_log(pk), json.dumps(entry))


def consent_history(r, pk: str) -> list[dict]:
    """The whole trail, oldest first (`r` may be a pipeline in WATCH mode: it reads at once)."""
    first = r.hget(keys.of(r).contact(pk), FIRST_CONSENT)
    return ([first_consent(first)] if first else []) + [json.loads(e) for e in r.lrange(keys.of(r).consent_log(pk), 0, -1)]


def first_consent(raw: bytes) -> dict:
    at, state, rest = raw.decode().split("|", 2)
    keyword, sid = rest.rsplit("|", 1)
    return {"at": float(at), "state": STATES[state], "keyword": keyword, **({"sid": sid} if sid else {})}


def without_sid(entry: dict) -> str:
    return f"{int(entry['at'])}|{entry['state'][0]}|{entry['keyword']}|"


def carrier_opt_out(r: Redis, pk: str, mid: str, now: float, day: str = "") -> None:
    """The carrier's word overrides ours (Twilio error 21610): opted out, nothing more is sent."""
    pending = followups.pending_of(r, pk)
    pipe = r.pipeline()
    if day:
        daily.count(pipe, day, "carrier_opt_outs")
        if pending:
            daily.count(pipe, day, "followups_held:opted_out", len(pending))
    pipe.hset(keys.of(r).contact(pk), mapping={"consent": Consent.OPTED_OUT.value, "consent_at": round(now, 3)})
    record_consent(pipe, pk, Consent.OPTED_OUT, CARRIER_OPT_OUT, mid, now)
    followups.cancel_all(pipe, pk, pending)
    pipe.execute()


def mark_undeliverable(r: Redis, pk: str, now: float) -> None:
    """Not a mobile number, or not reachable: no more follow-ups until they text us again."""
    pending = followups.pending_of(r, pk)
    pipe = r.pipeline()
    pipe.hset(keys.of(r).contact(pk), "undeliverable", int(now))
    followups.cancel_all(pipe, pk, pending)
    pipe.execute()


def record_exchange(pipe, vault: Vault, pk: str, messages: list[tuple], now: float,
                    shared: frozenset[str] = frozenset()) -> None:
    """One exchange (the text in and our replies, as (direction, body, sid[, source])) as one encrypted
    entry; `source` says which flow and step (or program message) an automatic reply came from. A reply
    in `shared` (a text that names nobody: flows' FlowSet.shared_texts, a broadcast's) is stored by
    reference (store/texts.py), not copied. The transcript keeps the newest TRANSCRIPT_LIMIT exchanges.

    An entry is "time:token". The token holds a JSON list, packed because every person has one:
    [[sid, body] or 0 (no text in), then one item per reply]. A reply is the digest of its source and
    text when it is shared and its sid is the text's own plus "/n" (the usual case), else
    [body, source, sid] with "" for a source it has not, null for that usual sid, and body {"r": digest}
    for a shared text."""
    incoming = next(([m[2], m[1]] for m in messages if m[0] == "in"), 0)
    entry: list = [incoming]
    for m in (m for m in messages if m[0] != "in"):
        source = m[3] if len(m) > 3 else ""
        usual = bool(incoming) and m[2] == f"{incoming[0]}/{len(entry) - 1}"
        ref = texts.keep(pipe, m[1], source) if m[1] in shared else None
        entry.append(ref if ref and usual else [{"r": ref} if ref else m[1], "" if ref else source, None if usual else m[2]])
    token = vault.seal(json.dumps(entry, separators=(",", ":"), ensure_ascii=False))
    pipe.rpush(keys.of(pipe).transcript(pk), f"{round(now, 3)}:".encode() + token)  # the time outside: retention needs no decrypting
    pipe.ltrim(keys.of(pipe).transcript(pk), -TRANSCRIPT_LIMIT, -1)


def transcript(r: Redis, vault: Vault, pk: str) -> list[dict]:
    """Every message, oldest first."""
    messages = read_entries(r, vault, r.lrange(keys.of(r).transcript(pk), 0, -1))
    return sorted(messages, key=lambda m: m["at"])  # a message replayed after an outage joins at its own time


def read_entries(r: Redis, vault: Vault, raws: list[bytes]) -> list[dict]:
    """Transcript entries as messages ({at, dir, sid, body[, src]}), our shared texts looked up."""
    return resolve(r, [m for raw in raws for m in decode_entry(vault, raw)])


def resolve(r: Redis, messages: list[dict]) -> list[dict]:
    """Fill in the body of every message stored by reference (one read for them all)."""
    found = texts.bodies(r, {m["ref"] for m in messages if "ref" in m})
    for m in messages:
        if "ref" in m:
            source, m["body"] = found[m.pop("ref")]
            if source:
                m["src"] = source
    return messages


def decode_entry(vault: Vault, raw: bytes) -> list[dict]:
    """One entry's messages; a shared text is {"ref": digest} until `resolve` reads it. Entries as first
    stored (one message) and as stored before the shared texts (a list of messages) read as they were."""
    entry = json.loads(vault.decrypt(entry_token(raw)))
    if isinstance(entry, dict):
        return [entry]
    if not entry or isinstance(entry[0], dict):
        return entry
    at, incoming, found = entry_time(raw), entry[0], []
    if incoming:
        found.append({"at": at, "dir": "in", "sid": incoming[0], "body": incoming[1]})
    for n, item in enumerate(entry[1:]):
        body, source, sid = (item, "", None) if isinstance(item, str) else item
        m = {"at": at, "dir": "out", "sid": f"{incoming[0]}/{n}" if sid is None and incoming else sid or ""}
        m.update({"ref": item} if isinstance(item, str) else {"ref": body["r"]} if isinstance(body, dict) else {"body": body})
        found.append({**m, "src": source} if source else m)
    return found


def entry_token(raw: bytes) -> bytes:
    """A transcript entry is "time:token" (or, as first stored, the token alone)."""
    return raw.split(b":", 1)[1] if entry_time(raw) is not None else raw


def entry_time(raw: bytes) -> float | None:
    """The time before the first ":" (a sealed token may hold any byte, but starts with "~", "g" or 1)."""
    head = raw.split(b":", 1)[0]
    return float(head) if b":" in raw and head[:1].isdigit() else None


def count_replies(pipe, pk: str, ids: list[str], now: float, crisis: bool) -> None:
    key = keys.of(pipe).replies(pk, crisis)
    pipe.zadd(key, {i: now for i in ids})
    pipe.zremrangebyscore(key, "-inf", now - HOUR)
    pipe.expire(key, HOUR + 60)


def phone_of(r: Redis, vault: Vault, pk: str) -> str | None:
    value = r.hget(keys.of(r).contact(pk), "phone")
    return vault.decrypt(value) if value else None


def recent(r: Redis, vault: Vault, limit: int = 100) -> list[dict]:
    """Newest conversations first, with what the list page shows (the number decrypted for masking)."""
    people = r.zrevrange(keys.of(r).RECENT, 0, limit - 1, withscores=True)
    pipe = r.pipeline(transaction=False)
    for pk, _ in people:
        pipe.hmget(keys.of(r).contact(pk.decode()), "phone", "consent")
    rows = []
    for (pk, seen), (phone, consent) in zip(people, pipe.execute()):
        if phone:
            rows.append({"pk": pk.decode(), "phone": vault.decrypt(phone), "last_seen": seen,
                         "consent": consent.decode() if consent else Consent.SUBSCRIBED.value})
    return rows


def silent_since(r: Redis, cutoff: float, limit: int) -> list[str]:
    """People whose last message is older than `cutoff` (the retention sweep erases them)."""
    return [pk.decode() for pk in r.zrangebyscore(keys.of(r).RECENT, "-inf", f"({cutoff}", start=0, num=limit)]


def kept_since(r: Redis, cutoff: float, limit: int) -> list[str]:
    """People holding records older than `cutoff`."""
    return [pk.decode() for pk in r.zrangebyscore(keys.of(r).FIRST_SEEN, "-inf", f"({cutoff}", start=0, num=limit)]


def trim_before(r: Redis, pk: str, cutoff: float) -> int:
    """Drop transcript exchanges and staff notes older than `cutoff` and the MessageSids of older consent
    changes; the person's place in the index moves to their oldest record left. Returns how many
    exchanges and notes went."""
    ks = keys.of(r)
    head = r.lrange(ks.transcript(pk), 0, TRANSCRIPT_LIMIT)
    old = sum(1 for _ in _while_older(head, cutoff))
    staff_notes = r.lrange(ks.notes(pk), 0, -1)
    old_notes = sum(1 for _ in _while_older(staff_notes, cutoff))
    trail = [json.loads(e) for e in r.lrange(ks.consent_log(pk), 0, -1)]
    first = r.hget(ks.contact(pk), FIRST_CONSENT)
    entry = first_consent(first) if first else None
    pipe = r.pipeline()
    if entry and entry["at"] < cutoff and "sid" in entry:  # swapped, so never recreating an erased record
        scripts.run(pipe, "swap_value", [ks.contact(pk)], ["hash", FIRST_CONSENT, first, without_sid(entry)])
    if old:
        pipe.ltrim(ks.transcript(pk), old, -1)
    if old_notes:
        pipe.ltrim(ks.notes(pk), old_notes, -1)
    for i, entry in enumerate(trail):
        if entry["at"] < cutoff and "sid" in entry:
            pipe.lset(ks.consent_log(pk), i, json.dumps({k: v for k, v in entry.items() if k != "sid"}))
    left = [t for t in (entry_time(head[old]) if old < len(head) else None,
                        entry_time(staff_notes[old_notes]) if old_notes < len(staff_notes) else None) if t is not None]
    pipe.zadd(ks.FIRST_SEEN, {pk: min(left) if left else cutoff})
    pipe.execute()
    return old + old_notes


def _while_older(entries: list[bytes], cutoff: float):
    for raw in entries:
        at = entry_time(raw)
        if at is None or at >= cutoff:
            return
        yield raw


def record_disclosure(pipe, pk: str, owed: bool) -> None:
    if owed:
        pipe.hset(keys.of(pipe).contact(pk), OWED, 1)
    else:
        pipe.hdel(keys.of(pipe).contact(pk), OWED)


def record_recent(pipe, pk: str, digests: tuple[str, ...]) -> None:
    pipe.hset(keys.of(pipe).contact(pk), ECHO, " ".join(digests))
