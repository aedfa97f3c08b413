"""Contacts (staff look and edit one; admins import): everyone the center knows beyond their texts,
searchable by the last 4 digits and filtered by group; a contact's page with their fields, groups,
consent and its history, and the journey events planned for them; a CSV import that previews every bad
row before anything is written."""
import secrets

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from flows import fields
from service import contact_import
from service import contacts as rules
from service.channels import mask
from service.phone import recipient_zones
from service.runtime import services
from service.staff.auth import require
from service.store import accounts, contacts, journeys, keys, people
from service.store.accounts import Role
from service.store.journeys import EventId

bp = Blueprint("contacts", __name__, url_prefix="/staff/contacts")
PAGE = 50
SEARCH_LIMIT = 5000
MAX_UPLOAD = 16 * 1024 * 1024
UPLOAD_TTL = 3600


@bp.get("/")
@require(Role.STAFF)
def index():
    svc = services()
    search = "".join(c for c in request.args.get("q", "") if c.isdigit())[-4:]
    group = request.args.get("group", "").strip().lower()
    raw = request.args.get("p", "1")
    number = max(1, int(raw)) if raw.isdecimal() and len(raw) <= 6 else 1
    pks, total = _listing(svc, search, group, number)
    rows = [c for c in (contacts.read(svc.redis, svc.vault, pk) for pk in pks) if c is not None]
    planned = {c.pk: len(journeys.planned_of(svc.redis, c.pk)) for c in rows}
    return render_template("staff/contacts.html", rows=rows, planned=planned, total=total, page=number,
                           pages=max(1, -(-total // PAGE)), q=search, group=group,
                           groups=contacts.group_sizes(svc.redis), mask=mask)


def _listing(svc, search: str, group: str, number: int) -> tuple[list[str], int]:
    r = svc.redis
    if not search and not group:
        return contacts.known(r, (number - 1) * PAGE, PAGE)
    ordered, _ = contacts.known(r, 0, SEARCH_LIMIT)
    if group:
        members = contacts.members(r, group)
        ordered = [pk for pk in ordered if pk in members]
    if search:
        pipe = r.pipeline(transaction=False)
        for pk in ordered:
            pipe.hget(keys.of(r).contact(pk), "phone")
        ordered = [pk for pk, phone in zip(ordered, pipe.execute()) if phone and svc.vault.decrypt(phone).endswith(search)]
    return ordered[(number - 1) * PAGE:number * PAGE], len(ordered)


@bp.get("/<pk>")
@require(Role.STAFF)
def show(pk):
    return _contact_page(pk)


def _contact_page(pk: str, status: int = 200, error: str = "", field: str = ""):
    svc = services()
    contact = contacts.read(svc.redis, svc.vault, pk)
    if contact is None:
        abort(404, "no such contact (or their data was deleted)")
    accounts.audit(svc.redis, g.account.email, "view_contact", pk, now=svc.now())
    flows = svc.flows()
    zone = recipient_zones(contact.number, svc.config.timezone)[0]
    language = contact.language or flows.program.default_language
    shown = {name: fields.display(flows.program.fields[name], value, zone, language, flows.languages) if name in flows.program.fields
             else value for name, value in contact.fields.items()}
    return render_template("staff/contact.html", contact=contact, shown=shown, declared=flows.program.fields,
                           languages=flows.program.languages, history=people.consent_history(svc.redis, pk),
                           events=_events(svc, pk, flows), mask=mask, error=error, error_field=field,
                           zone=zone.key), status


def _events(svc, pk: str, flows) -> list[dict]:
    """The contact's planned journey events, soonest first, said plainly."""
    planned = journeys.planned_of(svc.redis, pk)
    due = journeys.due_times(svc.redis, planned)
    out = []
    for eid in planned:
        ev = EventId.parse(eid)
        journey = flows.journeys.get(ev.journey)
        event = journey.events[ev.event] if journey and ev.event < len(journey.events) else None
        what = (f"starts the {event.flow} conversation" if event.flow else "a text") if event else "(no longer published)"
        out.append({"journey": ev.journey, "number": ev.event + 1, "what": what, "due": due.get(eid)})
    return sorted(out, key=lambda e: e["due"] or 0)


@bp.post("/<pk>")
@require(Role.STAFF)
def change(pk):
    """Staff set a contact's fields, groups and language (the API's rules; journeys replanned)."""
    svc = services()
    contact = contacts.read(svc.redis, svc.vault, pk)
    if contact is None:
        abort(404, "no such contact (or their data was deleted)")
    flows = svc.flows()
    data = {"fields": {name: request.form.get(f"field.{name}", "").strip() or None for name in flows.program.fields},
            "groups": request.form.get("groups", ""), "language": request.form.get("language", "")}
    try:
        outcome, _ = rules.apply(svc, contact.number, rules.change_from(data, flows.program.fields,
                                                                        flows.program.languages), svc.now())
    except rules.Refused as refused:
        return _contact_page(pk, 422, str(refused), refused.field)
    accounts.audit(svc.redis, g.account.email, "change_contact", f"{pk} {outcome.value}", now=svc.now())
    flash("Saved: their journeys were planned again." if outcome is not rules.Outcome.UNCHANGED else "Nothing changed.")
    return redirect(url_for(".show", pk=pk))


@bp.get("/import")
@require(Role.ADMIN)
def import_form():
    return render_template("staff/contacts_import.html", report=None, declared=services().flows().program.fields)


@bp.post("/import")
@require(Role.ADMIN)
def import_preview():
    svc = services()
    upload = request.files.get("file")
    text = _read_upload(upload)
    if text is None:
        return render_template("staff/contacts_import.html", report=None, declared=svc.flows().program.fields,
                               error="Choose a CSV file saved as UTF-8 (from a spreadsheet: CSV UTF-8)."), 422
    report = contact_import.run(svc, text, commit=False)
    iid = secrets.token_urlsafe(16)
    svc.redis.set(keys.of(svc.redis).contact_import(iid), svc.vault.encrypt(text), ex=UPLOAD_TTL)
    return render_template("staff/contacts_import.html", report=report, iid=iid, declared=svc.flows().program.fields,
                           name=upload.filename)


def _read_upload(upload) -> str | None:
    if upload is None or not upload.filename:
        return None
    raw = upload.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


@bp.post("/import/<iid>")
@require(Role.ADMIN)
def import_commit(iid):
    svc = services()
    token = svc.redis.getdel(keys.of(svc.redis).contact_import(iid))
    if token is None:
        flash("That preview expired (an hour) or was imported already: upload the file again.")
        return redirect(url_for(".import_form"))
    report = contact_import.run(svc, svc.vault.decrypt(token), commit=True)
    accounts.audit(svc.redis, g.account.email, "import_contacts",
                   f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged", now=svc.now())
    return render_template("staff/contacts_import.html", report=report, committed=True,
                           declared=svc.flows().program.fields)
