"""Call backs queue and crisis flags (staff)."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from service.phone import mask
from service.runtime import services
from service.staff.auth import require
from service.store import accounts, callbacks
from service.store.accounts import Role
from service.store.callbacks import CallbackState

bp = Blueprint("callbacks", __name__, url_prefix="/staff")
OUTCOMES = (CallbackState.REACHED, CallbackState.NO_ANSWER, CallbackState.WRONG_NUMBER)


@bp.get("/callbacks")
@require(Role.STAFF)
def queue():
    return _render_queue(revealed=None)


def _render_queue(revealed: str | None):
    svc = services()
    items = callbacks.waiting(svc.redis, svc.vault)
    return render_template("staff/callbacks.html", items=items, now=svc.now(), mask=mask, revealed=revealed,
                           outcomes=OUTCOMES, flags=callbacks.crisis_flags(svc.redis, svc.vault))


@bp.post("/callbacks/<callback_id>/claim")
@require(Role.STAFF)
def claim(callback_id):
    svc = services()
    if not callbacks.claim_callback(svc.redis, callback_id, g.account.email, svc.now()):
        flash("Someone else claimed that call back first.")
    return redirect(url_for(".queue"))


@bp.post("/callbacks/<callback_id>/reveal")
@require(Role.STAFF)
def reveal(callback_id):
    """Numbers stay masked until a staff member asks; every reveal is audited."""
    svc = services()
    if callbacks.get(svc.redis, svc.vault, callback_id) is None:
        abort(404, "no such call back")
    accounts.audit(svc.redis, g.account.email, "reveal_number", f"callback {callback_id}", now=svc.now())
    return _render_queue(revealed=callback_id)  # shown in this answer only; a reload masks it again


@bp.post("/callbacks/<callback_id>/outcome")
@require(Role.STAFF)
def outcome(callback_id):
    svc = services()
    try:
        result = CallbackState(request.form.get("outcome", ""))
    except ValueError:
        abort(400, "outcome must be reached, no_answer or wrong_number")
    if result not in OUTCOMES:
        abort(400, "outcome must be reached, no_answer or wrong_number")
    try:
        callbacks.record_outcome(svc.redis, svc.vault, callback_id, g.account.email, result,
                                 request.form.get("note", "")[:2000], svc.now(), svc.config.retention_seconds)
    except KeyError:
        abort(404, "no such call back")
    return redirect(url_for(".queue"))


@bp.post("/crisis/<flag_id>/resolve")
@require(Role.STAFF)
def resolve(flag_id):
    svc = services()
    if not callbacks.resolve_crisis(svc.redis, flag_id, g.account.email, svc.now(),
                                   svc.config.retention_seconds):
        abort(404, "no such open crisis message")
    accounts.audit(svc.redis, g.account.email, "resolve_crisis", flag_id, now=svc.now())
    return redirect(url_for(".queue"))
