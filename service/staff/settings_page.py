"""Settings (admin): hours, caps and on-call numbers, over the environment's defaults; audited."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for

import yaml

from flows.loader import FlowError
from service import accounts, flowstore, settings
from service.accounts import Role
from service.config import ConfigError
from service.context import services
from service.phone import InvalidNumber, to_e164
from service.staff.auth import require

bp = Blueprint("settings", __name__, url_prefix="/staff/settings")


@bp.get("/")
@require(Role.ADMIN)
def page():
    program = services().flows().program
    return _render({**settings.overrides(services().redis), "program": program.name, "phone": program.phone}, None)


@bp.post("/")
@require(Role.ADMIN)
def save():
    svc = services()
    values = {name: request.form.get(name, "") for name in settings.EDITABLE}
    program = svc.flows().program
    values["program"] = request.form.get("program", program.name).strip()
    values["phone"] = request.form.get("phone", program.phone).strip()
    chosen = {k: values[k] for k in settings.EDITABLE}
    try:
        settings.validate(svc.config, chosen)  # both checked before either is written
        version = _publish_program(values["program"], values["phone"])
        kept = settings.save(svc.redis, svc.config, chosen)
    except (ConfigError, FlowError) as exc:
        return _render(values, str(exc)), 422
    accounts.audit(svc.redis, g.account.email, "save_settings", ", ".join(f"{k}={v}" for k, v in sorted(kept.items())))
    if version:
        accounts.audit(svc.redis, g.account.email, "publish_flows", f"version {version} (program name or number)")
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
    docs, _ = working_published_documents()
    doc = yaml.safe_load(docs["program.yaml"])
    doc["program"] = {"name": name, "phone": phone}
    docs = {**docs, "program.yaml": yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)}
    return flowstore.publish(svc.redis, docs, g.account.email, "program name or number changed in settings",
                             keep_draft=True)  # an admin's unsaved flows draft is not thrown away


def working_published_documents() -> tuple[dict[str, str], int | None]:
    svc = services()
    version = flowstore.published_version(svc.redis)
    if version:
        return flowstore.documents(svc.redis, version), version
    return flowstore.seed_documents(svc.config.flows_dir), None


def _render(values: dict[str, str], problem: str | None):
    return render_template("staff/settings.html", fields=settings.EDITABLE, values=values, problem=problem)
