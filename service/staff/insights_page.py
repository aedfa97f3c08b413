"""Insights (staff, admins and ops): what the texting program did over the last 7, 30 or 90 days, per
day in the center's zone, as charts drawn on the server with their numbers as tables; the same series
as JSON (insights.json) and CSV (insights.csv). Counts only, never who."""
import csv
import io
from datetime import date

from flask import Blueprint, Response, abort, render_template, request

from service import insights
from service.runtime import services
from service.staff import charts, display
from service.staff.display import label
from service.staff.auth import require
from service.store import conversations, flowdocs

bp = Blueprint("insights", __name__, url_prefix="/staff")
PERIODS = (7, 30, 90)


def _days() -> int:
    raw = request.args.get("days", "30")
    if not (raw.isdecimal() and raw.isascii() and len(raw) <= 3) or not 1 <= int(raw) <= insights.MAX_DAYS:
        abort(400, f"days must be a whole number from 1 to {insights.MAX_DAYS}")
    return int(raw)


@bp.get("/insights")
@require(None)
def page():
    svc = services()
    n = _days()
    data = insights.series(svc, n)
    days = data["days"]
    labels = [date.fromisoformat(d["date"]).strftime("%b %d").replace(" 0", " ") for d in days]
    totals = insights.totals(days)
    return render_template("staff/insights.html", n=n, periods=PERIODS, data=data, days=days, labels=labels,
                           totals=totals, sections=_sections(days, labels), when=_when(totals),
                           funnels=_funnels(svc), questions=_questions(svc), rate=insights.opt_out_rate)


HOURS = [f"{h % 12 or 12}{'am' if h < 12 else 'pm'}" for h in range(24)]


def _when(totals: dict) -> list[dict]:
    """When call backs and crises come in, summed over the period: by hour of day and by weekday (to staff
    the phones), as charts with their numbers."""
    out = []
    for title, about, names, key in (
            ("By hour of day", "Call backs asked for and crisis messages over the period, by the local hour they came in.",
             HOURS, "hours"),
            ("By weekday", "Call backs asked for and crisis messages over the period, by weekday.",
             list(insights.WEEKDAYS), "weekdays")):
        series = [("Call backs", list(totals[f"callback_{key}"].values())),
                  ("Crisis messages", list(totals[f"crisis_{key}"].values()))]
        out.append({"title": title, "about": about, "labels": names, "series": series,
                    "svg": charts.bars(title, names, series, True)})
    return out


def _questions(svc) -> list[dict]:
    """Each question (a step with answers) of the published flows: how often each answer was chosen, and
    "Other" (a reply that matched no answer), as counts and shares."""
    version = flowdocs.published_version(svc.redis) or 0
    out = []
    for name, flow in sorted(svc.flows().flows.items()):
        asking = [s for s in flow.steps.values() if s.answers]
        if not asking:
            continue
        results = conversations.results(svc.redis, version, name, [])
        for step in asking:
            rows = [(" / ".join(a.match.get(svc.flows().program.default_language, ())[:3]) or f"answer {i + 1}",
                     results.get(f"answer:{step.name}:{i}", 0)) for i, a in enumerate(step.answers)]
            rows.append(("Other (matched no answer)", results.get(f"otherwise:{step.name}", 0)))
            total = sum(n for _, n in rows)
            out.append({"flow": name, "step": step.name, "total": total,
                        "rows": [(answer, n, n / total if total else None) for answer, n in rows]})
    return out


def _sections(days: list[dict], labels: list[str]) -> list[dict]:
    """Each chart: its title, what it shows, its series (name, value per day) and how they are drawn."""
    def one(name):
        return [d[name] for d in days]
    flows = sorted({f for d in days for f in d["flow_starts"]})
    codes = sorted({c for d in days for c in d["failed"]})
    defs = [
        ("People", "New people (their first text) and everyone who texted, per day.", False,
         [("New people", one("new_people")), ("People who texted", one("people"))]),
        ("Messages", "Texts in, answers out, follow-ups sent and staff replies, per day.", False,
         [("Texts in", one("inbound")), ("Answers out", one("outbound")), ("Follow-ups sent", one("followups_sent")),
          ("Staff replies", one("staff_replies"))]),
        ("Flow starts", "How often each flow was started by its keyword, per day.", True,
         [(f, [d["flow_starts"].get(f, 0) for d in days]) for f in flows]),
        ("Follow-ups held back", "Follow-ups that waited or were dropped, and why.", True,
         [(label, [d["followups_held"][key] for d in days]) for key, label in
          (("send_hours", "Outside send hours"), ("weekly_cap", "Weekly cap"), ("horizon", "Past the horizon"),
           ("opted_out", "Opted out"), ("channel_window", "WhatsApp, past its 24-hour window"))]),
        ("Opt-outs", "People who opted out by text, and those the carrier reported (error 21610).", True,
         [("Opt-outs", one("opt_outs")), ("Carrier opt-outs", one("carrier_opt_outs"))]),
        ("Delivery", "Follow-ups and staff replies by their final status as Twilio reported it.", True,
         [("Delivered", one("delivered")), ("Undelivered", one("undelivered")),
          *((f"Failed {c}", [d["failed"].get(c, 0) for d in days]) for c in codes)]),
        ("Call backs", "Call backs asked for, per day.", True, [("Requested", one("callbacks_requested"))]),
        ("Crisis messages", "Messages flagged as a crisis, per day.", True, [("Crisis flags", one("crisis_flags"))]),
        ("Crisis outcomes", "How staff resolved crises, by the day the crisis began.", True,
         [(label(o), [d["crisis_outcomes"][o] for d in days]) for o in insights.CRISIS_OUTCOMES]),
        ("Not understood", "Texts the bot did not understand (see the Not understood page), by language.", True,
         [(display.language(lang), [d["not_understood_by_language"].get(lang, 0) for d in days])
          for lang in (days[0]["not_understood_by_language"] if days else {})]),
        ("People by language", "People who texted, by the language they were answered in.", True,
         [(display.language(lang), [d["people_by_language"].get(lang, 0) for d in days])
          for lang in (days[0]["people_by_language"] if days else {})]),
    ]
    return [{"title": t, "about": about, "series": s, "svg": charts.bars(t, labels, s, stacked)}
            for t, about, stacked, s in defs]


def _funnels(svc) -> list[dict]:
    """Each conversation flow's steps with how many people reached them, in the published version."""
    version = flowdocs.published_version(svc.redis) or 0
    out = []
    for name, flow in sorted(svc.flows().flows.items()):
        if len(flow.steps) < 2:
            continue
        results = conversations.results(svc.redis, version, name, list(flow.steps))
        rows = [(step, results.get(f"people:{step}", 0)) for step in flow.steps]
        out.append({"flow": name, "rows": rows, "svg": charts.funnel(f"{name}: people who reached each step", rows)})
    return out


@bp.get("/insights.json")
@require(None)
def as_json():
    return insights.series(services(), _days())


@bp.get("/insights.csv")
@require(None)
def as_csv():
    header, rows = insights.csv_rows(insights.series(services(), _days()))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=insights.csv"})
