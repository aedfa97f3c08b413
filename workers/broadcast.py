"""Broadcasts on their way out, in the lowest sending lane (below staff alerts, staff replies and
follow-ups): the tick moves each sending broadcast's due recipients into jobs (only as many as 10 s of
sending, across all broadcasts, so a backlog waits in Redis, not in RQ), starts scheduled ones, expires
late ones, and marks one sent when every recipient has an outcome. A job sends one recipient's text at
most once, re-reading what may have changed (a STOP, a staff hold, the weekly cap, their send hours, a
cancel): a worker killed mid-broadcast loses nothing (its job runs again and finds the record)."""
from redis import WatchError

from flows import schedule
from flows.templates import described
from service import broadcasts as service_broadcasts, channels, queues
from service.phone import recipient_zones
from service.store import broadcasts, contacts, daily, followups, inbox, keys, messages, people
from service.store.broadcasts import Status
from service.store.messages import Kind, OutState
from workers.delivery import deliver
from workers.runtime import Runtime

BACKLOG_SECONDS = 10
LAST_BROADCAST = "last_bc"  # contact field: "id|when" of the latest broadcast text sent to them (replies, opt-outs)


def message_id(bid: str, pk: str) -> str:
    return f"bc_{bid}_{pk}"


def dispatch(rt: Runtime) -> int:
    """One tick over the active broadcasts; how many recipients were handed to workers."""
    r, now = rt.svc.redis, rt.svc.now()
    room = rt.svc.config.send_rate_per_second * BACKLOG_SECONDS - queues.waiting(r, queues.BULK)
    moved = 0
    for bid in broadcasts.active(r):
        b = broadcasts.get(r, bid)
        if b is None or b.status not in (Status.SCHEDULED, Status.SENDING):
            continue
        if b.expires_at is not None and now >= b.expires_at:
            broadcasts.stop(r, bid, Status.EXPIRED, now)
            continue
        if b.status is Status.SCHEDULED and now >= b.send_at:
            pipe = r.pipeline()
            broadcasts.set_status(pipe, bid, Status.SENDING)
            pipe.execute()
        taken = broadcasts.take_due(r, bid, now, room - moved)
        broadcasts.hand_over(r, bid, taken, now)
        queues.enqueue_broadcast(r, [f"{bid}:{pk}" for pk, _ in taken], now)
        broadcasts.remove_dispatched(r, bid, taken)
        moved += len(taken)
        _maybe_done(r, b)
    return moved


def _maybe_done(r, b) -> None:
    finished = sum(v for k, v in broadcasts.get(r, b.id).counts.items() if k.startswith("out:"))
    if broadcasts.waiting(r, b.id) == 0 and broadcasts.in_flight(r, b.id) == 0 and \
            finished >= b.counts.get("recipients", 0) and b.status is Status.SENDING:
        pipe = r.pipeline()
        broadcasts.set_status(pipe, b.id, Status.SENT)
        pipe.execute()


def send(rt: Runtime, arg: str) -> str:
    bid, pk = arg.split(":", 1)
    mid = message_id(bid, pk)
    if messages.exists(rt.svc.redis, mid):  # made by a run that died before sending: send it now, once
        return _deliver(rt, bid, pk, mid)
    outcome = _prepare(rt, bid, pk, mid)
    if outcome == "queued":
        return _deliver(rt, bid, pk, mid)
    return outcome


def _deliver(rt: Runtime, bid: str, pk: str, mid: str) -> str:
    state = deliver(rt, mid)
    if state in (OutState.SENDING, OutState.SKIPPED) and not messages.exists(rt.svc.redis, mid):
        # erased while the send waited for its slot: the record that would have counted its outcome went
        # with them, so it is counted here (else the broadcast would never finish)
        pipe = rt.svc.redis.pipeline()
        broadcasts.outcome(pipe, bid, pk, "out:skipped")
        pipe.execute()
    return state.value


def _prepare(rt: Runtime, bid: str, pk: str, mid: str) -> str:
    """Check and write the message record in one WATCHed transaction (a STOP landing meanwhile wins)."""
    svc = rt.svc
    with svc.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(keys.of(pipe).contact(pk))
                outcome, write = _check(rt, pipe, bid, pk, mid)
                pipe.multi()
                write(pipe)
                pipe.execute()
                return outcome
            except WatchError:
                continue


def _check(rt: Runtime, r, bid: str, pk: str, mid: str):
    svc, now = rt.svc, rt.svc.now()
    if messages.exists(r, mid):  # another worker made it meanwhile (its send is no reason to hold this)
        return "queued", lambda pipe: None
    cfg = svc.current_config()
    b = broadcasts.get(r, bid)
    contact = contacts.read(r, svc.vault, pk)
    if b is None or b.status in broadcasts.STOPPED or contact is None:
        return "skipped", lambda pipe: broadcasts.outcome(pipe, bid, pk, "out:skipped") if b else None
    sent = schedule.recent_sends(followups.sent_times(r, pk), now)
    held = service_broadcasts.held_now(r, pk, contact, cfg.send_rules(), sent, now, templated=b.template is not None)
    if held:
        return "held", lambda pipe: broadcasts.outcome(pipe, bid, pk, f"held:{held}", "out:held")
    zones = recipient_zones(contact.number, cfg.timezone)
    if not contact.simulated and not schedule.in_window(cfg.send_rules(), zones, now):
        due = schedule.send_time(cfg.send_rules(), zones, now, f"{bid}:{pk}")
        return "deferred", lambda pipe: broadcasts.defer(pipe, bid, pk, due)
    text = service_broadcasts.text_for(svc.flows(), b, contact.language or svc.flows().program.default_language)

    def write(pipe):
        day = "" if contact.simulated else daily.day_of(now, cfg.timezone)
        content = None if channels.free_form_allowed(contact.number, contact.last_message_at, now) \
            else service_broadcasts.content_of(svc.flows(), b)
        messages.create(pipe, svc.vault, mid, contact.number, text, Kind.BROADCAST, pk, now, contact.simulated, day, bid,
                        content=content)
        shown = described(content) if content else text
        people.record_exchange(pipe, svc.vault, pk, [("out", shown, mid, f"broadcast/{bid}")], now,
                               frozenset((shown,)))  # the same for everyone it goes to: stored once
        pipe.hset(keys.of(pipe).contact(pk), mapping={followups.SENT: " ".join(map(str, (*sent, int(now)))),  # the weekly cap
                                             LAST_BROADCAST: f"{bid}|{int(now)}"})
        inbox.changed(pipe)
    return "queued", write


