"""Programs sharing one Redis: every key carries its program as a hash tag, every queue and job id carries
it, and nothing of one program is seen, texted or erased through another (the same isolation a Redis of
its own gives, now from the names alone)."""
import pytest

from service import programs, queues
from service.store import accounts, apitokens, contacts, keys, scripts
from tests.conftest import CHEAP_HASH, NOON, make_app, make_env, replies, svc_of
from tests.sms.test_programs import A_NUMBER, B_NUMBER, NUMBER, PASSWORD, flows_dir, text  # noqa: F401 - fixture
from workers.runtime import make_runtime

OTHER = "+16175550124"


@pytest.fixture
def env(redis_url, redis, flows_dir):  # noqa: F811 - the fixture
    """Brook and Harbor Light in the deployment's one Redis (no REDIS_URL_<PROGRAM>)."""
    return make_env(redis_url, FLOWS_DIR=str(flows_dir), PROGRAM="brook", STAFF_ALERT_NUMBERS="+16175550100")


@pytest.fixture
def app(env):
    return make_app(env)


@pytest.fixture
def both(app):
    table = app.extensions[programs.TABLE]
    return table["brook"], table["harbor"]


def written(r) -> list[bytes]:
    """The keys the service wrote (RQ's own aside, and metrics: an earlier test app's flush may land late)."""
    return [k for k in r.scan_iter() if not k.startswith(b"rq:") and b":metrics:" not in k]


def owners(r) -> set[str]:
    """The hash tag of every key the service wrote."""
    return {scripts.slot_of(k) for k in written(r)}


def test_every_key_carries_its_program_as_a_hash_tag(client, redis, both):
    brook, harbor = both
    assert brook.redis.connection_pool.connection_kwargs["client_name"] == "sms:brook"
    assert "Roaring Brook Recovery" in replies(text(client, A_NUMBER, "SIGNS"))[0]
    assert owners(redis) == {"brook"}
    assert "Harbor Light Center" in replies(text(client, B_NUMBER, "SIGNS"))[0]
    assert owners(redis) == {"brook", "harbor"}
    assert all(k.startswith((b"sms:{brook}:", b"sms:{harbor}:")) for k in written(redis))
    pk = brook.vault.person_key(NUMBER)
    assert pk == harbor.vault.person_key(NUMBER)  # the same person key in both programs, under two names
    assert redis.exists(keys.named("brook").contact(pk), keys.named("harbor").contact(pk)) == 2


def test_consent_is_per_program_in_one_redis(client, both):
    brook, harbor = both
    text(client, A_NUMBER, "SIGNS")
    text(client, B_NUMBER, "SIGNS")
    assert "unsubscribed" in replies(text(client, A_NUMBER, "STOP"))[0]
    assert replies(text(client, A_NUMBER, "SIGNS")) == []
    assert replies(text(client, B_NUMBER, "TREATMENT"))
    pk = brook.vault.person_key(NUMBER)
    assert contacts.read(brook.redis, brook.vault, pk).consent.value == "opted_out"
    assert contacts.read(harbor.redis, harbor.vault, pk).consent.value == "subscribed"


def test_queues_and_job_ids_carry_the_program(client, redis, both):
    brook, harbor = both
    text(client, A_NUMBER, "SIGNS")  # a question with a timeout: a follow-up in each program
    text(client, B_NUMBER, "SIGNS")
    [b_fid], [h_fid] = ([m.decode() for m in redis.zrange(keys.named(p).FOLLOWUPS_DUE, 0, -1)] for p in ("brook", "harbor"))
    assert b_fid == h_fid  # the same person's same timeout: one job id each, not one for both
    assert queues.job_id(brook.redis, "send_followup", b_fid) != queues.job_id(harbor.redis, "send_followup", h_fid)
    assert queues.job_id(brook.redis, "send_followup", b_fid).startswith("brook-send-followup-")
    assert queues.queue(harbor.redis, queues.ALERTS).name == "harbor.alerts"
    assert queues.names("harbor") == [f"harbor.{lane}" for lane in queues.ALL]


def test_a_programs_worker_takes_only_its_own_programs_jobs(client, redis, both, env):
    brook, harbor = both
    text(client, A_NUMBER, "my brother took something and wont wake up")  # a crisis: alerts on-call staff
    alert_b = queues.queue(brook.redis, queues.ALERTS)
    alert_h = queues.queue(harbor.redis, queues.ALERTS)
    assert (alert_b.count, alert_h.count) == (1, 0)
    assert all(job_id.startswith("brook-") for job_id in alert_b.job_ids)
    rt = make_runtime(svc_of(make_app({**env, "PROGRAM": "harbor"})))
    assert rt.svc.config.program == "harbor"
    assert queues.waiting(rt.svc.redis, queues.ALERTS) == 0  # Harbor's worker sees none of Brook's alerts


