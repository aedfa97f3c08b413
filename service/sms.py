"""Twilio's webhook: check the signature, check the input, hand over to inbound.handle, answer TwiML."""
import re
import time
from urllib.parse import unquote_to_bytes

from flask import Blueprint, Response, abort, g, request
from redis.exceptions import RedisError
from twilio.request_validator import RequestValidator

from service.context import Services, services
from service.inbound import InboundSms, handle
from service.metrics import STATUS, observe_webhook
from service.outbound import STATUS_RANK, advance_status
from service.phone import InvalidNumber, to_e164

bp = Blueprint("sms", __name__, url_prefix="/twilio")
MAX_BODY_CHARS = 1600  # Twilio's own limit for one inbound message
SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
FORM = "application/x-www-form-urlencoded"
# After Redis fails, answer 503 at once for a moment instead of each request waiting out the connect
# timeout: in a surge, sync workers stay free and Twilio moves to the fallback URL quickly.
BREAKER_SECONDS = 2.0
_redis_down_until: dict[int, float] = {}


@bp.post("/sms")
def inbound_sms():
    g.started = time.perf_counter()
    svc = services()
    require_utf8_form()
    check_signature(svc)
    msg = parse_inbound(svc)
    if time.monotonic() < _redis_down_until.get(id(svc), 0.0):
        abort(503, "storage unavailable; Twilio will use the fallback URL")  # don't wait on it again yet
    try:
        handled = handle(svc, msg)
    except RedisError:
        _redis_down_until[id(svc)] = time.monotonic() + BREAKER_SECONDS
        abort(503, "storage unavailable; Twilio will use the fallback URL")
    g.outcome = "answered" if handled.decision else "duplicate"
    return Response(handled.twiml, mimetype="application/xml")


@bp.after_request
def _observe(response):
    """Count every webhook answer by outcome, and time it; a Redis outage must not hide the answer."""
    if request.endpoint == "sms.inbound_sms" and "started" in g:
        outcome = g.get("outcome") or {403: "forbidden", 503: "unavailable"}.get(response.status_code, "refused")
        try:
            svc = services()
            observe_webhook(svc.counters, svc.redis, outcome, time.perf_counter() - g.started)
        except RedisError:
            pass  # the metric is lost, the answer is not
    return response


@bp.post("/status")
def message_status():
    """Twilio's delivery reports: duplicated and out of order, so they only ever move a status forward."""
    svc = services()
    require_utf8_form()
    check_signature(svc)
    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    if not SID.match(sid):
        abort(400, "MessageSid is missing or malformed")
    if status not in STATUS_RANK:
        abort(400, f"MessageStatus must be one of {', '.join(STATUS_RANK)}")
    code = request.form.get("ErrorCode", "")
    if code and not code.isdigit():
        abort(400, "ErrorCode must be a number")
    try:
        advance_status(svc.redis, sid, status, code)
        svc.redis.hincrby(STATUS, f"{status}|{code}", 1)
    except RedisError:
        abort(503, "storage unavailable; Twilio will retry")
    return "", 204


def check_signature(svc: Services) -> None:
    """Nothing is read or stored for a request Twilio did not sign with our auth token."""
    signature = request.headers.get("X-Twilio-Signature", "")
    url = svc.config.public_base_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    validator = RequestValidator(svc.config.twilio_auth_token.reveal())
    if not signature or not validator.validate(url, request.form, signature):
        abort(403, "missing or invalid X-Twilio-Signature")


def parse_inbound(svc: Services) -> InboundSms:
    form = request.form
    sid = form.get("MessageSid", "")
    if not SID.match(sid):
        abort(400, "MessageSid is missing or malformed")
    if not form.get("From"):
        abort(400, "From is missing")
    try:
        e164 = to_e164(form["From"], svc.config.default_region)
    except InvalidNumber:
        abort(400, "From is not a phone number")
    body = form.get("Body", "")
    if len(body) > MAX_BODY_CHARS:
        abort(413, f"Body is longer than {MAX_BODY_CHARS} characters")
    return InboundSms(sid, e164, body)


NON_ASCII = re.compile(rb"%[89a-fA-F]|[\x80-\xff]")  # the only ways a form body can carry a byte >= 0x80


def require_utf8_form() -> None:
    """Twilio sends UTF-8 forms; anything else is refused before it can be misread."""
    if request.mimetype != FORM:
        abort(415, f"expected {FORM}")
    raw = request.get_data(cache=True)
    if not NON_ASCII.search(raw):
        return  # all ASCII (most texts): valid UTF-8 without decoding anything
    try:  # separators are ASCII, so the whole body decodes exactly when every field does
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        abort(400, "request body is not valid UTF-8")
