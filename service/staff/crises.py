"""Working a crisis (staff), on the person's conversation page: claim it (two staff can't both hold
it), release it, and resolve it with a plain-language outcome (and a note, required for "Other"), with
a confirmation. Every action is audited; a refused one (a colleague holds it, it was resolved or
erased meanwhile) says so and changes nothing."""
from flask import Blueprint, abort, flash, g, redirect, request, url_for

from service import queues
from service.runtime import services
from service.staff.auth import require
from service.store import accounts, crises, notes
from service.store.accounts import Role
from service.store.crises import CrisisOutcome

bp = Blueprint("crises", __name__, url_prefix="/staff/crises")
OUTCOMES = {CrisisOutcome.REACHED_SAFE: "We reached them and they are safe",
            CrisisOutcome.ADVISED_911: "We told them to call 911 (or called it)",
            CrisisOutcome.NO_ANSWER: "We could not reach them",
            CrisisOutcome.OTHER: "Something else (say what in the note)"}
MAX_NOTE = 2000


def _crisis(flag_id: str) -> crises.Crisis:
    svc = services()
    crisis = crises.get(svc.redis, svc.vault, flag_id)
    if crisis is None:
        abort(404, "no such crisis (or the person's data was deleted)")
    return crisis


def _back(crisis: crises.Crisis, status: int = 200):
    """Done: back to the conversation page. Refused: that page as it is now, with why, and the status."""
    if status == 200:
        return redirect(url_for("inbox.conversation", pk=crisis.person) + "#crisis")
    from service.staff.inbox import page
    return page(crisis.person, status)


@bp.post("/<flag_id>/claim")
@require(Role.STAFF)
def claim(flag_id):
    svc, crisis = services(), _crisis(flag_id)
    if crises.claim(svc.redis, flag_id, g.account.email, svc.now()):
        accounts.audit(svc.redis, g.account.email, "claim_crisis", flag_id, now=svc.now())
        flash("You own this crisis now: colleagues see your name on it.")
        return _back(crisis)
    current = crises.get(svc.redis, svc.vault, flag_id)
    flash(f"Not claimed: {_why_not(current)}")
    return _back(crisis, 409)


@bp.post("/<flag_id>/release")
@require(Role.STAFF)
def release(flag_id):
    svc, crisis = services(), _crisis(flag_id)
    if crises.release(svc.redis, flag_id, g.account.email):
        accounts.audit(svc.redis, g.account.email, "release_crisis", flag_id, now=svc.now())
        flash("Released: the crisis is open for anyone to claim.")
        return _back(crisis)
    flash("Not released: this crisis is not yours (any more).")
    return _back(crisis, 409)


@bp.post("/<flag_id>/resolve")
@require(Role.STAFF)
def resolve(flag_id):
    svc, crisis = services(), _crisis(flag_id)
    try:
        outcome = CrisisOutcome(request.form.get("outcome", ""))
    except ValueError:
        flash("Not resolved: pick how the crisis ended.")
        return _back(crisis, 422)
    note = request.form.get("note", "").strip()[:MAX_NOTE]
    if outcome is CrisisOutcome.OTHER and not note:
        flash("Not resolved: say what happened in the note.")
        return _back(crisis, 422)
    if not crises.resolve(svc.redis, flag_id, g.account.email, svc.now(), svc.config.retention_seconds, outcome):
        flash(f"Not resolved: {_why_not(crises.get(svc.redis, svc.vault, flag_id))}")
        return _back(crisis, 409)
    if note:
        pipe = svc.redis.pipeline()
        notes.add(pipe, svc.vault, crisis.person, g.account.email, note, svc.now(), "crisis")
        pipe.execute()
    accounts.audit(svc.redis, g.account.email, "resolve_crisis", f"{flag_id} {outcome.value}", now=svc.now())
    queues.enqueue_replan(svc.redis, crisis.person)  # the journeys the crisis cancelled, from what stands now
    flash(f"Crisis resolved: {OUTCOMES[outcome]}. The bot talks with them as usual again; it is in their history below.")
    return _back(crisis)


def _why_not(current: crises.Crisis | None) -> str:
    if current is None:
        return "the person's data was deleted."
    if current.resolved_at:
        return f"{current.resolved_by} resolved it already."
    if current.claimed_by:
        return f"{current.claimed_by} owns it. Ask them, or wait until they release it."
    return "it changed meanwhile; this is how it is now."
