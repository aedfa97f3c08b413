"""Sign-in, sign-out, and the one lookup of who is signed in that every page, /metrics and the RQ
dashboard go through."""
import hmac
import math
import secrets
from functools import wraps

from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request, session,
                   url_for)

from service import breaker
from service.programs import CONSOLE, display_name
from service.runtime import route_to, services
from service.staff.sessions import rotate
from service.store import accounts, logins
from service.store.accounts import Account, LoginRefused, Role

bp = Blueprint("auth", __name__, url_prefix="/staff")


def current_account() -> Account | None:
    """The signed-in staff account, or None (a disabled account's sessions have ended already)."""
    email = session.get("staff")
    return accounts.get(services().redis, email) if email else None


def require(role: Role | None):
    """Anonymous visitors go to the login page; a signed-in account without the role gets 403."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            account = current_account()
            if account is None:
                session.clear()
                return redirect(url_for("auth.login", next=request.path))
            g.account = account
            if role is not None and not account.may(role):
                abort(403, f"this page is for {role.value} accounts, and yours is {account.role.value}")
            return view(*args, **kwargs)
        return wrapper
    return decorate


LOGIN_COOKIE = "login_csrf"


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in page stores nothing for an anonymous visitor: its form is protected by a token in a
    cookie and in the form alike (double submit, SameSite=Strict), not by a server-side session."""
    if request.method == "GET":
        return _login_page(200)
    if not _same_token():
        flash("The sign-in form expired or was not sent from this console; please try again.")
        return _login_page(400)
    choosable = current_app.extensions.get(CONSOLE) or {}
    if choosable:  # a console of several programs: the account, its role and its session are the program's
        chosen = choosable.get(request.form.get("program", ""))
        if chosen is None:
            flash("Choose the program you work in.")
            return _login_page(400)
        route_to(chosen, instead=True)
    svc, address = services(), request.remote_addr or "unknown"
    email, password = request.form.get("email", "")[:254], request.form.get("password", "")[:1024]
    throttles = _throttles(svc, choosable)
    wait = max(logins.wait(r, address, email, svc.now()) for r in throttles)
    if wait > 0:  # decided before any password hashing: a flood of guesses costs us nothing
        flash(f"Too many attempts. Try again in {math.ceil(wait)} seconds.")
        return _login_page(429)
    try:
        account = accounts.authenticate(svc.redis, email, password)
    except LoginRefused:
        lately = logins.failed(svc.redis, address, email, svc.now())  # the chosen program's count tells of an attack
        for other in throttles[1:]:
            logins.failed(other, address, email, svc.now())
        if lately == logins.ATTACK_FAILURES:
            accounts.audit(svc.redis, "", "sign_in_failures", f"{logins.ATTACK_FAILURES} failed sign-ins for one "
                           "email within an hour", now=svc.now())
        flash("Wrong email or password.")
        return _login_page(401)
    for r in throttles:
        logins.succeeded(r, address, email)
    session.clear()
    session["staff"] = account.email
    rotate(session)
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """Also how a member of several programs switches: sign out, then sign in to the other program."""
    program = services().config.program if current_app.extensions.get(CONSOLE) and session else ""
    session.clear()  # the session ends in Redis too: a copy of the cookie opens nothing afterwards
    switch = request.form.get("switch") == "1"
    return redirect(url_for("auth.login", **({"program": program} if program and not switch else {})))


@bp.get("/")
@require(None)
def home():
    from service.staff.display import setup_left
    if g.account.may(Role.ADMIN) and setup_left():  # a new center: the first-run checklist first
        return redirect(url_for("setup.page"))
    return redirect(url_for("inbox.index" if g.account.may(Role.STAFF) else "ops.page"))


def _throttles(svc, choosable: dict) -> list:
    """Where sign-in failures are counted: the chosen program's Redis first, and on a console of several
    programs every other one it can reach too, so picking another program in the form buys an address no
    more tries (the counts are digests of the address and email, never a person's data)."""
    others = [p for p in choosable.values() if p is not svc]  # one that is down: its count waits, the sign-in not
    return [svc.redis, *(p.redis for p in others if breaker.guarded(p, p.redis.ping, False))]


def _login_page(status: int):
    token = secrets.token_urlsafe(24)
    choosable = current_app.extensions.get(CONSOLE) or {}
    offered = [(name, display_name(svc)) for name, svc in sorted(choosable.items())]
    chosen = request.values.get("program", "")
    response = make_response(render_template("staff/login.html", login_token=token, programs=offered,
                                             chosen=chosen if chosen in choosable else ""), status)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="Strict", path=url_for("auth.login"),
                        secure=request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def _same_token() -> bool:
    sent, kept = request.form.get("csrf_token", ""), request.cookies.get(LOGIN_COOKIE, "")
    return bool(sent) and hmac.compare_digest(sent, kept)


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/staff/") and "//" not in target else url_for("inbox.index")
