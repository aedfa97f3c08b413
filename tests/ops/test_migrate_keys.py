"""`flask ops migrate-keys`: what another layout kept (a release before programs: keys `sms:...`, jobs in
queues named by lane alone; one program split into folders: `sms:{main}:...`) moved under the program,
nothing lost, no opt-out undone, and the processes refused until it is done."""
import re

import pytest
from rq import Queue

from service import create_app, queues
from service.config import ConfigError
from service.programs import rq_settings
from service.ops.health import readiness
from service.store import contacts, flowdocs, keys, legacy, people
from service.store.flowdocs import seed_documents
from tests.conftest import Phone, make_app, make_env, post_signed, replies, svc_of
from tests.sms.test_programs import A_NUMBER, B_NUMBER, _program

NUMBER = "+16175550123"


def as_previous_release(r) -> None:
    """Put the data back as the previous release named it: `sms:{main}:x` -> `sms:x`, in key names and in
    the values that name keys (a person's records, a sent text's day and broadcast), and its jobs into
    queues named by lane alone."""
    def old(name: bytes) -> bytes:
        return name.replace(b"sms:{main}:", b"sms:", 1)
    for key in list(r.scan_iter(match="sms:{main}:*")):
        if key.startswith(b"sms:{main}:records:"):
            members = r.smembers(key)
            r.delete(key)
            r.sadd(key, *(old(m) for m in members))
        elif key.startswith(b"sms:{main}:out:") and r.type(key) == b"hash":
            links = {f: old(v) for f, v in zip(legacy.LINKS, r.hmget(key, *legacy.LINKS)) if v}
            if links:
                r.hset(key, mapping=links)
        r.rename(key, old(key))
    for lane in queues.ALL:
        new, bare = queues.queue(r, lane), Queue(lane, connection=r)
        for job in new.jobs:
            new.remove(job)
            bare.enqueue_job(job)


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
    assert "jobs moved: 1" in out and "key names inside values renamed: 0" not in out
    assert ours(redis) == before
    assert readiness(svc.redis)["keys"] is True
    assert contacts.read(svc.redis, svc.vault, pk).consent.value == "opted_out"
    assert phone.text("SIGNS").data.count(b"<Message>") == 0  # still opted out: no answer
    [job] = queues.queue(svc.redis, queues.ALERTS).jobs
    assert job.func_name == "workers.jobs.send_message" and job.origin == "main.alerts"
    assert Queue(queues.ALERTS, connection=redis).count == 0
    again = migrate(app)  # safe to run again
    assert "keys moved under program main: 0" in again and "jobs moved: 0" in again and not legacy.left(redis)


def test_the_web_and_workers_do_not_start_before_the_migration(redis, redis_url):
    env = make_env(redis_url)
    app = make_app(env)
    Phone(app.test_client(), NUMBER).text("STOP")
    as_previous_release(redis)
    for surface in ("twilio", "console"):
        with pytest.raises(ConfigError, match="migrate-keys"):
            create_app(env, surface=surface)
    migrate(app)  # the flask CLI's app starts anyway: it is what migrates
    create_app(env, surface="twilio")


