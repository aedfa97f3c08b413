"""A simulated person's clock: what is pending for a fictional number (follow-ups, the waiting question's
timeout, journey events), when each would go out for a real person, and moving their clock ahead so what
falls due is handed to the workers now.

The stored due times stay on the real clock; the person's clock is the real one plus how far staff moved
it (store.simclock). Moving it by N seconds brings each pending item N seconds closer, so an item's time on
the person's clock is always its stored due time plus that offset, whatever was planned before or after."""
import math
from dataclasses import dataclass
from datetime import datetime

from redis import WatchError

from flows import schedule
from service import contacts as contact_rules, planning
from service.phone import is_fictional, recipient_zones
from service.runtime import Services
from service.store import conversations, followups, keys, people, simclock

HOUR, DAY = 3600, 86400


@dataclass(frozen=True)
class Pending:
    id: str
    kind: str  # followup, timeout, journey
    label: str
    due: float  # on the real clock, as stored
    at: float  # on the person's clock (due + ahead)
    real: float  # when it would go out for a real person: `at` moved into the send hours of their zones


def pending(svc: Services, pk: str, number: str) -> list[Pending]:
    """Everything the bot will send this person later, soonest first."""
    ahead = simclock.ahead(svc.redis, pk)
    cfg = svc.current_config()
    zones = recipient_zones(number, cfg.timezone)
    return [Pending(w.id, w.kind, _label(w), w.due, w.due + ahead,
                    schedule.send_time(cfg.send_rules(), zones, w.due + ahead, w.id))
            for w in planning.waiting(svc.redis, svc.flows(), pk, with_journeys=True)
            if w.due is not None]  # one a worker has taken is on its way


def now_of(svc: Services, pk: str) -> float:
    """The person's clock."""
    return svc.now() + simclock.ahead(svc.redis, pk)


def zone_of(svc: Services, number: str):
    return recipient_zones(number, svc.current_config().timezone)[0]


def gap_to_next(svc: Services, pk: str, number: str) -> int | None:
    """Seconds until the next pending item falls due (0 when one already has), None with nothing pending."""
    items = pending(svc, pk, number)
    return max(0, math.ceil(items[0].due - svc.now())) if items else None


def advance(svc: Services, pk: str, number: str, seconds: int) -> list[Pending]:
    """Move a simulator's person's clock `seconds` ahead: every pending item comes that much closer, what
    falls due goes to the workers (a timeout only after its question was asked), and their recent sends
    recede as far (the weekly cap counts on their clock). Returns what fell due. One WATCHed transaction:
    a worker writing their record meanwhile (a timeout fired, a follow-up sent) makes it read again."""
    if not is_fictional(number) or not people.is_simulated(svc.redis, pk):
        raise NotSimulated("only a person the simulator texted or played has a clock of its own")
    with svc.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(keys.of(pipe).contact(pk))
                now, items = svc.now(), pending(svc, pk, number)
                conversation = conversations.decode(pipe.hget(keys.of(pipe).contact(pk), conversations.FIELD))
                sent = followups.sent_times(pipe, pk)
                due = {p.id: max(now, p.due - seconds) for p in items}
                timeout = next((p for p in items if p.kind == "timeout"), None)
                pipe.multi()
                simclock.move(pipe, pk, seconds, {p.id: due[p.id] for p in items if p.kind == "followup"},
                              max(due[timeout.id], int(conversation.since) + 1) if timeout and conversation else None,
                              {p.id: due[p.id] for p in items if p.kind == "journey"},
                              " ".join(str(int(t - seconds)) for t in sent) if sent else None)
                pipe.execute()
                return [p for p in items if p.due - seconds <= now]
            except WatchError:
                continue


class NotSimulated(ValueError):
    """A number whose record the simulator did not make (an imported or API contact): never moved."""


def set_contact(svc: Services, number: str, change: contact_rules.Change) -> contact_rules.Outcome:
    """The contact set for a simulator's person: their journeys are planned on their clock
    (journey_planning reads how far it runs ahead)."""
    if not is_fictional(number):
        raise ValueError("only a simulator's fictional number plays a contact")
    people.mark_simulated(svc.redis, svc.vault.person_key(number))
    outcome, _ = contact_rules.apply(svc, number, change, svc.now())
    return outcome


def iso(svc: Services, number: str) -> str:
    """The person's now as ISO 8601 with its offset."""
    pk = svc.vault.person_key(number)
    return datetime.fromtimestamp(now_of(svc, pk), zone_of(svc, number)).isoformat(timespec="seconds")


def local(moment: float, zone) -> str:
    """"Thu Nov 26, 9:00 AM" in the person's zone."""
    return datetime.fromtimestamp(moment, zone).strftime("%a %b %d, %I:%M %p").replace(" 0", " ")


def _label(w: planning.Waiting) -> str:
    if w.kind == "journey":
        return f"journey {w.flow}, event {w.step + 1}"
    return f"{w.flow}/{w.step}" if isinstance(w.step, str) else f"{w.flow}, follow-up {w.step + 1}"


def span(seconds: float) -> str:
    """"1 hour", "2 days 3 hours", "5 minutes"."""
    days, rest = divmod(int(seconds), DAY)
    hours, rest = divmod(rest, HOUR)
    if not days and not hours and rest < 60:
        return f"{rest} second{'' if rest == 1 else 's'}"
    parts = [(days, "day"), (hours, "hour")] if days or hours else [(round(rest / 60), "minute")]
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n or len(parts) == 1)
