"""A phone on screen: staff text the service from a fictional test number through the real signed webhook,
watch it answer live, move the simulated person's clock (+1 hour, +1 day, to the next step) so timeouts and
journey events fire in front of them, play a contact with fields, and see a broadcast as one person would."""
import hashlib
import json
import secrets
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import urlencode

from flask import (Blueprint, Response, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   url_for)
from twilio.request_validator import RequestValidator

from flows import schedule
from service import broadcasts as broadcast_texts, contacts as contact_rules, simulated_time
from service.phone import is_fictional
from service.runtime import services
from service.sms.validate import SIMULATOR
from service.staff import display
from service.staff.auth import require
from service.store import broadcasts, contacts, conversations, crises, followups, keys, outbox, people, setup, simclock
from service.store.accounts import Role

bp = Blueprint("simulator", __name__, url_prefix="/staff/simulator")
DEFAULT_NUMBER = "+16175550100"
WEBHOOK = "sms_outreach_webhook"
STEPS = {"hour": simulated_time.HOUR, "day": simulated_time.DAY}
PARTS = (("sim-transcript", "staff/_sim_transcript.html"), ("sim-state", "staff/_sim_state.html"),
         ("sim-outbox", "staff/_sim_outbox.html"))
HELD = {"not_in_group": "is not in the group it goes to", "no_consent": "has no consent to outreach on record",
        "opted_out": "has opted out", "held_by_staff": "is being texted by staff (the bot is paused)",
        "weekly_cap": "already got the most unprompted texts a week allows",
        "channel_window": "is on WhatsApp and last wrote more than 24 hours ago (only approved templates may go)"}


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
    context = _context(svc, number)
    if request.args.get("fragment"):  # the live refresh: the parts that change, 304 when none did
        g.passive = True
        parts = {part: render_template(template, **context) for part, template in PARTS}
        version = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
        headers = {"ETag": f'"{version}"', "Cache-Control": "no-cache",
                   "X-Crisis-Count": str(crises.count_open(svc.redis))}
        if request.headers.get("If-None-Match") == f'"{version}"':
            return Response(status=304, headers=headers)
        return Response(json.dumps(parts), headers=headers, mimetype="application/json")
    flows = svc.flows()
    return render_template("staff/simulator.html", **context, quick=_quick_words(svc),
                           fields=flows.program.fields, languages=flows.program.languages,
                           broadcasts=broadcasts.recent(svc.redis, 10))


def _context(svc, number: str) -> dict:
    pk = svc.vault.person_key(number)
    zone, ahead = simulated_time.zone_of(svc, number), simclock.ahead(svc.redis, pk)
    return {"number": number, "transcript": people.transcript(svc.redis, svc.vault, pk),
            "outbox": [m for m in outbox.read(svc.redis, svc.vault) if m["to"] == number],
            "pending": simulated_time.pending(svc, pk, number),
            "conversation": conversations.decode(svc.redis.hget(keys.of(svc.redis).contact(pk), conversations.FIELD)),
            "remembered": conversations.variables(svc.redis, svc.vault, pk),
            "language": display.language_of(svc, pk), "contact": contacts.read(svc.redis, svc.vault, pk),
            "their_now": svc.now() + ahead, "zone": zone, "local": simulated_time.local, "local_input": local_input,
            "ahead": simulated_time.span(ahead) if ahead else ""}


def _quick_words(svc) -> list[str]:
    """The published keywords in every language, and the language commands, one click away."""
    flows = svc.flows()
    words = [flows.text(f.keyword, lang) for lang in flows.program.languages
             for f in sorted(flows.flows.values(), key=lambda f: (f.menu or 999, f.name)) if f.menu is not None]
    offered = flows.program.languages
    order = [c for c in offered if c != flows.program.default_language] + [flows.program.default_language]
    commands = [flows.languages[c].name.upper() for c in order if c in flows.languages] if len(offered) > 1 else []
    return list(dict.fromkeys(words)) + commands


def _done(number: str, note: str = "", error: bool = False):
    """A page's form answered: JSON for the page's own script (no reload), else a note and the page."""
    if request.accept_mimetypes.best == "application/json":
        return jsonify(note=note, error=error), (422 if error else 200)
    if note:
        flash(note)
    return redirect(url_for(".phone", number=number))


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
        return _done(number, f"The webhook answered {response.status_code}: {response.get_data(as_text=True)[:200]}",
                     error=True)
    setup.mark(svc.redis, "simulator", svc.now())
    if not ET.fromstring(response.data).findall("Message"):
        return _done(number, "No reply (opted out, or the hourly reply limit was reached).")
    return _done(number)


