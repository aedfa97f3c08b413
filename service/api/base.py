"""What every API route shares: the bearer token, JSON errors ({"error": "..."} naming the field), the
audit of each call, and reading a JSON body."""
from functools import wraps

from flask import current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from service.contacts import Refused
from service import breaker
from service.programs import CONSOLE
from service.runtime import route_to, services
from service.store import accounts, apitokens


class Problem(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        record = _checked(token.strip()) if scheme.lower() == "bearer" else None
        if record is None:
            raise Problem(401, "Authorization: a valid Bearer token is required (a missing, wrong or revoked "
                               "token opens nothing)")
        g.api_token = record
        return view(*args, **kwargs)
    return wrapper


DOWN = object()  # a program whose Redis could not be asked


def _checked(token: str):
    """The token's record, and the request routed to its program: on a console of several programs, the
    program whose Redis knows the token (each program's tokens are its own), else this process's."""
    choosable = current_app.extensions.get(CONSOLE) or {}
    if not choosable:
        svc = services()
        return apitokens.check(svc.redis, token, svc.now())
    unreachable = False
    for svc in choosable.values():
        record = breaker.guarded(svc, lambda: apitokens.check(svc.redis, token, svc.now()), DOWN)
        if record is DOWN:  # one program's outage: the others' tokens still work
            unreachable = True
            continue
        if record is not None:
            route_to(svc, instead=True)  # the token decides, whatever session cookie came along
            return record
    if unreachable:
        raise Problem(503, "Authorization: the token could not be checked now (a program's store is down); retry")
    return None


def audit(action: str, detail: str = "") -> None:
    svc = services()
    accounts.audit(svc.redis, f"api:{g.api_token.name}", action, detail, now=svc.now())


def json_body() -> dict:
    if not request.is_json:
        raise Problem(422, "body: must be JSON (Content-Type: application/json)")
    data = request.get_json(silent=True)
    if data is None:
        raise Problem(422, "body: is not valid JSON")
    return data


def _audit_refusal(status: int) -> None:
    """A refused call by a known token is audited too (one without a token names nobody)."""
    if g.get("api_token") is not None and status != 404:  # a 404 route audits itself
        audit(f"api_refused_{status}", f"{request.method} {request.path.split('/api/v1', 1)[-1].split('/')[1]}")


def register_errors(bp) -> None:
    @bp.errorhandler(Problem)
    def problem(exc: Problem):
        _audit_refusal(exc.status)
        return jsonify(error=exc.message), exc.status

    @bp.errorhandler(Refused)
    def refused(exc: Refused):
        _audit_refusal(422)
        return jsonify(error=str(exc), field=exc.field), 422

    @bp.errorhandler(HTTPException)
    def http(exc: HTTPException):
        return jsonify(error=exc.description or exc.name), exc.code
