"""Twilio's webhook and status callbacks: check the signature and the input, hand over, answer."""
import time

from flask import Blueprint, Response, abort, g, request
from redis.exceptions import RedisError

from service import breaker
from service.runtime import services
from service.sms.inbound import handle
from service.sms.twiml import render
from service.sms.validate import SID, check_signature, parse_inbound, require_utf8_form, routed
from service.store import messages, metrics

bp = Blueprint("sms", __name__, url_prefix="/twilio")


@bp.post("/sms")
def inbound_sms():
    g.started = time.perf_counter()
    svc = services()
    require_utf8_form()
    check_signature(svc)
    svc = routed(svc)
    if svc is None:  # sent to a number no program has: nobody's content, nothing kept
        g.outcome = "unrouted"
        return Response(render(()), mimetype="application/xml")
    msg = parse_inbound(svc)
    if breaker.is_open(svc):
        abort(503, "storage unavailable; Twilio will use the fallback URL")  # don't wait on it again yet
    try:
        handled = handle(svc, msg)
    except RedisError:
        breaker.trip(svc)
        abort(503, "storage unavailable; Twilio will use the fallback URL")
    g.outcome = "answered" if handled.decision else "duplicate"
    return Response(handled.twiml, mimetype="application/xml")


@bp.after_request
def _observe(response):
    """Count every webhook answer by outcome, and time it; a Redis outage must not hide the answer."""
    if request.endpoint == "sms.inbound_sms" and "started" in g:
        outcome = g.get("outcome") or {403: "forbidden", 503: "unavailable"}.get(response.status_code, "refused")
        try:
            svc = services(checked=False)
            metrics.observe_webhook(svc.counters, svc.redis, outcome, time.perf_counter() - g.started)
        except RedisError:
            pass  # the metric is lost, the answer is not
    return response


@bp.post("/status")
def message_status():
    """Twilio's delivery reports: duplicated and out of order, so they only ever move a status forward."""
    svc = services()
    require_utf8_form()
    check_signature(svc)
    svc = routed(svc, "From")
    if svc is None:
        return "", 204
    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    if not SID.match(sid):
        abort(400, "MessageSid is missing or malformed")
    if status not in messages.STATUS_RANK:
        abort(400, f"MessageStatus must be one of {', '.join(messages.STATUS_RANK)}")
    code = request.form.get("ErrorCode", "")
    if code and not code.isdigit():
        abort(400, "ErrorCode must be a number")
    try:
        messages.advance_status(svc.redis, sid, status, code)
        metrics.count_status(svc.redis, status, code)
    except RedisError:
        abort(503, "storage unavailable; Twilio will retry")
    return "", 204
