"""The Ops page (ops role): readiness, queues, workers, failed jobs, follow-ups by day."""
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for

from service import breaker
from service.ops import jobs
from service.ops.health import readiness
from service.ops.summary import summary
from service.programs import CONSOLE, display_name
from service.runtime import services
from service.staff.auth import require
from service.store import accounts, followups
from service.store.accounts import Role

bp = Blueprint("ops", __name__, url_prefix="/staff")
DAYS_AHEAD = 14


@bp.get("/ops")
@require(Role.OPS)
def page():
    svc = services()
    r = svc.redis
    return render_template("staff/ops.html", checks=readiness(r), summary=summary(r), workers=jobs.workers(r),
                           failed=jobs.failed_jobs(r), by_day=pending_by_day(svc), every=every_program())


def every_program() -> list[dict]:
    """On a console of several programs, ops see every program's health and queues (counts only, never a
    person); the rest of the page is the program signed in to."""
    return [_row(other) for _, other in sorted((current_app.extensions.get(CONSOLE) or {}).items())]


def _row(svc) -> dict:
    """One program's row; one whose Redis is down shows so, and the other programs' rows still show."""
    return breaker.guarded(svc, lambda: {"name": display_name(svc), "ready": all(readiness(svc.redis).values()),
                                         "summary": summary(svc.redis)},
                           {"name": display_name(svc), "ready": False, "summary": None})


@bp.post("/ops/jobs/<job_id>/<action>")
@require(Role.OPS)
def job_action(job_id, action):
    """Requeue or delete a failed job; both are audited."""
    svc = services()
    if action not in ("requeue", "delete"):
        abort(404, "unknown action")
    if not jobs.act_on_failed(svc.redis, job_id, action):
        abort(404, "no such failed job")
    accounts.audit(svc.redis, g.account.email, f"{action}_job", job_id, now=svc.now())
    flash(f"Job {job_id}: {action} done.")
    return redirect(url_for(".page"))


def pending_by_day(svc) -> list[tuple[str, int]]:
    """Pending follow-ups per local day in the center's zone, overdue ones counted today."""
    zone = svc.config.timezone
    start = datetime.fromtimestamp(svc.now(), zone).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [start + timedelta(days=i) for i in range(DAYS_AHEAD + 1)]
    bounds = [("-inf" if i == 0 else day.timestamp(), f"({(day + timedelta(days=1)).timestamp()}")
              for i, day in enumerate(days)]
    return [(day.strftime("%a %b %d"), n) for day, n in zip(days, followups.count_between(svc.redis, bounds))]
