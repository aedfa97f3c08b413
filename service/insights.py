"""What the insights page, insights.json and insights.csv show: the last N days in the center's zone,
oldest first, every day present (zeros included), from the daily counters (store/daily.py). Counts only,
never who."""
from datetime import date, datetime, timedelta

from service.runtime import Services
from service.store import daily

MAX_DAYS = daily.DAYS_KEPT
HELD_REASONS = ("send_hours", "weekly_cap", "horizon", "opted_out", "channel_window")
CRISIS_OUTCOMES = ("reached_safe", "advised_911", "no_answer", "other")
CALLBACK_OUTCOMES = ("reached", "no_answer", "wrong_number")  # each attempt's outcome


def days_back(svc: Services, n: int) -> list[date]:
    """The last `n` local dates, today included, oldest first (calendar days: a DST day is one day)."""
    today = datetime.fromtimestamp(svc.now(), svc.config.timezone).date()
    return [today - timedelta(days=i) for i in range(n - 1, -1, -1)]


def series(svc: Services, n: int) -> dict:
    """{"zone", "days": [...]} as insights.json returns it."""
    languages = svc.flows().program.languages
    return {"zone": svc.config.timezone.key, "languages": list(languages),
            "days": [_day(row, languages) for row in daily.read(svc.redis, days_back(svc, n), languages)]}


def _day(row: dict, languages: tuple[str, ...] = ()) -> dict:
    c = row["counters"]
    prefixed = _prefixed(c)
    return {
        "date": row["date"], "new_people": c.get("new_people", 0), "people": row["people"],
        "inbound": c.get("inbound", 0), "outbound": c.get("outbound", 0),
        "flow_starts": prefixed.get("flow_start", {}), "opt_outs": c.get("opt_outs", 0),
        "carrier_opt_outs": c.get("carrier_opt_outs", 0), "followups_sent": c.get("followups_sent", 0),
        "followups_held": {r: prefixed.get("followups_held", {}).get(r, 0) for r in HELD_REASONS},
        "delivered": c.get("delivered", 0), "undelivered": c.get("undelivered", 0),
        "failed": prefixed.get("failed", {}), "callbacks_requested": c.get("callbacks_requested", 0),
        "crisis_flags": c.get("crisis_flags", 0),
        # beyond the documented fields
        "texted": row["texted"], "sent": c.get("sent", 0), "staff_replies": c.get("staff_replies", 0),
        "callbacks_reached": c.get("callbacks_reached", 0),
        "callbacks_reached_in_time": c.get("callbacks_reached_in_time", 0),
        "callback_first_attempt_minutes": prefixed.get("callback_first_attempt", {}),
        "crisis_resolve_minutes": prefixed.get("crisis_resolve", {}),
        "crisis_outcomes": {o: prefixed.get("crisis_outcome", {}).get(o, 0) for o in CRISIS_OUTCOMES},
        "not_understood": c.get("not_understood", 0),
        "broadcast_sent": c.get("broadcast_sent", 0), "broadcast_delivered": c.get("broadcast_delivered", 0),
        "broadcast_opt_outs": c.get("broadcast_opt_outs", 0),
        "not_understood_by_language": {lang: prefixed.get("not_understood_lang", {}).get(lang, 0) for lang in languages},
        "people_by_language": {lang: row.get("people_by_language", {}).get(lang, 0) for lang in languages},
        "callback_hours": _hours(prefixed.get("callback_hour", {})),
        "crisis_hours": _hours(prefixed.get("crisis_hour", {})),
        "callback_outcomes": {o: prefixed.get("callback_outcome", {}).get(o, 0) for o in CALLBACK_OUTCOMES},
    }


def _hours(found: dict[str, int]) -> dict[str, int]:
    """Counts by local hour, "0" to "23", every hour present."""
    return {str(h): found.get(str(h), 0) for h in range(24)}