def test_a_redis_that_did_not_answer_at_start_is_checked_before_its_first_text(redis, redis_url, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError
    from service import runtime
    env = make_env(redis_url)
    app = make_app(env)
    phone = Phone(app.test_client(), NUMBER)
    phone.text("SIGNS")
    phone.text("STOP")
    as_previous_release(redis)

    def failover(r):
        raise RedisConnectionError("a failover at the moment the web started")
    monkeypatch.setattr(legacy, "left", failover)  # our own seam: the check at start finds no Redis
    web = create_app(env, surface="twilio")
    monkeypatch.undo()
    try:
        refused = Phone(web.test_client(), NUMBER).text("SIGNS")  # who said STOP is not texted: 503, the fallback
        assert refused.status_code == 503 and b"<Message>" not in refused.data
        params = {"MessageSid": "SM" + "f" * 32, "From": "+16175550199", "To": "+18555909944",
                  "Body": "he is not breathing"}
        fallback = post_signed(web.test_client(), "/twilio/fallback", params)  # answers without Redis, as ever
        assert fallback.status_code == 200 and "911" in replies(fallback)[0]
        assert web.test_client().get("/readyz").status_code == 503  # and readiness says why
        monkeypatch.setattr(legacy, "left", failover)
        console = create_app(env, surface="console")
        monkeypatch.undo()
        assert console.test_client().get("/staff/login").status_code == 200  # its sign-in page, never a 500
        migrate(app)
        assert Phone(web.test_client(), NUMBER).text("SIGNS").status_code == 200  # checked once, then served
        assert id(svc_of(web)) not in runtime._UNCHECKED
    finally:
        runtime._UNCHECKED.clear()


def test_an_erasure_after_the_migration_leaves_nothing_of_the_person(redis, redis_url):
    app = make_app(make_env(redis_url, STAFF_ALERT_NUMBERS="+16175550100"))
    svc = svc_of(app)
    phone = Phone(app.test_client(), NUMBER)
    phone.text("CALL")  # a call back, in the person's records
    phone.text("he turned blue and isnt breathing")  # a crisis flag and a staff alert, in the records too
    as_previous_release(redis)
    migrate(app)
    pk = svc.vault.person_key(NUMBER)
    records = {m.decode() for m in redis.smembers(keys.of(svc.redis).records(pk))}
    assert records and all(m.startswith("sms:{main}:") for m in records)
    result = app.test_cli_runner().invoke(args=["ops", "erase", NUMBER])
    assert result.exit_code == 0, result.output
    assert not [k for k in redis.scan_iter() if k.startswith((b"sms:{main}:callback:", b"sms:{main}:crisis-flag:"))]
    assert not any(redis.exists(m) for m in records)


def test_an_index_both_releases_wrote_is_merged_and_a_single_value_kept_and_listed(redis, redis_url):
    app = make_app(make_env(redis_url))
    svc = svc_of(app)
    Phone(app.test_client(), NUMBER).text("SIGNS")
    as_previous_release(redis)
    Phone(app.test_client(), "+16175550124").text("SIGNS")  # written after the upgrade, before the migration
    redis.set("sms:texts-probe", "old")
    redis.set("sms:{main}:texts-probe", "new")
    redis.pfadd("sms:people-probe", "a", "b")  # distinct people counted under both names
    redis.pfadd("sms:{main}:people-probe", "b", "c")
    out = migrate(app)
    assert redis.pfcount("sms:{main}:people-probe") == 3 and not redis.exists("sms:people-probe")
    recent = {m.decode() for m in redis.zrange(keys.of(svc.redis).RECENT, 0, -1)}
    assert recent == {svc.vault.person_key(NUMBER), svc.vault.person_key("+16175550124")}  # both, merged
    assert not legacy.left(redis) and "sms:texts-probe" in out and "compare them by hand" in out
    assert redis.get("sms:{main}:texts-probe") == b"new" and redis.get("sms:texts-probe") == b"old"
    assert NUMBER not in out  # person keys at most, never a number


def test_a_program_of_several_takes_the_old_data_of_its_redis_once_told_it_is_its_own(redis, redis_url, tmp_path):
    root = tmp_path / "flows"
    _program(root / "brook", "Roaring Brook Recovery", [A_NUMBER])
    _program(root / "harbor", "Harbor Light Center", [B_NUMBER])
    redis.hset("sms:settings", "BUSINESS_HOURS", "Mon-Fri 08:00-16:00")  # the previous release's Harbor data
    harbor = make_app(make_env(redis_url, FLOWS_DIR=str(root), PROGRAM="harbor"))
    refused = harbor.test_cli_runner().invoke(args=["ops", "migrate-keys"])
    assert refused.exit_code != 0 and "--force" in refused.output  # nothing published says whose it is
    assert redis.exists("sms:settings")
    forced = harbor.test_cli_runner().invoke(args=["ops", "migrate-keys", "--force"])
    moved = re.search(r"keys moved under program harbor: (\d+)", forced.output)
    assert forced.exit_code == 0 and moved and int(moved.group(1)) >= 1  # (+ any {main} metrics an earlier
    # test's app flushed late: to a named program those are a one-program deployment's too)
    assert redis.hget("sms:{harbor}:settings", "BUSINESS_HOURS") == b"Mon-Fri 08:00-16:00"
    assert not redis.exists("sms:{brook}:settings")


def test_one_program_split_into_folders_takes_its_data_and_jobs_with_it(redis, redis_url, tmp_path):
    root = tmp_path / "flows"
    _program(root / "brook", "Roaring Brook Recovery", [A_NUMBER])
    one = make_app(make_env(redis_url, FLOWS_DIR=str(root / "brook"), STAFF_ALERT_NUMBERS="+16175550100"))
    phone = Phone(one.test_client(), NUMBER)
    phone.text("SIGNS", To=A_NUMBER)
    phone.text("STOP", To=A_NUMBER)
    Phone(one.test_client(), "+16175550124").text("he turned blue and isnt breathing", To=A_NUMBER)
    assert queues.queue(svc_of(one).redis, queues.ALERTS).name == "main.alerts"
    _program(root / "harbor", "Harbor Light Center", [B_NUMBER])  # a second center: the first moves to brook/
    env = make_env(redis_url, FLOWS_DIR=str(root), STAFF_ALERT_NUMBERS="+16175550100")
    with pytest.raises(ConfigError, match="migrate-keys"):
        create_app(env, surface="twilio")  # it would not see who said STOP to Brook
    brook = make_app({**env, "PROGRAM": "brook"})
    out = brook.test_cli_runner().invoke(args=["ops", "migrate-keys", "--force"])
    assert out.exit_code == 0 and "jobs moved: 1" in out.output, out.output
    assert not [k for k in redis.scan_iter(match="sms:{main}:*") if b":metrics:" not in k]
    web = create_app(env, surface="twilio")
    assert Phone(web.test_client(), NUMBER).text("SIGNS", To=A_NUMBER).data.count(b"<Message>") == 0  # still STOPped
    brook_svc = svc_of(brook)
    [job] = queues.queue(brook_svc.redis, queues.ALERTS).jobs
    assert job.origin == "brook.alerts"


def test_the_old_data_of_one_center_is_not_handed_to_another(redis, redis_url, tmp_path):
    root = tmp_path / "flows"
    _program(root / "brook", "Roaring Brook Recovery", [A_NUMBER])
    _program(root / "harbor", "Harbor Light Center", [B_NUMBER])
    before = make_app(make_env(redis_url, FLOWS_DIR=str(root / "harbor")))  # the old release served Harbor Light
    flowdocs.publish(svc_of(before).redis, seed_documents(root / "harbor"), "admin", "", 0)
    as_previous_release(redis)
    brook = make_app(make_env(redis_url, FLOWS_DIR=str(root), PROGRAM="brook"))
    refused = brook.test_cli_runner().invoke(args=["ops", "migrate-keys"])
    assert refused.exit_code != 0 and "Harbor Light Center" in refused.output, refused.output
    assert redis.exists("sms:flows:published") and not redis.exists("sms:{brook}:flows:published")
    harbor = make_app(make_env(redis_url, FLOWS_DIR=str(root), PROGRAM="harbor"))
    migrate(harbor)
    assert redis.exists("sms:{harbor}:flows:published")


def test_an_opt_out_under_the_old_name_is_not_undone_by_a_record_written_since(redis, redis_url):
    app = make_app(make_env(redis_url))
    svc = svc_of(app)
    phone = Phone(app.test_client(), NUMBER)
    phone.text("SIGNS")
    phone.text("STOP")
    pk = svc.vault.person_key(NUMBER)
    first = redis.hget(keys.of(svc.redis).contact(pk), "consent0")
    oldest = redis.zscore(keys.of(svc.redis).FIRST_SEEN, pk)
    as_previous_release(redis)
    phone.text("hi")  # written by a process that did not see the STOP: a record that says subscribed
    redis.zadd(keys.of(svc.redis).FIRST_SEEN, {pk: 9_999_999_999})
    migrate(app)
    record = redis.hgetall(keys.of(svc.redis).contact(pk))
    assert record[b"consent"] == b"opted_out" and record[b"consent0"] == first
    assert contacts.read(svc.redis, svc.vault, pk).consent.value == "opted_out"
    assert oldest is None or redis.zscore(keys.of(svc.redis).FIRST_SEEN, pk) == oldest  # the oldest record stands


def test_a_stop_the_new_layout_recorded_stays_in_the_consent_trail_after_a_merge(redis, redis_url):
    app = make_app(make_env(redis_url))
    svc = svc_of(app)
    phone = Phone(app.test_client(), NUMBER)
    phone.text("SIGNS")
    pk = svc.vault.person_key(NUMBER)
    as_previous_release(redis)
    phone.text("STOP")  # the new layout's first entry for this person (its record's consent0)
    migrate(app)
    trail = people.consent_history(svc.redis, pk)
    assert [(e["state"], e["keyword"]) for e in trail] == [("subscribed", "SIGNS"), ("opted_out", "STOP")]
    assert redis.hget(keys.of(svc.redis).contact(pk), "consent") == b"opted_out"


def test_a_migration_that_stopped_keeps_the_processes_and_commands_refused(redis, redis_url):
    env = make_env(redis_url)
    app = make_app(env)
    redis.set(keys.of(svc_of(app).redis).MIGRATING, "1")  # a run that stopped halfway (a crash, Ctrl-C)
    with pytest.raises(ConfigError, match="migrate-keys"):
        create_app(env, surface="twilio")
    refused = app.test_cli_runner().invoke(args=["staff", "create", "a@example.org", "--role", "admin",
                                                 "--password", "correct horse battery"])
    assert refused.exit_code != 0 and "migrate-keys" in refused.output
    assert app.test_cli_runner().invoke(args=["ops", "status"]).exit_code == 0  # looking is allowed
    migrate(app)  # running it again finishes it
    assert not legacy.left(redis)
    create_app(env, surface="twilio")


def test_worker_settings_refuse_a_folder_named_main_and_ignore_other_redis_urls_of_one_program(redis_url, tmp_path):
    assert rq_settings(make_env(redis_url, REDIS_URL_REPLICA=redis_url))["REDIS_URL"] == redis_url  # one program
    _program(tmp_path / "flows" / "main", "Roaring Brook Recovery", [A_NUMBER])
    with pytest.raises(ConfigError, match="'main'"):
        rq_settings(make_env(redis_url, FLOWS_DIR=str(tmp_path / "flows"), PROGRAM="main"))
