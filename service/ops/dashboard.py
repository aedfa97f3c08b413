"""rq-dashboard at /staff/rq for ops accounts."""
from flask import abort, redirect, request, url_for

from service.config import Config
from service.staff.auth import current_account
from service.store.accounts import Role


def mount(app, config: Config, csrf) -> None:
    """Its own JavaScript posts without our CSRF token, so its actions rely on the SameSite=Lax session
    cookie (no cross-site POST carries it) and the role check."""
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
    if request.method == "GET" and request.path.startswith("/staff/rq/requeue/"):
        abort(405, "requeue with the dashboard's button (POST), not a link")
    account = current_account()
    if account is None:
        return redirect(url_for("auth.login", next="/staff/rq/"))
    if not account.may(Role.OPS):
        abort(403, "your role does not include this page")
    return None
