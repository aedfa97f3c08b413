"""rq-dashboard at /staff/rq for ops accounts, read-only: its actions (requeue, delete, empty, compact)
post without our CSRF token, so none is accepted; ops requeue and delete failed jobs on the Ops page,
with CSRF and an audit entry. Its JSON is escaped and its pages run only their own scripts (headers.py)."""
import re

import logging

from flask import abort, redirect, request, url_for
from werkzeug.exceptions import NotFound

from service.config import Config
from service.staff.auth import current_account
from service.store.accounts import Role


log = logging.getLogger(__name__)
ACTIONS = re.compile(r"/(requeue|delete|empty|compact)(/|$)")


def mount(app, configs: list[Config], csrf) -> None:
    """`configs`: the programs the console serves, each one of the dashboard's instances (ops see all)."""
    import rq_dashboard

    app.config.from_object(rq_dashboard.default_settings)
    app.config["RQ_DASHBOARD_REDIS_URL"] = tuple(dashboard_url(config) for config in configs)
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/staff/rq")
    csrf.exempt(rq_dashboard.blueprint)
    app.before_request(_guard)
    from rq.exceptions import NoSuchJobError
    for crash in (LookupError, NoSuchJobError, UnboundLocalError):
        app.register_error_handler(crash, _dashboard_error)


def _dashboard_error(exc: Exception):
    """rq-dashboard crashes on addresses it doesn't know (an instance number past the last, a job id that
    doesn't exist, a malformed listing): those are "not found", not a 500. The same errors anywhere else
    go on as any error would (a 500, logged with its traceback)."""
    if request.blueprint != "rq_dashboard":
        raise exc
    log.warning("rq_dashboard_not_found", extra={"error": type(exc).__name__})
    return NotFound("no such queue, job or page in the RQ dashboard")


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
