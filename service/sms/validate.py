"""What every Twilio request must pass before anything is read or stored: UTF-8 form, our signature,
well-formed fields."""
import logging
import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from service import channels
from service.phone import InvalidNumber
from service.programs import ROUTES, route
from service.runtime import Services, route_to

MAX_BODY_CHARS = 1600  # Twilio's own limit for one inbound message
SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
FORM = "application/x-www-form-urlencoded"
NON_ASCII = re.compile(rb"%[89a-fA-F]|[\x80-\xff]")  # the only ways a form body can carry a byte >= 0x80


log = logging.getLogger("service.sms")
SIMULATOR = "simulator"  # the To of the staff console's simulated texts (signed by us; Twilio never sends it)


@dataclass(frozen=True)
class InboundSms:
    sid: str
    e164: str  # the sender's address: an E.164 number (SMS) or a channel address ("whatsapp:+1...")
    body: str
    simulated: bool = False  # from the console's simulator: nothing it causes may reach a real phone
    received_at: float = 0.0  # set on messages replayed from the fallback spool: when Twilio brought them
    undated: bool = False  # spooled before spool lines kept their time: replayed as stale news, never as new


def routed(svc: Services, field: str = "To", checked: bool = True) -> Services | None:
    """The Services of the program whose number this Twilio request is about (`field`: To for a text
    to us, From for a status report on a text from us), kept in flask.g for everything after it; this
    process's own when the deployment is one program, or for the simulator's texts; None for a number no
    program has (logged)."""
    by_number = current_app.extensions.get(ROUTES)
    address = request.form.get(field, "")
    if not by_number or address == SIMULATOR:
        return svc
    found = route(by_number, address, svc.config.default_region)
    if found is None:
        log.warning("number_of_no_program", extra={"field": field, "number": channels.mask(address)})
        return None
    route_to(found, checked=checked)
    return found


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
        e164 = channels.parse(form["From"], svc.config.default_region)
    except InvalidNumber:
        abort(400, "From is not a phone number or channel address")
    body = form.get("Body", "")
    if len(body) > MAX_BODY_CHARS:
        abort(413, f"Body is longer than {MAX_BODY_CHARS} characters")
    return InboundSms(sid, e164, body, form.get("To") == SIMULATOR)


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
