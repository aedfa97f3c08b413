"""First run (admin): a checklist that walks a new center through what the service needs (the program's
name and number, business hours, on-call numbers, a test text in the simulator) and says what is still
missing for production (a Twilio sender, the public address). Shown after sign-in until done or set aside."""
from dataclasses import dataclass

from flask import Blueprint, g, redirect, render_template, url_for

from service.runtime import services
from service.staff.auth import require
from service.store import accounts, setup
from service.store.accounts import Role

bp = Blueprint("setup", __name__, url_prefix="/staff/setup")


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    done: bool
    detail: str
    link: str
    action: str


def checklist(svc) -> list[Item]:
    config, program, marked = svc.current_config(), svc.flows().program, setup.done(svc.redis)
    return [
        Item("settings", "Your program's name, call-back number and business hours", "settings" in marked,
             f"Texts say \"{program.name}\" and \"{program.phone}\"; call backs are promised from your business "
             "hours and closed days. Check them and save.", url_for("settings.page"), "Open Settings"),
        Item("on_call", "On-call numbers for crisis alerts", bool(config.staff_alert_numbers),
             "Without them a crisis pages no one: it only shows in the console.", url_for("settings.page"),
             "Add on-call numbers"),
        Item("simulator", "Send a test text in the simulator", "simulator" in marked,
             "Text SIGNS, then a crisis such as \"my brother is not breathing\", from a fictional number: see what "
             "people get (nothing reaches a phone or a pager).", url_for("simulator.phone"), "Open the simulator"),
    ]


def production_gaps(config) -> list[str]:
    """What the service still needs before real people text it."""
    gaps = []
    if not config.twilio_enabled:
        gaps.append("A Twilio sender: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID "
                    "(or TWILIO_FROM_NUMBER). Until then texts go to the simulator's outbox.")
    if not config.staff_alert_numbers:
        gaps.append("On-call numbers (STAFF_ALERT_NUMBERS, or Settings) for crisis alerts.")
    if config.public_base_url.startswith(("http://localhost", "http://127.")):
        gaps.append(f"A public https address (PUBLIC_BASE_URL, now {config.public_base_url}) for Twilio's webhook.")
    if not config.production:
        gaps.append(f"APP_ENV=production (now {config.app_env}): production refuses to start without its secrets.")
    return gaps


def pending(svc) -> int:
    """How many checklist items are left (0 when done or set aside)."""
    if "dismissed" in setup.done(svc.redis):
        return 0
    return sum(not item.done for item in checklist(svc))


@bp.get("/")
@require(Role.ADMIN)
def page():
    svc = services()
    items = checklist(svc)
    return render_template("staff/setup.html", items=items, left=sum(not i.done for i in items),
                           gaps=production_gaps(svc.current_config()))


@bp.post("/dismiss")
@require(Role.ADMIN)
def dismiss():
    svc = services()
    setup.dismiss(svc.redis, svc.now())
    accounts.audit(svc.redis, g.account.email, "setup_set_aside", "", now=svc.now())
    return redirect(url_for("inbox.index"))
