"""A phone on screen: staff text the service from a fictional test number through the real signed webhook."""
import re
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from twilio.request_validator import RequestValidator

from service import followups, store
from service.accounts import Role
from service.context import services
from service.staff.auth import require

bp = Blueprint("simulator", __name__, url_prefix="/staff/simulator")
# NANP numbers reserved for fiction (555-0100..0199): the simulator can never show a real person's texts.
TEST_NUMBER = re.compile(r"^\+1\d{3}55501\d{2}$")
DEFAULT_NUMBER = "+16175550100"


def _number() -> str:
    number = (request.values.get("number") or DEFAULT_NUMBER).strip()
    if not TEST_NUMBER.match(number):
        abort(400, "simulator numbers must be fictional, like +1 617 555 0100 to 0199")
    return number


@bp.get("/")
@require(Role.STAFF)
def phone():
    svc = services()
    number = _number()
    pk = svc.vault.person_key(number)
    from workers.sender import outbox
    sent = [m for m in outbox(svc.redis, svc.vault) if m["to"] == number]
    due = {m.decode(): s for m, s in svc.redis.zrange(followups.DUE, 0, -1, withscores=True)}
    pending = [{"id": fid, "due": due.get(fid)} for fid in followups.pending_of(svc.redis, pk)]
    return render_template("staff/simulator.html", number=number, transcript=store.transcript(svc.redis, svc.vault, pk),
                           outbox=sent, pending=pending, testing=not svc.config.production)


@bp.post("/send")
@require(Role.STAFF)
def send():
    """Signs the request with our auth token and posts it through the whole WSGI stack, like Twilio."""
    svc = services()
    number = _number()
    params = {"MessageSid": f"SMsim{time.time_ns():x}", "AccountSid": svc.config.twilio_account_sid or "ACsim",
              "From": number, "To": "simulator", "Body": request.form.get("body", "")[:1600], "NumMedia": "0"}
    signature = RequestValidator(svc.config.twilio_auth_token.reveal()).compute_signature(
        svc.config.public_base_url + "/twilio/sms", params)
    with current_app.test_client() as client:
        response = client.post("/twilio/sms", data=urlencode(params), content_type="application/x-www-form-urlencoded",
                               headers={"X-Twilio-Signature": signature})
    if response.status_code != 200:
        flash(f"The webhook answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
    elif not ET.fromstring(response.data).findall("Message"):
        flash("No reply (opted out, or the hourly reply limit was reached).")
    return redirect(url_for(".phone", number=number))


@bp.post("/deliver")
@require(Role.STAFF)
def deliver():
    """Test-only: send this number's pending follow-ups now (at the next send-window moment), to the outbox."""
    svc = services()
    if svc.config.production:
        abort(403, "not available in production")
    from workers.followup import send_followup
    from workers.runtime import make_runtime
    from workers.sender import OutboxSender
    number = _number()
    rt = make_runtime(svc, OutboxSender(svc.redis, svc.vault))
    config = svc.current_config()
    moment = datetime.fromtimestamp(followups.send_time(config, followups.recipient_zones(config, number),
                                                         time.time(), "simulator"))
    for fid in followups.pending_of(svc.redis, svc.vault.person_key(number)):
        send_followup(rt, fid, now=moment.timestamp())
    return redirect(url_for(".phone", number=number))
