"""Staff and the bot taking turns: a staff member texts a person back (which takes the conversation over),
takes it over without writing, or hands it back; a hold nobody touched for HANDOFF_IDLE_HOURS goes back
by itself. While a conversation is held the bot answers only STOP/START/HELP and crisis words (the
engine), and its follow-ups and timeouts wait (the follow-up worker). Everything is audited."""
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from redis import WatchError

from flows import schedule
from service import channels, queues
from service.phone import recipient_zones
from service.runtime import Services
from service.store import accounts, daily, followups, holds, inbox, keys, messages, notes, people
from service.store.messages import Kind

MAX_REPLY = 1600  # Twilio's limit for one message body
NONCE = re.compile(r"^[a-f0-9]{16,32}$")
JUST_WROTE = 3600  # a reply within this long of their last message is an answer, not a cold text


class ReplyRefused(ValueError):
    """A reply that must not be sent, with the reason staff read."""


@dataclass(frozen=True)
class Recipient:
    phone: str  # a number, or a channel address (service/channels.py)
    consent: str
    undeliverable: bool
    simulated: bool
    last_message_at: float | None = None

    @property
    def channel(self) -> str:
        return channels.of(self.phone).label


def recipient(svc: Services, pk: str) -> Recipient | None:
    phone, consent, undeliverable, simulated, seen = svc.redis.hmget(
        keys.of(svc.redis).contact(pk), "phone", "consent", "undeliverable", "simulated", people.LAST_SEEN)
    if phone is None:
        return None
    return Recipient(svc.vault.decrypt(phone), (consent or b"subscribed").decode(), undeliverable is not None,
                     simulated is not None, float(seen) if seen else None)


def why_not(person: Recipient | None, now: float | None = None) -> str | None:
    """Why this person can't be texted now, in words staff read; None when they can (`now`: also whether
    their channel takes a free-form text now)."""
    if person is None:
        return "There is no number on file for this person any more (their data was deleted)."
    if person.consent == "opted_out":
        return "They opted out (STOP): no texts may be sent until they text START."
    if person.undeliverable:
        return "Their number can't receive texts (the carrier refused it): call them instead."
    if now is not None and not channels.free_form_allowed(person.phone, person.last_message_at, now):
        return (f"They write to us on {person.channel}, which lets us answer only within 24 hours of their "
                "last message: call them instead, or wait until they write again.")
    return None


def outside_hours(svc: Services, pk: str, person: Recipient) -> str | None:
    """Their local time when it is outside the send hours and they haven't written in the last hour (a
    cold text at 3 a.m. needs a confirmation; an answer to someone who just wrote does not)."""
    if person.simulated:
        return None
    now, config = svc.now(), svc.current_config()
    zones = recipient_zones(person.phone, config.timezone)
    last = svc.redis.zscore(keys.of(svc.redis).RECENT, pk) or 0
    if schedule.in_window(config.send_rules(), zones, now) or now - last < JUST_WROTE:
        return None
    return datetime.fromtimestamp(now, zones[0]).strftime("%I:%M %p %Z").lstrip("0")


def reply(svc: Services, pk: str, who: str, text: str, nonce: str) -> str:
    """Queue a staff member's text to the person (once per nonce: a double click sends one) and hold the
    conversation for them; returns the message id. ReplyRefused when it must not go."""
    text = text.strip()
    if not text:
        raise ReplyRefused("Write the text first.")
    if len(text) > MAX_REPLY:
        raise ReplyRefused(f"A text can be at most {MAX_REPLY} characters (this one has {len(text)}).")
    if not NONCE.match(nonce or ""):
        raise ReplyRefused("The form was incomplete: reload the page and send again.")
    mid = "reply_" + hashlib.sha256(f"{pk}:{nonce}".encode()).hexdigest()[:32]  # one per form and person
    person, now = recipient(svc, pk), svc.now()
    reason = why_not(person, now)
    if reason:
        raise ReplyRefused(reason)
    day = daily.day_of(now, svc.current_config().timezone)

    def write(pipe) -> None:
        messages.create(pipe, svc.vault, mid, person.phone, text, Kind.REPLY, pk, now, person.simulated, day)
        if not person.simulated:
            daily.count(pipe, day, "staff_replies")
        people.record_exchange(pipe, svc.vault, pk, [("out", text, mid, f"staff:{who}")], now)
        holds.take(pipe, pk, who, now)
        queues.promise(pipe, "send_reply", mid, now)  # a crash before the job exists: the sweeper enqueues it
    written = _while_present(svc, pk, write, unless=keys.of(svc.redis).message(mid))
    if written is None:
        raise ReplyRefused(why_not(None))
    if written:  # not a second click on the same form
        queues.enqueue_replies(svc.redis, [mid], now)
        accounts.audit(svc.redis, who, "reply", f"{pk} {mid}", now=now)
    return mid


