"""Callbacks queue and crisis flags (staff), and the ops summary page (ops)."""
import time

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from service import accounts, callbacks, followups
from service.accounts import Role
from service.callbacks import CallbackState
from service.context import services
from service.health import readiness
from service.phone import mask
from service.staff import opsview
from service.staff.auth import require

bp = Blueprint("callbacks", __name__, url_prefix="/staff")
OUTCOMES = (CallbackState.REACHED, CallbackState.NO_ANSWER, CallbackState.WRONG_NUMBER)


@bp.get("/callbacks")
@require(Role.STAFF)
def queue():
    return _render_queue(revealed=None)


def _render_queue(revealed: str | None):
    svc = services()
    items = callbacks.waiting(svc.redis, svc.vault)
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
                                 request.form.get("note", "")[:2000])
    except KeyError:
        abort(404, "no such call back")
    return redirect(url_for(".queue"))


@bp.post("/crisis/<flag_id>/resolve")
@require(Role.STAFF)
def resolve(flag_id):
    if not callbacks.resolve_crisis(services().redis, flag_id, g.account.email):
        abort(404, "no such open crisis message")
    accounts.audit(services().redis, g.account.email, "resolve_crisis", flag_id)
    return redirect(url_for(".queue"))


@bp.get("/ops")
@require(Role.OPS)
def ops():
    r = services().redis
    return render_template("staff/ops.html", checks=readiness(r), queues=opsview.queues(r),
                           workers=opsview.workers(r), failed=opsview.failed_jobs(r),
                           by_day=opsview.pending_by_day(r, services().config.timezone, time.time()),
                           pending=r.zcard(followups.DUE), waiting=r.zcard(callbacks.WAITING),
                           flags=r.zcard(callbacks.CRISIS_OPEN))


@bp.post("/ops/jobs/<job_id>/<action>")
@require(Role.OPS)
def job_action(job_id, action):
    """Requeue or delete a failed job; both are audited."""
    r = services().redis
    if action not in ("requeue", "delete"):
        abort(404, "unknown action")
    if not opsview.act_on_failed(r, job_id, action):
        abort(404, "no such failed job")
    accounts.audit(r, g.account.email, f"{action}_job", job_id)
    flash(f"Job {job_id}: {action} done.")
    return redirect(url_for(".ops"))
