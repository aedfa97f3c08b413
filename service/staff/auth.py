"""Sign-in, sign-out, and the one lookup of who is signed in that every page, /metrics and the RQ
dashboard go through."""
from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from service.runtime import services
from service.store import accounts
from service.store.accounts import Account, LoginRefused, Role

bp = Blueprint("auth", __name__, url_prefix="/staff")


def current_account() -> Account | None:
    """The signed-in staff account, or None."""
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
            if role is not None and not account.may(role):
                abort(403, "your role does not include this page")
            g.account = account
            return view(*args, **kwargs)
        return wrapper
    return decorate


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        svc = services()
        try:
            account = accounts.authenticate(svc.redis, request.form.get("email", ""),
                                            request.form.get("password", ""), svc.now())
        except LoginRefused:
            flash("Wrong email or password, or too many attempts: try again in 15 minutes.")
            return render_template("staff/login.html"), 401
        session.clear()
        session["staff"] = account.email
        return redirect(_safe_next(request.args.get("next")))
    return render_template("staff/login.html")


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/")
@require(None)
def home():
    return redirect(url_for("callbacks.queue" if g.account.may(Role.STAFF) else "ops.page"))


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/staff/") and "//" not in target else url_for("callbacks.queue")
