"""/metrics for Prometheus: a bearer token (METRICS_TOKEN) or a signed-in ops account."""
import hmac

from flask import Blueprint, Response, abort, request, session
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from service import accounts
from service.accounts import Role
from service.context import services
from service.metrics import RedisCollector

bp = Blueprint("ops", __name__)


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
