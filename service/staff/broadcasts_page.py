"""Broadcasts in the console (admins and staff send; ops look): the list, a new broadcast with its text
per language and live segment counters, the group (or everyone with consent) and the time, an exact
preview (who gets it, who is held back and why) before anything is sent, and each broadcast's live
funnel with Cancel and Resend to failed."""
from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from service import broadcasts as rules
from service.contacts import Refused
from service.runtime import services
from service.staff.auth import require
from service.store import accounts, broadcasts, contacts
from service.store.accounts import Role

bp = Blueprint("broadcasts", __name__, url_prefix="/staff/broadcasts")


@bp.get("/")
@require(None)
def index():
    if not g.account.may(Role.STAFF) and not g.account.may(Role.OPS):
        abort(403)
    svc = services()
    return render_template("staff/broadcasts.html", items=broadcasts.recent(svc.redis), view=_view)


def _view(b):
    return rules.view(b, services().config.timezone)


def _form_data() -> dict:
    svc = services()
    flows = svc.flows()
    texts = {lang: request.form.get(f"text.{lang}", "") for lang in flows.program.languages}
    data = {"text": {k: v for k, v in texts.items() if v.strip()}}
    audience = request.form.get("audience", "")
    if audience == "all":
        data["all"] = True
    elif audience:
        data["group"] = audience
    for name in ("send_at", "expires_at"):
        local = request.form.get(name, "").strip()
        if local:
            try:
                data[name] = datetime.fromisoformat(local).replace(tzinfo=svc.config.timezone).isoformat()
            except ValueError:
                data[name] = local
    return data


def _new_page(status: int = 200, **extra):
    svc = services()
    flows = svc.flows()
    return render_template("staff/broadcast_new.html", languages=flows.program.languages,
                           groups=contacts.group_sizes(svc.redis), form=request.form,
                           plain_spanish=flows.program.plain_spanish, zone=svc.config.timezone.key, **extra), status


@bp.get("/new")
@require(Role.STAFF)
def new():
    return _new_page()


@bp.post("/new")
@require(Role.STAFF)
def preview_or_send():
    """"Preview" shows the exact counts; "Send" (after a preview of the same form) creates it."""
    svc = services()
    try:
        req = rules.request_from(_form_data(), svc, svc.now())
    except Refused as refused:
        return _new_page(422, error=str(refused), error_field=refused.field)
    if request.form.get("action") != "send":
        planned = rules.preview(svc, req, svc.now())
        return _new_page(preview={"recipients": len(planned.due), "held": planned.held})
    b = rules.create(svc, req, g.account.email, svc.now())
    accounts.audit(svc.redis, g.account.email, "create_broadcast",
                   f"{b.id} to {b.group or 'all'}: {b.counts.get('recipients', 0)} recipients", now=svc.now())
    flash(f"Broadcast {'scheduled' if b.status is broadcasts.Status.SCHEDULED else 'sending'} to "
          f"{b.counts.get('recipients', 0)} people.")
    return redirect(url_for(".show", bid=b.id))


@bp.get("/<bid>")
@require(None)
def show(bid):
    svc = services()
    b = broadcasts.get(svc.redis, bid)
    if b is None:
        abort(404, "no such broadcast")
    return render_template("staff/broadcast.html", b=b, v=_view(b),
                           may_send=g.account.may(Role.STAFF), waiting=broadcasts.waiting(svc.redis, bid))


@bp.post("/<bid>/cancel")
@require(Role.STAFF)
def cancel(bid):
    svc = services()
    b = rules.cancel(svc, bid)
    if b is None:
        abort(404, "no such broadcast")
    accounts.audit(svc.redis, g.account.email, "cancel_broadcast", bid, now=svc.now())
    flash("Canceled: nothing more of it goes out.")
    return redirect(url_for(".show", bid=bid))


@bp.post("/<bid>/resend-failed")
@require(Role.STAFF)
def resend_failed(bid):
    svc = services()
    b = rules.resend_failed(svc, bid, g.account.email)
    if b is None:
        abort(404, "no such broadcast")
    accounts.audit(svc.redis, g.account.email, "resend_failed", f"{bid} -> {b.id}", now=svc.now())
    flash(f"Sending again to the {b.counts.get('recipients', 0)} people whose text failed.")
    return redirect(url_for(".show", bid=b.id))
