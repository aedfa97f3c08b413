"""One person's conversation (masked), consent history, export and deletion (admin)."""
import json
import time

from flask import Blueprint, Response, abort, g, redirect, render_template, url_for

from service import accounts, callbacks, followups, store
from service.accounts import Role
from service.context import services
from service.phone import mask
from service.staff.auth import require

bp = Blueprint("people", __name__, url_prefix="/staff/people")


def _person(pk: str) -> dict:
    svc = services()
    phone = svc.redis.hget(store.contact_key(pk), "phone")
    if phone is None:
        abort(404, "no such person")
    return {"pk": pk, "phone": svc.vault.decrypt(phone), "consent": store.consent_of(svc.redis, pk).value,
            "history": store.consent_history(svc.redis, pk), "transcript": store.transcript(svc.redis, svc.vault, pk),
            "pending": followups.pending_of(svc.redis, pk)}


@bp.get("/")
@require(Role.STAFF)
def index():
    svc = services()
    return render_template("staff/people.html", people=store.recent_contacts(svc.redis, svc.vault), mask=mask,
                           now=time.time())


@bp.get("/<pk>")
@require(Role.STAFF)
def show(pk):
    person = _person(pk)
    accounts.audit(services().redis, g.account.email, "view_conversation", pk)
    return render_template("staff/person.html", person=person, mask=mask)


@bp.post("/<pk>/export")
@require(Role.ADMIN)
def export(pk):
    person = _person(pk)
    accounts.audit(services().redis, g.account.email, "export_person", pk)
    return Response(json.dumps(person, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=person-{pk}.json"})


@bp.post("/<pk>/delete")
@require(Role.ADMIN)
def delete(pk):
    """Erase a person's messages, number, call backs, crisis flags and outbound texts (queued ones are then
    never sent); the consent audit trail stays, as proof that a STOP was honored."""
    svc = services()
    r = svc.redis
    pending = followups.pending_of(r, pk)
    records = [k.decode() for k in r.smembers(store.records_key(pk))]
    ids = [k.rsplit(":", 1)[1] for k in records]
    pipe = r.pipeline()
    followups.cancel(pipe, pk, pending)
    pipe.delete(store.transcript_key(pk), store.replies_key(pk), store.replies_key(pk, True),
                store.records_key(pk), *records)
    if ids:
        pipe.zrem(callbacks.WAITING, *ids)
        pipe.zrem(callbacks.CRISIS_OPEN, *ids)
    pipe.hdel(store.contact_key(pk), "phone", "open_callback")
    pipe.hset(store.contact_key(pk), "deleted", 1)
    pipe.zrem(store.RECENT, pk)
    pipe.execute()
    accounts.audit(r, g.account.email, "delete_person", pk)
    return redirect(url_for("callbacks.queue"))
