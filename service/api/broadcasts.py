"""`/api/v1/broadcasts`: send one text to a group (or to everyone with consent) now or at a time, read
its funnel, cancel it, resend to those whose text failed. The same tokens as the contacts API."""
from flask import Blueprint, g, jsonify

from service import broadcasts as rules
from service.api.base import Problem, audit, json_body, register_errors, token_required
from service.runtime import services
from service.store import broadcasts

bp = Blueprint("api_broadcasts", __name__, url_prefix="/api/v1")
register_errors(bp)


def _view(b) -> dict:
    return rules.view(b, services().config.timezone)


@bp.post("/broadcasts")
@token_required
def create():
    svc = services()
    request = rules.request_from(json_body(), svc, svc.now())
    b = rules.create(svc, request, f"api:{audit_name()}", svc.now())
    audit("api_create_broadcast", f"{b.id} to {b.group or 'all'}: {b.counts.get('recipients', 0)} recipients")
    return jsonify(_view(b)), 201


@bp.get("/broadcasts/<bid>")
@token_required
def read(bid):
    b = broadcasts.get(services().redis, bid)
    audit("api_get_broadcast", bid)
    if b is None:
        raise Problem(404, "id: no broadcast with this id")
    return jsonify(_view(b))


@bp.post("/broadcasts/<bid>/cancel")
@token_required
def cancel(bid):
    b = rules.cancel(services(), bid)
    audit("api_cancel_broadcast", bid)
    if b is None:
        raise Problem(404, "id: no broadcast with this id")
    return jsonify(_view(b))


@bp.post("/broadcasts/<bid>/resend-failed")
@token_required
def resend_failed(bid):
    svc = services()
    b = rules.resend_failed(svc, bid, f"api:{audit_name()}")
    audit("api_resend_failed", f"{bid} -> {b.id if b else 'none'}")
    if b is None:
        raise Problem(404, "id: no broadcast with this id")
    return jsonify(_view(b)), 201


def audit_name() -> str:
    return g.api_token.name
