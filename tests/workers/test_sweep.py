"""The job sweeper: send jobs RQ lost go back on their queue; jobs that ran leave the ledger."""

from service import queues
from service.store import keys
from tests.conftest import svc_of
from workers.jobs import send_message
from workers.runtime import make_runtime
from workers.sweep import sweep_jobs


def test_a_job_written_in_the_ledger_but_never_enqueued_is_enqueued(app, redis, clock):
    redis.zadd(keys.of(redis).JOBS_PENDING, {queues.ledger_entry("send_message", "alert_SMx_0"): clock.now()})  # then a crash
    rt = make_runtime(svc_of(app))
    assert sweep_jobs(rt) == []  # too young: its enqueue may be under way
    clock.advance(6)
    assert sweep_jobs(rt) == ["alert_SMx_0"]
    assert queues.queue(redis, queues.ALERTS).job_ids == ["main-send-message-alert_SMx_0"]


def test_a_job_popped_by_a_worker_that_died_is_enqueued_again(app, redis, clock):
    queues.enqueue_messages(redis, ["alert_SMy_0"], clock.now())
    queue = queues.queue(redis, queues.ALERTS)
    redis.lpop(queue.key)  # a worker's BLPOP answered to a socket being closed by a SIGKILL
    clock.advance(6)
    assert sweep_jobs(make_runtime(svc_of(app))) == ["alert_SMy_0"]
    assert queue.job_ids == ["main-send-message-alert_SMy_0"]


def test_a_job_that_ran_leaves_the_ledger(app, redis, clock, monkeypatch):
    import workers.jobs
    monkeypatch.setattr(workers.jobs, "current", lambda: make_runtime(svc_of(app)))
    queues.enqueue_messages(redis, ["gone-already"], clock.now())
    send_message("gone-already")  # no such record: nothing to send, the job is done
    assert redis.zcard(keys.of(redis).JOBS_PENDING) == 0


def test_a_job_migrate_keys_adopted_under_its_old_id_is_not_enqueued_a_second_time(app, redis, clock):
    redis.zadd(keys.of(redis).JOBS_PENDING, {queues.ledger_entry("send_message", "alert_SMz_0"): clock.now()})
    queue = queues.queue(redis, queues.ALERTS)  # the previous release's job, moved here under its own id
    queue.enqueue("workers.jobs.send_message", "alert_SMz_0", job_id="send-message-alert_SMz_0")
    clock.advance(6)
    assert sweep_jobs(make_runtime(svc_of(app))) == []
    assert queue.job_ids == ["send-message-alert_SMz_0"]
