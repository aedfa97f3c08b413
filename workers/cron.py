"""`rq cron workers/cron.py`: the clock process. One tick a second drains due follow-ups; every 2 s the
job sweeper; every minute unclaimed call backs escalate, stranded staff alerts are swept and idle holds
go back to the bot; every night the retention sweep."""
from rq import cron

from service import queues
from workers import rq_settings
from workers.jobs import dispatch_due, escalate_callbacks, release_idle_holds, retention_sweep, sweep_jobs

SCHEDULE, MAINTENANCE = (queues.named(rq_settings.PROGRAM, lane) for lane in (queues.SCHEDULE, queues.MAINTENANCE))

cron.register(dispatch_due, SCHEDULE, interval=1, result_ttl=60, ttl=30, job_timeout=60)
cron.register(escalate_callbacks, SCHEDULE, interval=60, result_ttl=600, ttl=120, job_timeout=60)
cron.register(sweep_jobs, SCHEDULE, interval=2, result_ttl=10, ttl=10, job_timeout=30)
cron.register(release_idle_holds, SCHEDULE, interval=60, result_ttl=600, ttl=120, job_timeout=60)
cron.register(retention_sweep, MAINTENANCE, cron="17 4 * * *", result_ttl=86400, job_timeout=3600)  # 04:17 local time (TZ)
