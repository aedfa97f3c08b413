"""Login, logout and the role check every staff page goes through."""
from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from service import accounts
from service.accounts import LoginRefused, Role
from service.context import services

bp = Blueprint("auth", __name__, url_prefix="/staff")


def require(role: Role | None):
    """Anonymous visitors go to the login page; a signed-in account without the role gets 403."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            account = accounts.get(services().redis, session.get("staff", "")) if session.get("staff") else None
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
        try:
            account = accounts.authenticate(services().redis, request.form.get("email", ""),
                                            request.form.get("password", ""))
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
    return redirect(url_for("callbacks.queue" if g.account.may(Role.STAFF) else "callbacks.ops"))


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/staff/") and "//" not in target else url_for("callbacks.queue")
