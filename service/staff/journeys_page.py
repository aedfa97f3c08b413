"""Journeys (admins): each published journey with its date field, group, events in plain words and how
many events are planned now; a journey's document edited as YAML into the flows' draft (published with
the flows, in their history, diff and export)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from flows.source import load_yaml
from service.runtime import services
from service.staff import flows as flow_pages
from service.staff.auth import require
from service.store import journeys
from service.store.accounts import Role

bp = Blueprint("journeys", __name__, url_prefix="/staff/journeys")
MAX_DOC = 64 * 1024


@bp.get("/")
@require(Role.ADMIN)
def index():
    svc = services()
    flowset = svc.flows()
    return render_template("staff/journeys.html", journeys=flowset.journeys, fields=flowset.program.fields,
                           pending=journeys.pending_by_journey(svc.redis), describe=describe)


def describe(event) -> str:
    """"1 day before, at 10:00: a text" / "2 hours before: the confirm conversation"."""
    seconds = event.offset.total_seconds()
    amount, unit = next((abs(seconds) / size, name) for size, name in ((7 * 86400, "week"), (86400, "day"),
                                                                       (3600, "hour"), (60, "minute"))
                        if abs(seconds) % size == 0 and abs(seconds) >= size) if seconds else (0, "")
    when = "at the moment itself" if not seconds else \
        f"{int(amount)} {unit}{'s' if amount != 1 else ''} {'before' if seconds < 0 else 'after'}"
    at = f", at {event.at.strftime('%H:%M')} their time" if event.at else ""
    return f"{when}{at}: " + (f"the {event.flow} conversation" if event.flow else "a text")


@bp.route("/<name>", methods=["GET", "POST"])
@require(Role.ADMIN)
def edit(name):
    docs, origin = flow_pages.working()
    file = f"{name}.yaml"
    if file not in docs or "journey" not in (load_yaml(docs[file]) or {}):
        abort(404, "no such journey in the working version")
    if request.method == "GET":
        return render_template("staff/journey_edit.html", name=name, text=docs[file], origin=origin, problems=[])
    text = request.form.get("text", "")[:MAX_DOC]
    changed = {**docs, file: text}
    problems = [p.message if getattr(p, "file", "") == file else str(p) for p in flow_pages.load_problems(changed)]
    if problems:
        return render_template("staff/journey_edit.html", name=name, text=text, origin=origin, problems=problems), 422
    flow_pages.save_draft(changed, "edit_journey")
    flash(f"Journey {name} saved in the draft: publish it on the Flows page.")
    return redirect(url_for("flows.index"))