def _while_present(svc: Services, pk: str, write, unless: str = "", refresh_hold: bool = False) -> bool | None:
    """Run `write(pipe)` in one transaction, only while the person's record (their number) exists: an
    erasure landing meanwhile is never undone by a staff action. False when the key `unless` names
    exists already (that write was done); None when the person is gone. With `refresh_hold`: a hold on
    them, read inside the transaction, counts this as its latest action (a hand back meanwhile wins)."""
    watched = [keys.of(svc.redis).contact(pk), *([unless] if unless else [])]
    with svc.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(*watched)
                if not pipe.hexists(keys.of(pipe).contact(pk), "phone"):
                    return None
                if unless and pipe.exists(unless):
                    return False
                holder = holds.holder(pipe, pk) if refresh_hold else ""
                pipe.multi()
                write(pipe)
                if holder:
                    holds.take(pipe, pk, holder, svc.now())
                pipe.execute()
                return True
            except WatchError:
                continue


def take_over(svc: Services, pk: str, who: str) -> bool:
    """False when the person's data was deleted meanwhile."""
    if not _while_present(svc, pk, lambda pipe: holds.take(pipe, pk, who, svc.now())):
        return False
    accounts.audit(svc.redis, who, "take_over", pk, now=svc.now())
    return True


def add_note(svc: Services, pk: str, who: str, text: str, about: str = "") -> bool:
    """A staff note about the person (an action: a hold on them is not idle); False when they are gone."""

    def write(pipe) -> None:
        notes.add(pipe, svc.vault, pk, who, text, svc.now(), about)
        inbox.changed(pipe)
    if not _while_present(svc, pk, write, refresh_hold=True):
        return False
    accounts.audit(svc.redis, who, "add_note", pk, now=svc.now())
    return True


def touch(svc: Services, pk: str, who: str) -> None:
    """A staff action on a held conversation (a reveal): the hold is not idle."""
    _while_present(svc, pk, lambda pipe: None, refresh_hold=True)


def hand_back(svc: Services, pk: str, who: str, action: str = "hand_back", idle_before: float | None = None,
              holder: str | None = None) -> bool:
    """The bot answers again, and its follow-ups and the question's timeout resume where the hold paused
    them: each keeps the time it had left when the hold began (the worker drops what that takes past its
    horizon). With `idle_before`: only if the hold's latest staff action is still older than that (a take
    over or a note meanwhile keeps it). With `holder`: only if that is still who holds it (a stale page
    never releases a colleague's new hold). False when nothing was released."""
    now, r = svc.now(), svc.redis
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(keys.of(r).contact(pk), keys.of(r).HOLDS)
                action_at = pipe.zscore(keys.of(r).HOLDS, pk)
                if action_at is None or (idle_before is not None and action_at > idle_before):
                    return False
                if holder is not None and holds.holder(pipe, pk) != holder:
                    return False
                since, waiting = holds.paused(pipe, pk)
                due = followups.due_times(pipe, followups.pending_of(pipe, pk))
                timeout = followups.timeout_of(pipe, pk)
                pipe.multi()
                holds.release(pipe, pk)
                for fid, at in due.items():
                    followups.defer(pipe, fid, _resumed(fid, at, since, waiting, now))
                if timeout is not None:
                    followups.set_timeout(pipe, pk, _resumed(pk, timeout, since, waiting, now))
                inbox.changed(pipe)
                pipe.execute()
                break
            except WatchError:
                continue
    accounts.audit(r, who, action, pk, now=now)
    return True


def _resumed(item: str, due: float, since: float | None, waiting: dict[str, float], now: float) -> float:
    """When a paused follow-up or timeout is due after a hand back at `now`: as long after it as it had
    left when the hold began at `since`. (A hold from before `since` was kept: what came due is due now.)"""
    if since is None:
        return max(due, now)
    return now + max(0.0, waiting.get(item, due) - since)


def release_idle(svc: Services) -> int:
    """Holds with no staff action for HANDOFF_IDLE_HOURS go back to the bot."""
    cutoff = svc.now() - svc.current_config().handoff_idle_hours * 3600
    return sum(hand_back(svc, pk, "system", "hold_released_idle", idle_before=cutoff)
               for pk in holds.idle_since(svc.redis, cutoff))