def _prefixed(counters: dict[str, int]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for field, n in counters.items():
        if ":" in field:
            group, key = field.split(":", 1)
            out.setdefault(group, {})[key] = n
    return out


def totals(days: list[dict]) -> dict:
    """The period's sums, rates and medians (the page's headline numbers)."""
    def total(name):
        return sum(d[name] for d in days)

    def merged(name):
        out: dict[str, int] = {}
        for d in days:
            for k, v in d[name].items():
                out[k] = out.get(k, 0) + v
        return out
    failed = sum(sum(d["failed"].values()) for d in days)
    finished = total("delivered") + total("undelivered") + failed
    return {
        "new_people": total("new_people"), "inbound": total("inbound"), "outbound": total("outbound"),
        "opt_outs": total("opt_outs"), "carrier_opt_outs": total("carrier_opt_outs"),
        "opt_out_rate": _rate(total("opt_outs"), total("texted")),
        "delivered": total("delivered"), "undelivered": total("undelivered"), "failed": failed,
        "delivery_rate": _rate(total("delivered"), finished),
        "callbacks_requested": total("callbacks_requested"),
        "callback_first_attempt_median": daily.median(merged("callback_first_attempt_minutes")),
        "callbacks_in_time_share": _rate(total("callbacks_reached_in_time"), total("callbacks_requested")),
        "crisis_flags": total("crisis_flags"), "crisis_resolve_median": daily.median(merged("crisis_resolve_minutes")),
        "followups_sent": total("followups_sent"), "staff_replies": total("staff_replies"),
        "not_understood": total("not_understood"), "not_understood_by_language": merged("not_understood_by_language"),
        "crisis_outcomes": merged("crisis_outcomes"),
        "callback_outcomes": merged("callback_outcomes"),
        "callback_hours": merged("callback_hours"), "crisis_hours": merged("crisis_hours"),
        "callback_weekdays": by_weekday(days, "callbacks_requested"), "crisis_weekdays": by_weekday(days, "crisis_flags"),
        "flow_starts": dict(sorted(merged("flow_starts").items(), key=lambda kv: (-kv[1], kv[0]))),
    }


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def by_weekday(days: list[dict], name: str) -> dict[str, int]:
    """A daily count summed by weekday (each day's own local date says which)."""
    out = dict.fromkeys(WEEKDAYS, 0)
    for d in days:
        out[WEEKDAYS[date.fromisoformat(d["date"]).weekday()]] += d[name]
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def opt_out_rate(day: dict) -> float | None:
    """Opt-outs over the people who got any automatic text that day."""
    return _rate(day["opt_outs"], day["texted"])


HISTOGRAMS = ("callback_first_attempt_minutes", "crisis_resolve_minutes")  # {bucket top in minutes: n}


def csv_rows(data: dict) -> tuple[list[str], list[list]]:
    """insights.json flattened, one row per day: nested counts become "group.key" columns (a histogram's
    "name.15" is how many took up to 15 minutes, more than the bucket before)."""
    days, languages = data["days"], data.get("languages", [])
    flows = sorted({f for d in days for f in d["flow_starts"]})
    codes = sorted({c for d in days for c in d["failed"]})
    histograms = {name: sorted({b for d in days for b in d[name]}, key=float) for name in HISTOGRAMS}
    header = ["date", "new_people", "people", "inbound", "outbound", *(f"flow_starts.{f}" for f in flows),
              "opt_outs", "carrier_opt_outs", "followups_sent", *(f"followups_held.{r}" for r in HELD_REASONS),
              "delivered", "undelivered", *(f"failed.{c}" for c in codes), "callbacks_requested", "crisis_flags",
              "texted", "sent", "staff_replies", "callbacks_reached", "callbacks_reached_in_time",
              *(f"{name}.{b}" for name, buckets in histograms.items() for b in buckets),
              *(f"crisis_outcomes.{o}" for o in CRISIS_OUTCOMES), "not_understood", "broadcast_sent",
              "broadcast_delivered", "broadcast_opt_outs",
              *(f"not_understood_by_language.{lang}" for lang in languages),
              *(f"people_by_language.{lang}" for lang in languages),
              *(f"callback_outcomes.{o}" for o in CALLBACK_OUTCOMES),
              *(f"callback_hours.{h}" for h in range(24)), *(f"crisis_hours.{h}" for h in range(24))]
    rows = []
    for d in days:
        rows.append([d["date"], d["new_people"], d["people"], d["inbound"], d["outbound"],
                     *(d["flow_starts"].get(f, 0) for f in flows), d["opt_outs"], d["carrier_opt_outs"],
                     d["followups_sent"], *(d["followups_held"][r] for r in HELD_REASONS), d["delivered"],
                     d["undelivered"], *(d["failed"].get(c, 0) for c in codes), d["callbacks_requested"],
                     d["crisis_flags"], d["texted"], d["sent"], d["staff_replies"], d["callbacks_reached"],
                     d["callbacks_reached_in_time"],
                     *(d[name].get(b, 0) for name, buckets in histograms.items() for b in buckets),
                     *(d["crisis_outcomes"][o] for o in CRISIS_OUTCOMES), d["not_understood"], d["broadcast_sent"],
                     d["broadcast_delivered"], d["broadcast_opt_outs"],
                     *(d["not_understood_by_language"].get(lang, 0) for lang in languages),
                     *(d["people_by_language"].get(lang, 0) for lang in languages),
                     *(d["callback_outcomes"][o] for o in CALLBACK_OUTCOMES),
                     *(d["callback_hours"][str(h)] for h in range(24)), *(d["crisis_hours"][str(h)] for h in range(24))])
    return header, rows
