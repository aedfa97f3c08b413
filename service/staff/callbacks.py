"""Crises and call backs (staff): one card per person, oldest first, crises on top. A crisis card shows
the text and what we answered, an audited reveal of the number (then a tel: link and the reply box),
notes, and Resolve with an outcome; a call back card shows the promised time (overdue highlighted),
claim, release, an outcome picked on purpose (and confirmed), notes with author and time; closed call
backs stay listed for the day and the week with their outcome and notes."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from flows.hours import callback_due
from service import handoff
from service.channels import mask
from service.runtime import services
from service.staff.auth import require
from service.staff.crises import OUTCOMES as CRISIS_OUTCOMES
from service.store import accounts, callbacks, crises, keys, notes, people
from service.store.accounts import Role
from service.store.callbacks import Callback, CallbackState
from service.store.crises import CrisisOutcome

bp = Blueprint("callbacks", __name__, url_prefix="/staff")
OUTCOMES = {CallbackState.REACHED: "Reached them", CallbackState.NO_ANSWER: "No answer (back in the queue)",
            CallbackState.WRONG_NUMBER: "Wrong number"}
MAX_NOTE = 2000


@dataclass
class Card:
    """Everything open about one person: their crisis messages and their call back, as one item."""
    person: str
    phone: str
    since: float
    crises: list = field(default_factory=list)
    callback: Callback | None = None
    notes: list = field(default_factory=list)
    promised: float | None = None
    overdue: bool = False


@bp.get("/callbacks")
@require(Role.STAFF)
def queue():
    return _render_queue()


def _render_queue(revealed: str | None = None, errors: dict | None = None, status: int = 200):
    svc = services()
    cards, test_cards = _cards(svc), _cards(svc, simulated=True)
    now = datetime.fromtimestamp(svc.now(), svc.config.timezone)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    closed = callbacks.closed_since(svc.redis, svc.vault, week.timestamp())
    return render_template("staff/callbacks.html", cards=cards, test_cards=test_cards, now=svc.now(), mask=mask, revealed=revealed,
                           outcomes=OUTCOMES, crisis_outcomes=CRISIS_OUTCOMES, errors=errors or {},
                           closed_today=[c for c in closed if c.closed_at >= today.timestamp()],
                           closed_week=[c for c in closed if c.closed_at < today.timestamp()]), status


def _cards(svc, simulated: bool = False) -> list[Card]:
    """Open crises and waiting call backs, one card per person; `simulated`: the simulator's (TEST)."""
    cards: dict[str, Card] = {}
    for crisis in crises.open_crises(svc.redis, svc.vault, simulated):
        card = cards.setdefault(crisis.person, Card(crisis.person, "", crisis.created_at))
        card.crises.append({"id": crisis.id, "sid": crisis.id, "person": crisis.person, "body": crisis.body,
                            "created_at": crisis.created_at, "texts": crisis.texts, "claimed_by": crisis.claimed_by,
                            "answered": _answered(svc, crisis.person, crisis.id)})
    for cb in callbacks.waiting(svc.redis, svc.vault, simulated=simulated):
        card = cards.setdefault(cb.person, Card(cb.person, cb.phone, cb.created_at))
        card.callback, card.phone = cb, cb.phone
        config = svc.current_config()
        due = callback_due(datetime.fromtimestamp(cb.created_at, config.timezone), config.business_hours,
                           config.callback_within_minutes)
        card.promised = due.timestamp() if due else None
        card.overdue = card.promised is not None and svc.now() > card.promised
    for card in cards.values():
        card.phone = card.phone or (people.phone_of(svc.redis, svc.vault, card.person) or "")
        card.notes = notes.of(svc.redis, svc.vault, card.person)
    return sorted(cards.values(), key=lambda c: (not c.crises, c.since))


