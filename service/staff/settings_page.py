"""Settings (admin): hours, caps and on-call numbers, over the environment's defaults; audited."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from service import accounts, settings
from service.accounts import Role
from service.config import ConfigError
from service.context import services
from service.staff.auth import require

bp = Blueprint("settings", __name__, url_prefix="/staff/settings")


@bp.get("/")
@require(Role.ADMIN)
def page():
    return _render(settings.overrides(services().redis), None)


@bp.post("/")
@require(Role.ADMIN)
def save():
    svc = services()
    values = {name: request.form.get(name, "") for name in settings.EDITABLE}
    try:
        kept = settings.save(svc.redis, svc.config, values)
    except ConfigError as exc:
        return _render(values, str(exc)), 422
    accounts.audit(svc.redis, g.account.email, "save_settings", ", ".join(f"{k}={v}" for k, v in sorted(kept.items())))
    flash("Settings saved; they apply to the next message.")
    return redirect(url_for(".page"))


def _render(values: dict[str, str], problem: str | None):
    return render_template("staff/settings.html", fields=settings.EDITABLE, values=values, problem=problem)
