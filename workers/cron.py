"""`rq cron workers/cron.py`: the clock process. One tick a second drains due follow-ups."""
from rq import cron

from workers.jobs import dispatch_due, escalate_callbacks

cron.register(dispatch_due, "schedule", interval=1, result_ttl=60, ttl=30, job_timeout=60)
cron.register(escalate_callbacks, "schedule", interval=60, result_ttl=600, ttl=120, job_timeout=60)
