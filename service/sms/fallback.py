"""Twilio's fallback URL: answers without Redis, and spools the message so nothing is lost.

Compliance words and crisis language are still answered properly (the engine is pure and needs no
state); everything else gets a safe static reply. `flask ops replay-fallback` feeds the spool back
through the normal path once Redis is back (idempotent on MessageSid, so replies are not resent).
"""
from datetime import datetime

from flask import Blueprint, Response

from flows.engine import Texter, decide
from flows.matching import Intent
from service.runtime import Services, services
from service.sms import spool
from service.sms.twiml import render
from service.sms.validate import check_signature, parse_inbound, require_utf8_form, routed

bp = Blueprint("fallback", __name__, url_prefix="/twilio")
SAFE_REPLY = ("Sorry, we can't answer your text right now. If this is an emergency call 911. "
              "Suicide & Crisis Lifeline: call or text 988. To talk with {program}, call {phone}.")
HOUR = 3600


@bp.post("/fallback")
def fallback():
    svc = services(checked=False)  # answers without Redis, whatever it holds
    require_utf8_form()
    check_signature(svc)
    svc = routed(svc, checked=False)
    if svc is None:
        return Response(render(()), mimetype="application/xml")
    msg = parse_inbound(svc)
    spool.append(svc.config.spool_dir, svc.vault, msg, svc.now())
    return Response(render(fallback_replies(svc, msg.body, svc.vault.person_key(msg.e164))),
                    mimetype="application/xml")


class _Budget:
    """Replies per number per hour in this process: Redis is down, so the loop guard lives in memory."""

    def __init__(self, per_hour: int = 3):
        self.per_hour, self._sent = per_hour, {}

    def take(self, person: str, now: float) -> bool:
        recent = [t for t in self._sent.get(person, ()) if now - t < HOUR]
        if len(self._sent) > 50_000:
            self._sent.clear()  # bounded memory during a long outage
        allowed = len(recent) < self.per_hour
        self._sent[person] = recent + [now] if allowed else recent
        return allowed


_budget, _crisis_budget = _Budget(), _Budget()


def fallback_replies(svc: Services, body: str, person: str) -> tuple[str, ...]:
    """STOP is always confirmed; crisis replies and everything else have per-number budgets (no Redis,
    so they live in this process), so an echoing auto-responder can't loop."""
    now = svc.now()
    flows = svc.source.last_known()
    decision = decide(flows, svc.policy, Texter(first_contact=False), body,
                      datetime.fromtimestamp(now, svc.config.timezone))
    if decision.intent is Intent.OPT_OUT:
        return decision.replies
    if decision.crisis:
        return decision.replies if _crisis_budget.take(f"{svc.config.program}|{person}", now) else ()
    if not _budget.take(f"{svc.config.program}|{person}", now):  # each program's budget its own
        return ()
    return decision.replies if decision.intent in (Intent.OPT_IN, Intent.HELP) else (flows.render(SAFE_REPLY),)