def test_staff_and_api_tokens_of_one_program_see_nothing_of_the_other(env, client, both):
    from tests.staff.test_staff import csrf
    text(client, B_NUMBER, "SIGNS", number=OTHER)  # Harbor Light's texter
    brook_console = make_app({**env, "PROGRAM": "brook"})
    accounts.create(svc_of(brook_console).redis, "dana@brook.org", PASSWORD, accounts.Role.STAFF, now=NOON,
                    method=CHEAP_HASH)
    harbor_console = make_app({**env, "PROGRAM": "harbor"})
    harbor = harbor_console.test_client()
    assert harbor.post("/staff/login", data={"email": "dana@brook.org", "password": PASSWORD,
                                             "csrf_token": csrf(harbor)}).status_code != 302
    brook = brook_console.test_client()
    assert brook.post("/staff/login", data={"email": "dana@brook.org", "password": PASSWORD,
                                            "csrf_token": csrf(brook)}).status_code == 302
    person = both[1].vault.person_key(OTHER)
    for path in (f"/staff/inbox/{person}", f"/staff/contacts/{person}"):
        assert brook.get(path).status_code == 404
    assert "*******0124" not in brook.get("/staff/inbox/").get_data(as_text=True)
    token, _ = apitokens.create(svc_of(brook_console).redis, "ehr", "tests", NOON)
    api = brook_console.test_client()
    assert api.get(f"/api/v1/contacts/{OTHER}", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    refused = harbor_console.test_client().get(f"/api/v1/contacts/{OTHER}", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401  # Brook's token is no Harbor token, though both live in one Redis


def test_erasure_in_one_program_leaves_the_other(app, client, redis, both):
    text(client, A_NUMBER, "SIGNS")
    text(client, B_NUMBER, "SIGNS")
    result = app.test_cli_runner().invoke(args=["ops", "erase", NUMBER])
    assert result.exit_code == 0 and result.output == "brook: erased 1 (SMS)\n"
    pk = both[0].vault.person_key(NUMBER)
    assert not redis.exists(keys.named("brook").transcript(pk))
    assert redis.exists(keys.named("harbor").transcript(pk))
    assert replies(text(client, B_NUMBER, "TREATMENT"))


def test_a_worker_or_clock_of_another_program_does_not_make_this_one_ready(redis, both):
    from rq import Worker
    from service.ops.health import readiness
    brook, harbor = both
    worker = Worker([queues.queue(harbor.redis, queues.ALERTS)], connection=harbor.redis)
    worker.register_birth()
    worker.heartbeat()
    assert readiness(harbor.redis)["worker"] is True
    assert readiness(brook.redis)["worker"] is False  # Harbor's worker never takes Brook's jobs
    worker.register_death()


def test_a_program_folder_whose_name_could_not_tag_its_keys_is_refused(env, flows_dir):  # noqa: F811 - the fixture
    from service.config import Config, ConfigError
    (flows_dir / "brook").rename(flows_dir / "Brook{1}")
    with pytest.raises(ConfigError, match="Brook"):
        programs.of_process(Config.from_env({**env, "PROGRAM": "harbor"}))


def test_what_would_mix_programs_keys_is_refused_at_start(env, redis_url, tmp_path):
    from service.config import Config, ConfigError
    from service.programs import rq_settings
    with pytest.raises(ConfigError, match="client_name"):  # the URL's name would win over the program's
        make_app({**env, "REDIS_URL": redis_url + "?client_name=dashboard"})
    with pytest.raises(ConfigError, match="REDIS_URL_HARBOUR"):  # a typo would put Harbor on the shared Redis
        programs.of_process(Config.from_env({**env, "REDIS_URL_HARBOUR": redis_url}))
    with pytest.raises(ConfigError, match="names no program"):
        rq_settings({**env, "REDIS_URL_HARBOUR": redis_url})
    with pytest.raises(ConfigError, match="unset PROGRAM"):  # a program's folder as the FLOWS_DIR: its workers
        make_app({**env, "FLOWS_DIR": env["FLOWS_DIR"] + "/brook", "PROGRAM": "brook"})  # could not run
    one = make_env(redis_url, PROGRAM="harbor")  # the shipped FLOWS_DIR is one program: its name is not harbor
    with pytest.raises(ConfigError, match="unset PROGRAM"):
        make_app(one)
    with pytest.raises(ConfigError, match="unset PROGRAM"):
        rq_settings(one)


def test_the_ops_page_lists_only_this_programs_workers(both):
    from rq import Worker
    from service.ops import jobs
    brook, harbor = both
    worker = Worker([queues.queue(harbor.redis, queues.ALERTS)], connection=harbor.redis, name="harbor-w1")
    worker.register_birth()
    assert [w["name"] for w in jobs.workers(harbor.redis)] == ["harbor-w1"]
    assert jobs.workers(brook.redis) == []
    worker.register_death()


def test_a_worker_of_a_deployment_with_a_misnamed_program_folder_does_not_start(env, flows_dir):  # noqa: F811
    from service.config import ConfigError
    from service.programs import rq_settings
    (flows_dir / "brook").rename(flows_dir / "Brook-East")
    with pytest.raises(ConfigError, match="Brook-East"):
        rq_settings({**env, "PROGRAM": "harbor"})  # the scheduler and clock read only these settings
