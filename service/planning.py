"""A decision's follow-up changes made real: pending sends dropped (all of them, or a question's
timeout) and new ones scheduled at their first moment in the send window (flows.schedule), stored in
the compact schedule (store.followups). The webhook and the follow-up worker both plan this way."""
from flows import schedule
from flows.engine import Consent, Decision
from service.config import Config
from service.phone import recipient_zones
from service.store import daily, followups
from service.store.followups import FollowUpId


def replan(config: Config, pipe, pk: str, e164: str, pending: tuple[str, ...], decision: Decision,
           now: float, day: str = "") -> tuple[str, ...]:
    """The person's pending sends after this decision: dropped (all, or a question's timeout), and new
    ones scheduled; returns the ids still pending. With `day`, what was held back is counted there (the
    insights: follow-ups an opt-out cancelled, ones past the horizon before they were planned)."""
    stop_all = decision.cancel_followups or decision.consent is Consent.OPTED_OUT
    keep = () if stop_all else pending
    if keep != pending:
        followups.cancel(pipe, pk, pending, keep)
        if day and decision.consent is Consent.OPTED_OUT:
            daily.count(pipe, day, "followups_held:opted_out", len(pending))
    if stop_all or decision.cancel_timeout:
        followups.clear_timeout(pipe, pk)
    if decision.schedule:
        schedule_followups(config, pipe, pk, e164, decision.schedule, now, keep, day)
    return keep


def schedule_followups(config: Config, pipe, pk: str, e164: str, items, now: float,
                       keep: tuple[str, ...] = (), day: str = "") -> None:
    """Each follow-up at its first moment in the send window, unless that is past the horizon (counted
    on `day` when given)."""
    rules, zones, due = config.send_rules(), recipient_zones(e164, config.timezone), {}
    for item in items:
        fid = str(FollowUpId(pk, item.flow, item.step, int(now)))
        when = now + item.after.total_seconds() if item.silent else \
            schedule.first_due(rules, zones, now, item.after.total_seconds(), fid)  # a silent step sends no text
        if when is None and day:
            daily.count(pipe, day, "followups_held:horizon")
        if when is not None and item.timeout:
            followups.set_timeout(pipe, pk, when)
        elif when is not None:
            due[fid] = when
    followups.add(pipe, pk, due, keep)
