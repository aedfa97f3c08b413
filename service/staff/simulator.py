"""A phone on screen: staff text the service from a fictional test number through the real signed webhook."""
import secrets
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from twilio.request_validator import RequestValidator

from service.phone import is_fictional
from service.sms.validate import SIMULATOR
from service.runtime import services
from service.staff import display
from service.staff.auth import require
from service.store import conversations, followups, keys, outbox, people, setup
from service.store.accounts import Role

bp = Blueprint("simulator", __name__, url_prefix="/staff/simulator")
DEFAULT_NUMBER = "+16175550100"
WEBHOOK = "sms_outreach_webhook"


def _number() -> str:
    number = (request.values.get("number") or DEFAULT_NUMBER).strip()
    if not is_fictional(number):
        abort(400, "simulator numbers must be fictional, like +1 617 555 0100 to 0199")
    return number


@bp.get("/")
@require(Role.STAFF)
def phone():
    svc = services()
    number = _number()
    pk = svc.vault.person_key(number)
    sent = [m for m in outbox.read(svc.redis, svc.vault) if m["to"] == number]
    conversation = conversations.decode(svc.redis.hget(keys.contact(pk), conversations.FIELD))
    return render_template("staff/simulator.html", number=number, transcript=people.transcript(svc.redis, svc.vault, pk),
                           outbox=sent, pending=display.pending_steps(svc, pk), conversation=conversation,
                           remembered=conversations.variables(svc.redis, svc.vault, pk),
                           language=display.language_of(svc, pk), quick=_quick_words(svc))


def _quick_words(svc) -> list[str]:
    """The published keywords in every language, and the language commands, one click away."""
    flows = svc.flows()
    words = [flows.text(f.keyword, lang) for lang in flows.program.languages
             for f in sorted(flows.flows.values(), key=lambda f: (f.menu or 999, f.name)) if f.menu is not None]
    commands = ["ESPAÑOL", "ENGLISH"] if len(flows.program.languages) > 1 else []
    return list(dict.fromkeys(words)) + commands


@bp.post("/send")
@require(Role.STAFF)
def send():
    """Signs the request with our auth token and posts it through the whole WSGI stack, like Twilio."""
    svc = services()
    number = _number()
    params = {"MessageSid": f"SMsim{secrets.token_hex(14)}", "AccountSid": svc.config.twilio_account_sid or "ACsim",
              "From": number, "To": SIMULATOR, "Body": request.form.get("body", "")[:1600], "NumMedia": "0"}
    signature = RequestValidator(svc.config.twilio_auth_token.reveal()).compute_signature(
        svc.config.public_base_url + "/twilio/sms", params)
    with _webhook().test_client() as client:
        response = client.post("/twilio/sms", data=urlencode(params), content_type="application/x-www-form-urlencoded",
                               headers={"X-Twilio-Signature": signature})
    if response.status_code != 200:
        flash(f"The webhook answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
    else:
        setup.mark(svc.redis, "simulator", svc.now())
        if not ET.fromstring(response.data).findall("Message"):
            flash("No reply (opted out, or the hourly reply limit was reached).")
    return redirect(url_for(".phone", number=number))


def _webhook():
    """An app that serves Twilio's webhook: this one, or (in the console process, which does not) one
    built once beside it on the same config and clock."""
    if current_app.config["SURFACE"] != "console":
        return current_app
    hook = current_app.extensions.get(WEBHOOK)
    if hook is None:
        from service import create_app
        svc = services()
        hook = current_app.extensions[WEBHOOK] = create_app(svc.config, svc.clock, surface="twilio")
    return hook


@bp.post("/deliver")
@require(Role.STAFF)
def deliver():
    """This fictional number's pending follow-ups become due now and go to the workers, which send a
    fictional number's texts to the outbox, never to a phone."""
    svc = services()
    number = _number()
    pk = svc.vault.person_key(number)
    pending = followups.pending_of(svc.redis, pk)
    conversation = conversations.decode(svc.redis.hget(keys.contact(pk), conversations.FIELD))
    timeout = followups.timeout_of(svc.redis, pk) is not None and conversation is not None
    pipe = svc.redis.pipeline()
    for fid in pending:
        followups.defer(pipe, fid, svc.now())
    if timeout:  # a timeout fires only after the question was asked, so a second later at the soonest
        followups.set_timeout(pipe, pk, max(svc.now(), int(conversation.since) + 1))
    pipe.execute()
    pending += (pk,) if timeout else ()
    flash(f"{len(pending)} due step(s) handed to the workers: reload in a moment to see them."
          if pending else "Nothing pending for this number.")
    return redirect(url_for(".phone", number=number))
