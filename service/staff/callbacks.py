"""Callbacks queue and crisis flags (staff), and the ops summary page (ops)."""
import time

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from service import accounts, callbacks, followups
from service.accounts import Role
from service.callbacks import CallbackState
from service.context import services
from service.health import readiness
from service.phone import mask
from service.staff.auth import require

bp = Blueprint("callbacks", __name__, url_prefix="/staff")
OUTCOMES = (CallbackState.REACHED, CallbackState.NO_ANSWER, CallbackState.WRONG_NUMBER)


@bp.get("/callbacks")
@require(Role.STAFF)
def queue():
    svc = services()
    items = callbacks.waiting(svc.redis, svc.vault)
    revealed = request.args.get("reveal")
    return render_template("staff/callbacks.html", items=items, now=time.time(), mask=mask, revealed=revealed,
                           outcomes=OUTCOMES, flags=callbacks.crisis_flags(svc.redis, svc.vault))


@bp.post("/callbacks/<callback_id>/claim")
@require(Role.STAFF)
def claim(callback_id):
    if not callbacks.claim(services().redis, callback_id, g.account.email):
        flash("Someone else claimed that call back first.")
    return redirect(url_for(".queue"))


@bp.post("/callbacks/<callback_id>/reveal")
@require(Role.STAFF)
def reveal(callback_id):
    """Numbers stay masked until a staff member asks; every reveal is audited."""
    svc = services()
    if callbacks.get(svc.redis, svc.vault, callback_id) is None:
        abort(404, "no such call back")
    accounts.audit(svc.redis, g.account.email, "reveal_number", f"callback {callback_id}")
    return redirect(url_for(".queue", reveal=callback_id))


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
                                 request.form.get("note", "")[:2000])
    except KeyError:
        abort(404, "no such call back")
    return redirect(url_for(".queue"))


@bp.post("/crisis/<flag_id>/resolve")
@require(Role.STAFF)
def resolve(flag_id):
    callbacks.resolve_crisis(services().redis, flag_id, g.account.email)
    accounts.audit(services().redis, g.account.email, "resolve_crisis", flag_id)
    return redirect(url_for(".queue"))


@bp.get("/ops")
@require(Role.OPS)
def ops():
    from rq import Queue
    from rq.registry import FailedJobRegistry
    r = services().redis
    queues = [(name, Queue(name, connection=r)) for name in ("schedule", "alerts", "followups")]
    rows = [(name, q.count, FailedJobRegistry(queue=q).count) for name, q in queues]
    return render_template("staff/ops.html", checks=readiness(r), queues=rows, pending=r.zcard(followups.DUE),
                           waiting=r.zcard(callbacks.WAITING), flags=r.zcard(callbacks.CRISIS_OPEN))
