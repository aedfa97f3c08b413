"""rq-dashboard at /staff/rq for ops accounts, read-only: its actions (requeue, delete, empty, compact)
post without our CSRF token, so none is accepted; ops requeue and delete failed jobs on the Ops page,
with CSRF and an audit entry. Its JSON is escaped and its pages run only their own scripts (headers.py)."""
import re

from flask import abort, redirect, request, url_for

from service.config import Config
from service.staff.auth import current_account
from service.store.accounts import Role


ACTIONS = re.compile(r"/(requeue|delete|empty|compact)(/|$)")


def mount(app, config: Config, csrf) -> None:
    import rq_dashboard

    app.config.from_object(rq_dashboard.default_settings)
    app.config["RQ_DASHBOARD_REDIS_URL"] = dashboard_url(config)
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/staff/rq")
    csrf.exempt(rq_dashboard.blueprint)
    app.before_request(_guard)


def dashboard_url(config: Config) -> str:
    if config.redis_sentinels:
        hosts = ",".join(f"{h}:{p}" for h, p in config.redis_sentinels)
        return f"redis+sentinel://{hosts}/{config.redis_sentinel_master}/0"
    return config.redis_url


def _guard():
    if request.blueprint != "rq_dashboard":
        return None
    if request.method not in ("GET", "HEAD") or ACTIONS.search(request.path):
        abort(405, "the RQ dashboard is read-only: requeue or delete failed jobs on the Ops page")
    account = current_account()
    if account is None:
        return redirect(url_for("auth.login", next="/staff/rq/"))
    if not account.may(Role.OPS):
        abort(403, "your role does not include this page")
    return None
