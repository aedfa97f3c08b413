"""Erasure: every record of a person goes, in one function. What stays is a tombstone under the person
key (when, never the number) that replaying the fallback spool honours, and the consent trail reduced
to what a carrier audit needs (when, which state, which word; no MessageSids). Twilio keeps its own
copy of each message: the work of deleting those is handed back to the caller."""
import json
from dataclasses import dataclass

from redis import Redis, WatchError

from flows.engine import Consent
from service.privacy import Vault
from service.store import contacts, followups, inbound, journeys, keys, outbox, people

SID_PREFIXES = ("SM", "MM")  # Twilio message resources (a simulated text's id starts "SMsim": not Twilio's)


@dataclass(frozen=True)
class Erased:
    number: str | None  # to find the texts Twilio holds that we never stored a sid for (TwiML replies)
    provider_sids: tuple[str, ...]  # Twilio messages we know of: their texts in, our texts out
    simulated: bool = False


def known(r: Redis, pk: str) -> bool:
    """Whether anything of this person is kept beyond what erasure keeps (an opt-out and its trail): their
    number, their records' index or their transcript."""
    k = keys.of(r)
    return bool(r.hexists(k.contact(pk), "phone") or r.exists(k.records(pk), k.transcript(pk)))


def erase(r: Redis, vault: Vault, pk: str, now: float, keep_seconds: int,
          silent_before: float | None = None) -> Erased | None:
    """Read what the person has and delete it in one WATCHed transaction: a text that lands meanwhile
    (its call back, crisis flag, alert) makes it start over, so nothing written during it survives
    unlisted. With `silent_before`, only someone still silent since then is erased (else None)."""
    k = keys.of(r)
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(k.contact(pk), k.records(pk), k.transcript(pk))
                if silent_before is not None and max(pipe.zscore(k.RECENT, pk) or 0,
                                                     pipe.zscore(k.CONTACTS, pk) or 0) >= silent_before:
                    return None  # texted, or the center updated what it knows of them, since
                erased = _erase_watched(pipe, vault, pk, now, keep_seconds)
                break
            except WatchError:
                continue
    if erased.number:
        outbox.remove_to(r, vault, erased.number)
    return erased


def _erase_watched(pipe, vault: Vault, pk: str, now: float, keep_seconds: int) -> Erased:
    ks = keys.of(pipe)
    contact = {k.decode(): v for k, v in pipe.hgetall(ks.contact(pk)).items()}
    number = vault.decrypt(contact["phone"]) if "phone" in contact else None
    inbound_sids = _inbound_sids(pipe, vault, pk)
    records = [k.decode() for k in pipe.smembers(ks.records(pk))]
    sent_sids = _provider_sids(pipe, records)
    trail = people.consent_history(pipe, pk)
    pending = tuple(contact.get("followups", b"").decode().split())
    planned = tuple(contact.get(journeys.FIELD, b"").decode().split())
    groups = json.loads(vault.decrypt(contact[contacts.GROUPS])) if contacts.GROUPS in contact else []
    pipe.multi()
    followups.cancel_all(pipe, pk, pending)
    journeys.cancel_all(pipe, pk, planned)
    for name in groups:  # the group indexes hold person keys: theirs goes
        pipe.srem(ks.group(name), pk)
        pipe.hincrby(ks.GROUPS, name, -1)
    _delete_records(pipe, pk, records, inbound_sids, sent_sids)
    _keep_consent_only(pipe, pk, contact, trail)
    pipe.set(ks.tombstone(pk), round(now, 3), ex=keep_seconds)
    pipe.incr(ks.INBOX_VERSION)  # open inboxes drop them at their next poll
    pipe.execute()
    provider = tuple(s for s in (*inbound_sids, *sent_sids) if s.startswith(SID_PREFIXES) and "sim" not in s)
    return Erased(number, provider, contact.get("simulated") == b"1")


def hand_over(r: Redis, vault: Vault, work_id: str, erased: Erased, keep_seconds: int) -> None:
    """What is left to delete at Twilio, kept encrypted (it names the number) until a worker has done it."""
    work = {"number": erased.number, "sids": list(erased.provider_sids), "simulated": erased.simulated}
    r.set(keys.of(r).provider_erasure(work_id), vault.encrypt(json.dumps(work)), ex=keep_seconds)


def provider_work(r: Redis, vault: Vault, work_id: str) -> Erased | None:
    raw = r.get(keys.of(r).provider_erasure(work_id))
    if raw is None:
        return None
    work = json.loads(vault.decrypt(raw))
    return Erased(work["number"], tuple(work["sids"]), work["simulated"])


def provider_work_done(r: Redis, work_id: str) -> None:
    r.delete(keys.of(r).provider_erasure(work_id))


def erased_since(r: Redis, pk: str, at: float) -> bool:
    """True when the person was erased at or after `at`: a message from before must not bring them back."""
    value = r.get(keys.of(r).tombstone(pk))
    return value is not None and float(value) >= at


def _inbound_sids(r, vault: Vault, pk: str) -> list[str]:
    return [m["sid"] for raw in r.lrange(keys.of(r).transcript(pk), 0, -1) for m in people.decode_entry(vault, raw)
            if m.get("dir") == "in"]


def _provider_sids(r, records: list[str]) -> list[str]:
    return [v.decode() for v in (r.hget(key, "provider_sid") for key in records) if v]


def _delete_records(pipe, pk: str, records: list[str], inbound_sids: list[str], sent_sids: list[str]) -> None:
    ks = keys.of(pipe)
    ids = [k.rsplit(":", 1)[1] for k in records]
    pipe.delete(ks.transcript(pk), ks.replies(pk), ks.replies(pk, True), ks.records(pk), ks.notes(pk),
                *records, *(ks.inbound(s) for s in inbound_sids), *(ks.provider_sid(s) for s in sent_sids))
    for queue in (ks.CALLBACKS_WAITING, ks.CALLBACKS_WAITING_TEST, ks.CALLBACKS_CLOSED, ks.CRISIS_OPEN,
                  ks.CRISIS_OPEN_TEST, ks.ALERTS_PENDING, ks.RECENT, ks.FIRST_SEEN, ks.HOLDS, ks.UNMATCHED,
                  ks.CONTACTS, ks.ATTENTION):
        pipe.zrem(queue, pk, *ids)
    if ids:
        pipe.srem(ks.CALLBACKS_ESCALATED, *ids)


def _keep_consent_only(pipe, pk: str, contact: dict, trail: list[dict]) -> None:
    """An opted-out person stays opted out (a later text must not be taken as a first contact that
    subscribes them); the trail keeps when, which state and which word, never which message."""
    ks = keys.of(pipe)
    pipe.delete(ks.contact(pk))
    if contact.get("consent") == Consent.OPTED_OUT.value.encode():
        pipe.hset(ks.contact(pk), mapping={"consent": Consent.OPTED_OUT.value,
                                             "consent_at": contact.get("consent_at", b"0").decode(),
                                             # a text read before the erasure decides again (inbound.guard)
                                             inbound.REVISION: int(contact.get(inbound.REVISION, b"0")) + 1})
    pipe.delete(ks.consent_log(pk))
    if trail:
        pipe.rpush(ks.consent_log(pk), *(json.dumps({k: v for k, v in e.items() if k != "sid"}) for e in trail))

