"""One person's conversation (masked), consent history, export and erasure (admin)."""
import json

from flask import Blueprint, Response, abort, g, redirect, url_for

from service.erase import erase_person
from service.runtime import services
from service.staff import display
from service.staff.auth import require
from service.store import accounts, followups, notes, people
from service.store.accounts import Role

bp = Blueprint("people", __name__, url_prefix="/staff/people")


def _person(pk: str) -> dict:
    svc = services()
    phone = people.phone_of(svc.redis, svc.vault, pk)
    if phone is None:
        abort(404, "no such person")
    return {"pk": pk, "phone": phone, "consent": people.consent_of(svc.redis, pk).value,
            "history": people.consent_history(svc.redis, pk), "transcript": people.transcript(svc.redis, svc.vault, pk),
            "pending": followups.everything_pending(svc.redis, pk), "language": display.language_of(svc, pk)}


@bp.get("/")
@require(Role.STAFF)
def index():
    return redirect(url_for("inbox.index"))


@bp.get("/<pk>")
@require(Role.STAFF)
def show(pk):
    """The conversation page lives in the inbox now."""
    return redirect(url_for("inbox.conversation", pk=pk))


@bp.post("/<pk>/export")
@require(Role.ADMIN)
def export(pk):
    person = _person(pk)
    svc = services()
    accounts.audit(svc.redis, g.account.email, "export_person", pk, now=svc.now())
    return Response(json.dumps(_exported(person, notes.of(svc.redis, svc.vault, pk)), indent=2, ensure_ascii=False),
                    mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=person-{pk}.json"})


def _exported(person: dict, staff_notes: list[dict]) -> dict:
    """What an export holds, with ISO 8601 times in the center's zone."""
    def timed(entries):
        return [{**e, "at": display.iso(e.get("at"))} for e in entries]
    return {**person, "transcript": timed(person["transcript"]), "history": timed(person["history"]),
            "notes": timed(staff_notes)}


@bp.post("/<pk>/delete")
@require(Role.ADMIN)
def delete(pk):
    """Erase every record of a person (their texts at Twilio too, by a worker); an opted-out person stays
    opted out, and the consent trail keeps when and which word, never which message."""
    svc = services()
    erase_person(svc, pk)
    accounts.audit(svc.redis, g.account.email, "delete_person", pk, now=svc.now())
    return redirect(url_for("callbacks.queue"))
