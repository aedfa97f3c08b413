"""RQ queue names, in priority order: the clock's tick, staff alerts, then follow-ups."""
SCHEDULE, ALERTS, FOLLOWUPS = "schedule", "alerts", "followups"
ALL = (SCHEDULE, ALERTS, FOLLOWUPS)
