"""Settings (admin): hours, closures, caps and on-call numbers, over the environment's defaults; audited."""
from datetime import datetime

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from flows import closures
from flows.source import load_yaml
from flows.loader import FlowError
from service.config import ConfigError, validate_overrides
from service.phone import InvalidNumber, to_e164
from service.runtime import services
from service.staff import flowforms
from service.staff.auth import require
from service.store import accounts, flowdocs, settings, setup
from service.store.accounts import Role

bp = Blueprint("settings", __name__, url_prefix="/staff/settings")
EDITABLE = {
    "BUSINESS_HOURS": "Business hours for call backs (e.g. Mon-Fri 09:00-17:00; Sat 10:00-14:00)",
    "SEND_HOURS": "Hours follow-ups may be delivered, in the recipient's time (e.g. Mon-Sun 09:00-20:00)",
    "CALLBACK_WITHIN_MINUTES": "Call back promise during business hours, in minutes",
    "REPLIES_PER_HOUR": "Replies per number per hour before going silent",
    "CRISIS_REPLIES_PER_HOUR": "Crisis replies per number per hour",
    "FOLLOWUPS_PER_WEEK": "Follow-ups per person per 7 days",
    "FOLLOWUP_HORIZON_DAYS": "Days after which an undelivered follow-up is dropped",
    "STAFF_ALERT_NUMBERS": "On-call numbers for CALL and crisis alerts, comma-separated",
    "CLOSURES": "Days the center is closed, one per line (e.g. 2026-12-25 Christmas Day): no call back is "
                "promised for them",
}
MULTILINE = {"CLOSURES"}


@bp.get("/")
@require(Role.ADMIN)
def page():
    svc = services()
    program = svc.flows().program
    return _render({**settings.overrides(svc.redis), "program": program.name, "phone": program.phone}, None)


@bp.post("/")
@require(Role.ADMIN)
def save():
    svc = services()
    values = {name: request.form.get(name, "") for name in EDITABLE}
    program = svc.flows().program
    values["program"] = request.form.get("program", program.name).strip()
    values["phone"] = request.form.get("phone", program.phone).strip()
    if "add_holidays" in request.form:  # nothing saved: the list is filled in to review, edit and save
        return _render({**values, "CLOSURES": _with_federal_holidays(values["CLOSURES"], svc)}, None,
                       note="The US federal holidays were added below. Remove any the center keeps open, then "
                            "Save settings.")
    try:
        kept = validate_overrides(svc.config, {k: values[k] for k in EDITABLE})  # both checked before either is written
        version = _publish_program(values["program"], values["phone"])
    except (ConfigError, FlowError) as exc:
        return _render(values, str(exc)), 422
    settings.replace(svc.redis, kept)
    setup.mark(svc.redis, "settings", svc.now())
    accounts.audit(svc.redis, g.account.email, "save_settings", ", ".join(f"{k}={v}" for k, v in sorted(kept.items())),
                   now=svc.now())
    if version:
        accounts.audit(svc.redis, g.account.email, "publish_flows", f"version {version} (program name or number)",
                       now=svc.now())
    flash("Settings saved; they apply to the next message.")
    return redirect(url_for(".page"))


def _publish_program(name: str, phone: str) -> int | None:
    """Program name and call back number live in the flows (every text uses them): a change publishes a
    new flows version, validated like any other."""
    svc = services()
    program = svc.flows().program
    if (name, phone) == (program.name, program.phone):
        return None
    try:
        to_e164(phone, svc.config.default_region, strict=True)
    except InvalidNumber:
        raise FlowError([f"call back number {phone!r} is not a phone number"]) from None
    docs = _renamed(published_documents(), name, phone)
    version = flowdocs.publish(svc.redis, docs, g.account.email, "program name or number changed in settings",
                               svc.now(), keep_draft=True, languages=svc.languages,  # an admin's unsaved draft is kept
                               every_language=False)  # a version live from before translations were required
    kept = flowdocs.draft(svc.redis)
    if kept and "program.yaml" in kept["documents"]:  # ... with the new name and number: publishing it keeps them
        flowdocs.save_draft(svc.redis, _renamed(kept["documents"], name, phone), kept["author"], kept["at"])
    return version


def _renamed(docs: dict[str, str], name: str, phone: str) -> dict[str, str]:
    return {**docs, "program.yaml": flowforms.dump(flowforms.named(load_yaml(docs["program.yaml"]), name, phone))}


def published_documents() -> dict[str, str]:
    svc = services()
    version = flowdocs.published_version(svc.redis)
    return flowdocs.documents(svc.redis, version) if version else flowdocs.seed_documents(svc.config.flows_dir)


def _with_federal_holidays(text: str, svc) -> str:
    """The typed closures plus this year's and next year's federal holidays (a typed line that can't be
    read stays, so the admin sees it on Save)."""
    year = datetime.fromtimestamp(svc.now(), svc.config.timezone).year
    try:
        typed = closures.parse(text)
    except ValueError:
        return text
    added = {**closures.us_federal_holidays(year), **closures.us_federal_holidays(year + 1), **typed}
    return closures.write(added)


def _render(values: dict[str, str], problem: str | None, note: str = ""):
    return render_template("staff/settings.html", fields=EDITABLE, multiline=MULTILINE, values=values,
                           problem=problem, note=note)
