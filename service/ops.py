"""/metrics for Prometheus: a bearer token (METRICS_TOKEN) or a signed-in ops account."""
import hmac

from flask import Blueprint, Response, abort, redirect, request, session, url_for
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from service import accounts
from service.accounts import Role
from service.context import services
from service.metrics import RedisCollector

bp = Blueprint("ops", __name__)


def mount_dashboard(app, config, csrf) -> None:
    """rq-dashboard at /staff/rq for ops accounts. Its own JavaScript posts without our CSRF token, so
    its actions rely on the SameSite=Lax session cookie (no cross-site POST carries it) and the role check."""
    import rq_dashboard

    app.config.from_object(rq_dashboard.default_settings)
    app.config["RQ_DASHBOARD_REDIS_URL"] = dashboard_url(config)
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/staff/rq")
    csrf.exempt(rq_dashboard.blueprint)
    app.before_request(_guard_dashboard)


def dashboard_url(config) -> str:
    if config.redis_sentinels:
        hosts = ",".join(f"{h}:{p}" for h, p in config.redis_sentinels)
        return f"redis+sentinel://{hosts}/{config.redis_sentinel_master}/0"
    return config.redis_url


def _guard_dashboard():
    if request.blueprint != "rq_dashboard":
        return None
    if request.method == "GET" and request.path.startswith("/staff/rq/requeue/"):
        abort(405, "requeue with the dashboard's button (POST), not a link")
    account = accounts.get(services().redis, session["staff"]) if session.get("staff") else None
    if account is None:
        return redirect(url_for("auth.login", next="/staff/rq/"))
    if not account.may(Role.OPS):
        abort(403, "your role does not include this page")
    return None


@bp.get("/metrics")
def metrics():
    svc = services()
    if not _authorized(svc):
        abort(401, "metrics need 'Authorization: Bearer <METRICS_TOKEN>' or an ops sign-in")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(svc.redis, svc.counters))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _authorized(svc) -> bool:
    token = svc.config.metrics_token.reveal()
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and offered and hmac.compare_digest(offered, token):
        return True
    account = accounts.get(svc.redis, session["staff"]) if session.get("staff") else None
    return bool(account and account.may(Role.OPS))
