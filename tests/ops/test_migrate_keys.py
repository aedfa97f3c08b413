"""`flask ops migrate-keys`: what a release before programs kept (keys `sms:...`, jobs in queues named by
lane alone) moved under the program, nothing lost, nothing overwritten, and /readyz saying so."""
from rq import Queue

from service import queues
from service.ops.health import readiness
from service.store import contacts, keys, legacy
from tests.conftest import Phone, make_app, make_env, svc_of

NUMBER = "+16175550123"


def as_previous_release(r) -> None:
    """Put the data back as the previous release named it: `sms:{main}:x` -> `sms:x`, and its jobs into
    queues named by lane alone."""
    for key in list(r.scan_iter(match="sms:{main}:*")):
        r.rename(key, b"sms:" + key[len(b"sms:{main}:"):])
    for lane in queues.ALL:
        new, old = queues.queue(r, lane), Queue(lane, connection=r)
        for job in new.jobs:
            new.remove(job)
            old.enqueue_job(job)


def ours(r) -> set[bytes]:
    """The service's keys (RQ's aside, and the metrics a process flushes each second on its own)."""
    return {k for k in r.scan_iter() if not k.startswith(b"rq:") and b":metrics:" not in k}


def migrate(app) -> str:
    result = app.test_cli_runner().invoke(args=["ops", "migrate-keys"])
    assert result.exit_code == 0, result.output
    return result.output


def test_old_keys_and_jobs_move_under_the_program_and_a_stop_is_still_honoured(redis, redis_url):
    app = make_app(make_env(redis_url, STAFF_ALERT_NUMBERS="+16175550100"))
    svc = svc_of(app)
    phone = Phone(app.test_client(), NUMBER)
    phone.text("SIGNS")
    phone.text("STOP")
    Phone(app.test_client(), "+16175550124").text("he turned blue and isnt breathing")  # a staff alert queued
    before = ours(redis)
    as_previous_release(redis)
    assert legacy.left(redis) and readiness(svc.redis)["keys"] is False  # not ready: STOPs unseen
    pk = svc.vault.person_key(NUMBER)
    assert contacts.read(svc.redis, svc.vault, pk) is None  # what the new release would see unmigrated
    out = migrate(app)
    assert "queued jobs moved: 1" in out
    assert ours(redis) == before
    assert readiness(svc.redis)["keys"] is True
    assert contacts.read(svc.redis, svc.vault, pk).consent.value == "opted_out"
    assert phone.text("SIGNS").data.count(b"<Message>") == 0  # still opted out: no answer
    [job] = queues.queue(svc.redis, queues.ALERTS).jobs
    assert job.func_name == "workers.jobs.send_message" and job.origin == "main.alerts"
    assert Queue(queues.ALERTS, connection=redis).count == 0
    again = migrate(app)  # safe to run again
    assert "queued jobs moved: 0" in again and not legacy.left(redis)


def test_a_key_the_new_release_already_wrote_is_never_overwritten_but_listed(redis, redis_url):
    app = make_app(make_env(redis_url))
    svc = svc_of(app)
    Phone(app.test_client(), NUMBER).text("SIGNS")
    as_previous_release(redis)
    Phone(app.test_client(), NUMBER).text("TREATMENT")  # texted after the upgrade, before the migration
    pk = svc.vault.person_key(NUMBER)
    written = redis.hgetall(keys.of(svc.redis).contact(pk))
    out = migrate(app)
    assert f"sms:contact:{pk}" in out and "Compare them by hand" in out
    assert redis.hgetall(keys.of(svc.redis).contact(pk)) == written  # the newer record kept as it was
    assert redis.exists(f"sms:contact:{pk}")  # and the older one kept for a person to look at
    assert NUMBER not in out  # person keys only, never a number


def test_a_program_of_several_takes_the_old_data_of_its_redis(redis, redis_url, tmp_path):
    from tests.sms.test_programs import A_NUMBER, B_NUMBER, _program
    root = tmp_path / "flows"
    _program(root / "brook", "Roaring Brook Recovery", [A_NUMBER])
    _program(root / "harbor", "Harbor Light Center", [B_NUMBER])
    redis.hset("sms:settings", "BUSINESS_HOURS", "Mon-Fri 08:00-16:00")  # the previous release's Harbor data
    harbor = make_app(make_env(redis_url, FLOWS_DIR=str(root), PROGRAM="harbor"))
    assert "keys moved under program harbor: 1" in migrate(harbor)
    assert redis.hget("sms:{harbor}:settings", "BUSINESS_HOURS") == b"Mon-Fri 08:00-16:00"
    assert not redis.exists("sms:{brook}:settings")