def _answered(svc, person: str, sid: str) -> list[str]:
    """What we texted back to the crisis message (its replies carry the message's sid)."""
    prefix = sid + "/"
    return [m["body"] for m in people.transcript(svc.redis, svc.vault, person)
            if m["dir"] == "out" and str(m.get("sid", "")).startswith(prefix)]


@bp.post("/callbacks/<callback_id>/claim")
@require(Role.STAFF)
def claim(callback_id):
    svc = services()
    if not callbacks.claim_callback(svc.redis, callback_id, g.account.email, svc.now()):
        flash("Someone else claimed that call back first.")
    else:
        accounts.audit(svc.redis, g.account.email, "claim_callback", callback_id, now=svc.now())
    return redirect(url_for(".queue"))


@bp.post("/callbacks/<callback_id>/release")
@require(Role.STAFF)
def release(callback_id):
    svc = services()
    if callbacks.release_claim(svc.redis, callback_id, g.account.email):
        accounts.audit(svc.redis, g.account.email, "release_callback", callback_id, now=svc.now())
        flash("Released: the call back is waiting for anyone again.")
    else:
        flash("That call back is not claimed by you (any more).")
    return redirect(url_for(".queue"))


@bp.post("/people/<pk>/reveal")
@require(Role.STAFF)
def reveal(pk):
    """Numbers stay masked until a staff member asks; every reveal is audited."""
    svc = services()
    if people.phone_of(svc.redis, svc.vault, pk) is None:
        abort(404, "no such person (or their data was deleted)")
    accounts.audit(svc.redis, g.account.email, "reveal_number", pk, now=svc.now())
    handoff.touch(svc, pk, g.account.email)
    return _render_queue(revealed=pk)  # shown in this answer only; a reload masks it again


@bp.post("/callbacks/<callback_id>/outcome")
@require(Role.STAFF)
def outcome(callback_id):
    svc = services()
    try:
        result = CallbackState(request.form.get("outcome", ""))
    except ValueError:
        result = None
    if result not in OUTCOMES:
        return _render_queue(errors={callback_id: "Pick what happened on the call."}, status=422)
    try:
        recorded = callbacks.record_outcome(svc.redis, svc.vault, callback_id, g.account.email, result,
                                            request.form.get("note", "").strip()[:MAX_NOTE], svc.now(),
                                            svc.config.retention_seconds)
    except KeyError:
        abort(404, "no such call back")
    if not recorded:
        flash("Not recorded: that call back is not claimed by you (any more: closed, released or claimed by a "
              "colleague). The list below is as it is now.")
        return _render_queue(status=409)
    accounts.audit(svc.redis, g.account.email, "callback_outcome", f"{callback_id} {result.value}", now=svc.now())
    return redirect(url_for(".queue"))


@bp.post("/crisis/<flag_id>/resolve")
@require(Role.STAFF)
def resolve(flag_id):
    svc = services()
    try:
        result = CrisisOutcome(request.form.get("outcome", ""))
    except ValueError:
        return _render_queue(errors={flag_id: "Pick how the crisis ended."}, status=422)
    note = request.form.get("note", "").strip()[:MAX_NOTE]
    if result is CrisisOutcome.OTHER and not note:
        return _render_queue(errors={flag_id: "Say what happened in the note."}, status=422)
    person = svc.redis.hget(keys.of(svc.redis).crisis_flag(flag_id), "person")
    if not crises.resolve(svc.redis, flag_id, g.account.email, svc.now(), svc.config.retention_seconds, result):
        if person is None:
            abort(404, "no such open crisis message")
        return _render_queue(errors={flag_id: "Not resolved: a colleague owns this crisis, or it was resolved "
                                              "meanwhile."}, status=409)
    if person and note:
        pipe = svc.redis.pipeline()
        notes.add(pipe, svc.vault, person.decode(), g.account.email, note, svc.now(), f"crisis: {result.value}")
        pipe.execute()
    accounts.audit(svc.redis, g.account.email, "resolve_crisis", f"{flag_id} {result.value}", now=svc.now())
    return redirect(url_for(".queue"))
