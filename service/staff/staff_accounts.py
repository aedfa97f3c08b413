"""Staff accounts (admin): create one with a temporary password shown once, change a role, disable or
enable, reset a password (which ends that account's sessions); and, for everyone, changing one's own
password. Every change is audited. `flask ops staff create` stays for the first admin."""
import math
import secrets

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from service.runtime import services
from service.staff.auth import require
from service.store import accounts, apitokens, logins
from service.store.accounts import Role

bp = Blueprint("staff_accounts", __name__, url_prefix="/staff/accounts")
ROLES = {Role.STAFF: "Staff: inbox, crises, call backs, simulator", Role.ADMIN: "Admin: everything",
         Role.OPS: "Ops: queues and health only"}


def _temporary() -> str:
    return secrets.token_urlsafe(12)  # 16 characters: over the 12-character minimum


def _email(raw: str) -> str | None:
    """The account an address names, as stored (lower case); None for something that is no address."""
    email = raw.strip().lower()
    return email if "@" in email and len(email) <= 254 else None


def _page(status: int = 200, **extra):
    svc = services()
    return render_template("staff/accounts.html", accounts=accounts.listing(svc.redis), roles=ROLES,
                           me=g.account.email, tokens=apitokens.all_tokens(svc.redis), **extra), status


@bp.post("/api-tokens")
@require(Role.ADMIN)
def create_token():
    """A token for the center's systems, shown this once (only its digest is kept)."""
    svc = services()
    name = request.form.get("name", "").strip()
    if not name:
        return _page(422, error="Name the token after what will use it (e.g. EHR scheduling).")
    token, record = apitokens.create(svc.redis, name, g.account.email, svc.now())
    accounts.audit(svc.redis, g.account.email, "create_api_token", f"{record.id} {record.name}", now=svc.now())
    return _page(new_token={"name": record.name, "token": token})


@bp.post("/api-tokens/<tid>/revoke")
@require(Role.ADMIN)
def revoke_token(tid):
    svc = services()
    if apitokens.disable(svc.redis, tid):
        accounts.audit(svc.redis, g.account.email, "revoke_api_token", tid, now=svc.now())
        flash("Revoked: that token opens nothing from now on.")
    else:
        flash("That token is revoked already (or does not exist).")
    return redirect(url_for(".index") + "#api-tokens")


@bp.get("/")
@require(Role.ADMIN)
def index():
    return _page()


@bp.post("/create")
@require(Role.ADMIN)
def create():
    svc = services()
    email, role = request.form.get("email", "").strip().lower(), request.form.get("role", "")
    if role not in {r.value for r in Role}:
        return _page(422, error="Pick a role.", email=email)
    try:
        if accounts.exists(svc.redis, email):
            return _page(422, error=f"{email} has an account already: reset its password instead.", email=email)
        password = _temporary()
        accounts.create(svc.redis, email, password, Role(role), now=svc.now())
    except ValueError as exc:
        return _page(422, error=str(exc).capitalize() + ".", email=email)
    accounts.audit(svc.redis, g.account.email, "create_account", f"{email} as {role}", now=svc.now())
    return _page(created={"email": email, "password": password})


@bp.post("/<email>/role")
@require(Role.ADMIN)
def role(email):
    svc = services()
    email, chosen = _email(email), request.form.get("role", "")
    if email is None or chosen not in {r.value for r in Role} or not accounts.exists(svc.redis, email):
        return _page(422, error="Pick a role for an existing account.")
    if email == g.account.email and chosen != Role.ADMIN.value:
        return _page(422, error="You can't take away your own admin role: ask another admin.")
    accounts.set_role(svc.redis, email, Role(chosen))
    accounts.audit(svc.redis, g.account.email, "change_role", f"{email} to {chosen}", now=svc.now())
    flash(f"{email} is now {chosen}.")
    return redirect(url_for(".index"))


@bp.post("/<email>/disable")
@require(Role.ADMIN)
def disable(email):
    return _set_disabled(email, True)


@bp.post("/<email>/enable")
@require(Role.ADMIN)
def enable(email):
    return _set_disabled(email, False)


def _set_disabled(email: str, disabled: bool):
    svc = services()
    email = _email(email)
    if email is None or not accounts.exists(svc.redis, email):
        return _page(404, error="No such account.")
    if email == g.account.email and disabled:
        return _page(422, error="You can't disable your own account.")
    accounts.set_disabled(svc.redis, email, disabled)
    accounts.audit(svc.redis, g.account.email, "disable_account" if disabled else "enable_account", email,
                   now=svc.now())
    flash(f"{email} {'disabled: their sessions ended' if disabled else 'enabled'}.")
    return redirect(url_for(".index"))


@bp.post("/<email>/reset")
@require(Role.ADMIN)
def reset(email):
    svc = services()
    email = _email(email)
    if email is None or not accounts.exists(svc.redis, email):
        return _page(404, error="No such account.")
    password = _temporary()
    accounts.set_password(svc.redis, email, password)
    accounts.audit(svc.redis, g.account.email, "reset_password", email, now=svc.now())
    return _page(created={"email": email, "password": password, "reset": True})


@bp.route("/me", methods=["GET", "POST"])
@require(None)
def me():
    """Change one's own password (it ends one's other sessions, and this one: sign in again)."""
    if request.method == "GET":
        return render_template("staff/password.html")
    svc = services()
    current, new, again = (request.form.get(k, "")[:1024] for k in ("current", "new", "again"))
    address = request.remote_addr or "unknown"
    wait = logins.wait(svc.redis, address, g.account.email, svc.now())
    if wait > 0:  # as at sign-in: guessing the current password is throttled
        return render_template("staff/password.html",
                               error=f"Too many attempts. Try again in {math.ceil(wait)} seconds."), 429
    if not accounts.check_password(svc.redis, g.account.email, current):
        logins.failed(svc.redis, address, g.account.email, svc.now())
        return render_template("staff/password.html", error="The current password is wrong."), 422
    logins.succeeded(svc.redis, address, g.account.email)
    if new != again:
        return render_template("staff/password.html", error="The two new passwords differ."), 422
    try:
        accounts.set_password(svc.redis, g.account.email, new)
    except ValueError as exc:
        return render_template("staff/password.html", error=str(exc).capitalize() + "."), 422
    accounts.audit(svc.redis, g.account.email, "change_own_password", now=svc.now())
    flash("Password changed: sign in with the new one.")
    return redirect(url_for("auth.login"))