def _webhook():
    """An app that serves Twilio's webhook: this one, or (in the console process, which does not) one
    built once beside it on the same config and clock, per program (a console may serve several)."""
    if current_app.config["SURFACE"] != "console":
        return current_app
    svc = services()
    hooks = current_app.extensions.setdefault(WEBHOOK, {})
    if svc.config.program not in hooks:
        from service import create_app
        hooks[svc.config.program] = create_app(svc.config, svc.clock, surface="twilio")
    return hooks[svc.config.program]


@bp.post("/advance")
@require(Role.STAFF)
def advance():
    """The simulated person's clock moves ahead (`by`: hour, day or next): what falls due goes to the
    workers, which send a fictional number's texts to the outbox, never to a phone."""
    svc = services()
    number = _number()
    pk = svc.vault.person_key(number)
    by = request.form.get("by", "")
    seconds = STEPS.get(by) if by != "next" else simulated_time.gap_to_next(svc, pk, number)
    if by not in (*STEPS, "next"):
        return _done(number, "by: must be hour, day or next", error=True)
    if seconds is None:
        return _done(number, "Nothing is waiting to be sent to this number.")
    try:
        fired = simulated_time.advance(svc, pk, number, seconds)
    except simulated_time.NotSimulated:
        return _done(number, "number: only a test person has a clock: text this number from the simulator (or play "
                             "a contact) first; a contact imported or set through the API is never moved", error=True)
    moved = simulated_time.span(seconds)
    their_now = simulated_time.local(simulated_time.now_of(svc, pk), simulated_time.zone_of(svc, number))
    if not fired:
        return _done(number, f"Their clock moved {moved} ahead, to {their_now}: nothing fell due.")
    return _done(number, f"Their clock moved {moved} ahead, to {their_now}: "
                         f"{_count(len(fired), 'step')} due ({', '.join(p.label for p in fired)}), sending now.")


@bp.post("/contact")
@require(Role.STAFF)
def contact():
    """This fictional number plays a contact the center knows: fields, groups, language, consent to
    outreach (so its journeys plan and a broadcast can reach it), on the person's own clock."""
    svc = services()
    number = _number()
    flows = svc.flows()
    form = request.form
    zone = simulated_time.zone_of(svc, number)
    data = {"fields": {name: _their_time(form.get(f"field.{name}", "").strip(), kind, zone) or None
                       for name, kind in flows.program.fields.items()},
            "groups": form.get("groups", "")}
    if form.get("language"):
        data["language"] = form["language"]
    if form.get("consent"):
        data["consent"] = {"source": "simulator", "at": simulated_time.iso(svc, number)}
    try:
        change = contact_rules.change_from(data, flows.program.fields, flows.program.languages)
        outcome = simulated_time.set_contact(svc, number, change)
    except contact_rules.Refused as exc:
        return _done(number, f"{exc.field}: {exc.message}", error=True)
    return _done(number, {"created": "Contact created.", "updated": "Contact updated.",
                          "unchanged": "Nothing changed."}[outcome.value])


@bp.post("/broadcast")
@require(Role.STAFF)
def preview_broadcast():
    """A broadcast as this one person would get it (nothing is sent), or why it would not reach them."""
    svc = services()
    number = _number()
    b = broadcasts.get(svc.redis, request.form.get("broadcast", ""))
    if b is None:
        return _done(number, "broadcast: choose one of the broadcasts listed", error=True)
    pk = svc.vault.person_key(number)
    person = contacts.read(svc.redis, svc.vault, pk)
    flows = svc.flows()
    language = (person.language if person else "") or flows.program.default_language
    text = broadcast_texts.text_for(flows, b, language)
    why = "is not a contact yet" if person is None else \
        "not_in_group" if b.group and b.group not in person.groups else \
        broadcast_texts.held_now(svc.redis, pk, person, svc.current_config().send_rules(),
                                 schedule.recent_sends(followups.sent_times(svc.redis, pk), svc.now()), svc.now(),
                                 templated=b.template is not None)
    if why:
        return _done(number, f"This person would not get it: {number} {HELD.get(why, why)}. They would read: {text}")
    return _done(number, f"This person would get, in {display.language(language)}: {text}")


def _their_time(raw: str, kind, zone) -> str:
    """A date and time as the browser's picker sends it (no offset) is the person's own local time."""
    if kind.value != "datetime" or not raw:
        return raw
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw  # the field's own check names what is wrong
    return moment.replace(tzinfo=zone).isoformat() if moment.tzinfo is None else raw


def local_input(value: str, zone) -> str:
    """A stored date-time as the picker shows it: the person's local time, to the minute."""
    try:
        return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    except (ValueError, TypeError):
        return value or ""


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"

