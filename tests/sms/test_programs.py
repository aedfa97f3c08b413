"""Two programs on one deployment, each a folder of FLOWS_DIR with a Redis server of its own: a text
belongs to the program of the number it was sent to, and only ever touches that program's Redis; consent
is per program; a number no program has gets an empty answer; a program's console and API see only its
own people."""
import shutil

import pytest
import yaml

from devtools.embedded_redis import EmbeddedRedis
from flows.loader import DEFINITIONS, FlowError, load_directory
from service import programs
from service.config import Config, ConfigError
from service.store import accounts, apitokens, contacts, keys
from tests.conftest import CHEAP_HASH, NOON, Phone, emptied, make_app, make_env, replies, svc_of

NUMBER = "+16175550123"
A_NUMBER, B_NUMBER = "+18555909944", "+18885550100"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def second_redis(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis-b")).start()
    yield server.url
    server.stop()


def _program(folder, name: str, numbers: list[str]) -> None:
    shutil.copytree(DEFINITIONS, folder)
    path = folder / "program.yaml"
    data = path.read_text(encoding="utf-8")
    program = yaml.safe_load(data)["program"]
    block = f"program:\n  name: {program['name']}\n  phone: {program['phone']}\n"
    assert block in data
    numbers_yaml = "".join(f"    - \"{n}\"\n" for n in numbers)
    path.write_text(data.replace(block, f"program:\n  name: {name}\n  phone: {program['phone']}\n"
                                        f"  numbers:\n{numbers_yaml}"), encoding="utf-8")


@pytest.fixture
def flows_dir(tmp_path):
    root = tmp_path / "flows"
    _program(root / "brook", "Roaring Brook Recovery", [A_NUMBER, "whatsapp:" + A_NUMBER])
    _program(root / "harbor", "Harbor Light Center", [B_NUMBER])
    return root


@pytest.fixture
def redis(redis_url):
    """Brook's Redis (the suite's own server), with a client named for Brook as the service names it."""
    yield from emptied(redis_url, "brook")


@pytest.fixture
def redis_b(second_redis):
    """Harbor Light's Redis: a second server."""
    yield from emptied(second_redis, "harbor")


@pytest.fixture
def env(redis_url, redis, redis_b, second_redis, flows_dir):
    return make_env(redis_url, FLOWS_DIR=str(flows_dir), REDIS_URL_BROOK=redis_url, REDIS_URL_HARBOR=second_redis,
                    PROGRAM="brook")  # this app's console is Brook's; its webhook routes every program's texts


@pytest.fixture
def app(env):
    return make_app(env)


def kept(r) -> int:
    """What a Redis holds about people and their texts (an earlier test app's metrics flush may land late)."""
    return sum(1 for k in r.scan_iter() if b":metrics:" not in k)


def text(client, to: str, body: str, number: str = NUMBER):
    return Phone(client, number).text(body, To=to)


def test_a_text_gets_the_program_of_the_number_it_was_sent_to_and_touches_only_its_redis(client, redis, redis_b):
    assert "Roaring Brook Recovery" in replies(text(client, A_NUMBER, "HELP"))[0]
    assert kept(redis_b) == 0
    before = kept(redis)
    assert "Harbor Light Center" in replies(text(client, B_NUMBER, "HELP"))[0]
    assert kept(redis) == before and kept(redis_b) > 0


def test_consent_is_per_program(app, client):
    text(client, A_NUMBER, "SIGNS")
    text(client, B_NUMBER, "SIGNS")
    assert "unsubscribed" in replies(text(client, A_NUMBER, "STOP"))[0]
    assert replies(text(client, A_NUMBER, "SIGNS")) == []  # opted out of Roaring Brook
    assert replies(text(client, B_NUMBER, "TREATMENT"))  # still texting with Harbor Light
    table = app.extensions[programs.TABLE]
    brook, harbor = table["brook"], table["harbor"]
    assert contacts.read(brook.redis, brook.vault, brook.vault.person_key(NUMBER)).consent.value == "opted_out"
    assert contacts.read(harbor.redis, harbor.vault, harbor.vault.person_key(NUMBER)).consent.value == "subscribed"


def test_a_whatsapp_number_of_a_program_routes_to_it(client, redis_b):
    assert "Roaring Brook Recovery" in replies(text(client, "whatsapp:" + A_NUMBER, "HELP", "whatsapp:" + NUMBER))[0]
    assert kept(redis_b) == 0


@pytest.mark.parametrize("to", ["+18005550199", "whatsapp:" + B_NUMBER, "", "not a number"])
def test_a_number_no_program_has_gets_an_empty_answer_and_nothing_is_written(client, redis, redis_b, to):
    before = kept(redis)
    response = text(client, to, "SIGNS")
    assert response.status_code == 200 and replies(response) == []
    assert kept(redis) == before and kept(redis_b) == 0


def _staff(svc, email: str) -> None:
    accounts.create(svc.redis, email, PASSWORD, accounts.Role.STAFF, now=NOON, method=CHEAP_HASH)


def test_a_programs_console_sees_only_its_own_people_and_staff(env, client):
    text(client, A_NUMBER, "SIGNS")
    text(client, B_NUMBER, "SIGNS", number="+16175550124")
    brook_console = make_app({**env, "PROGRAM": "brook"})
    harbor_console = make_app({**env, "PROGRAM": "harbor"})
    _staff(svc_of(brook_console), "dana@brook.org")
    from tests.staff.test_staff import csrf
    harbor = harbor_console.test_client()
    refused = harbor.post("/staff/login", data={"email": "dana@brook.org", "password": PASSWORD,
                                                "csrf_token": csrf(harbor)})
    assert refused.status_code != 302  # a Brook account is not a Harbor account
    brook = brook_console.test_client()
    assert brook.post("/staff/login", data={"email": "dana@brook.org", "password": PASSWORD,
                                            "csrf_token": csrf(brook)}).status_code == 302
    harbor_person = svc_of(harbor_console).vault.person_key("+16175550124")
    for path in (f"/staff/inbox/{harbor_person}", f"/staff/contacts/{harbor_person}"):
        assert brook.get(path).status_code == 404
    assert "*******0124" not in brook.get("/staff/inbox/").get_data(as_text=True)
    assert "*******0123" in brook.get("/staff/inbox/").get_data(as_text=True)


def test_a_programs_api_token_reads_only_its_own_contacts(env, client):
    text(client, B_NUMBER, "SIGNS")
    brook = make_app({**env, "PROGRAM": "brook"})
    token, _ = apitokens.create(svc_of(brook).redis, "ehr", "tests", NOON)
    answer = brook.test_client().get(f"/api/v1/contacts/{NUMBER}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404  # the person texted Harbor Light, not Roaring Brook
    harbor = make_app({**env, "PROGRAM": "harbor"})
    refused = harbor.test_client().get(f"/api/v1/contacts/{NUMBER}", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401


def test_texts_go_from_the_programs_own_numbers(env):
    harbor = svc_of(make_app({**env, "PROGRAM": "harbor"}))
    brook = svc_of(make_app({**env, "PROGRAM": "brook"}))
    assert harbor.config.twilio_from_number == B_NUMBER
    assert (brook.config.twilio_from_number, brook.config.twilio_whatsapp_number) == (A_NUMBER, A_NUMBER)


def test_a_program_without_a_redis_of_its_own_shares_the_deployments(env):
    shared = {k: v for k, v in env.items() if k != "REDIS_URL_HARBOR"}
    harbor = programs.of_process(Config.from_env({**shared, "PROGRAM": "harbor"}))
    assert harbor.redis_url == env["REDIS_URL"] and harbor.program == "harbor"
    both = programs.of_process(Config.from_env({**env, "REDIS_URL_HARBOR": env["REDIS_URL_BROOK"]}))
    assert both.redis_url == env["REDIS_URL_BROOK"]  # two programs may name one Redis: their keys say whose
    from service.programs import rq_settings
    assert rq_settings({**shared, "PROGRAM": "harbor"}) == {"PROGRAM": "harbor", "REDIS_URL": env["REDIS_URL"]}
    assert rq_settings({**env, "PROGRAM": "harbor"})["REDIS_URL"] == env["REDIS_URL_HARBOR"]
    with pytest.raises(ConfigError, match="not a program"):
        programs.of_process(Config.from_env({**env, "PROGRAM": "nowhere"}))


def test_only_the_web_process_may_serve_every_program_and_numbers_are_each_programs_own(env, flows_dir):
    unset = {k: v for k, v in env.items() if k != "PROGRAM"}
    with pytest.raises(ConfigError, match="set PROGRAM"):
        programs.of_process(Config.from_env(unset))  # a console, a worker, the CLI: which program?
    assert programs.of_process(Config.from_env(unset), serves_all=True).program == "brook"
    with pytest.raises(ConfigError, match="TWILIO_MESSAGING_SERVICE_SID"):
        programs.of_process(Config.from_env({**env, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32}))
    from service.programs import rq_settings
    with pytest.raises(ConfigError, match="set PROGRAM"):
        rq_settings(unset)
    assert rq_settings(env) == {"PROGRAM": "brook", "REDIS_URL": env["REDIS_URL_BROOK"]}
    path = flows_dir / "harbor" / "program.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(B_NUMBER, A_NUMBER), encoding="utf-8")
    with pytest.raises(ConfigError, match="a number of both brook and harbor"):
        make_app(env)


def test_two_programs_may_not_share_a_name(env, flows_dir):
    path = flows_dir / "harbor" / "program.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Harbor Light Center", "roaring brook recovery "),
                    encoding="utf-8")  # staff choose a program by its name, and the migration tells whose by it
    with pytest.raises(ConfigError, match="brook and harbor are both named"):
        make_app(env)


def test_a_program_number_must_be_e164_or_whatsapp(flows_dir):
    path = flows_dir / "brook" / "program.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(f'"{A_NUMBER}"', '"555-1234"'), encoding="utf-8")
    with pytest.raises(FlowError, match="numbers"):
        load_directory(flows_dir / "brook")


def test_one_program_in_flows_dir_itself_is_as_before(redis_url, redis):
    assert programs.names(DEFINITIONS) == ()
    client = make_app(make_env(redis_url)).test_client()  # any To: the one program's (as before programs)
    assert "Roaring Brook Recovery" in replies(Phone(client).text("HELP", To="+18005550199"))[0]


def test_a_program_may_name_its_sentinel_primary_instead_of_a_url(env):
    sentinel = {k: v for k, v in env.items() if not k.startswith("REDIS_URL")} | {
        "REDIS_SENTINELS": "127.0.0.1:26379", "REDIS_SENTINEL_MASTER_BROOK": "brook-primary",
        "REDIS_SENTINEL_MASTER_HARBOR": "harbor-primary", "PROGRAM": "harbor"}
    config = programs.of_process(Config.from_env(sentinel))
    assert (config.redis_sentinel_master, config.redis_url, config.redis_sentinels) == \
        ("harbor-primary", "", (("127.0.0.1", 26379),))
    without = {k: v for k, v in sentinel.items() if k != "REDIS_SENTINEL_MASTER_HARBOR"}  # the deployment's primary
    assert programs.of_process(Config.from_env(without)).redis_sentinel_master == "mymaster"
    shared = programs.of_process(Config.from_env({**sentinel, "REDIS_SENTINEL_MASTER_HARBOR": "brook-primary"}))
    assert shared.redis_sentinel_master == "brook-primary"  # beside Brook, under keys and queues of its own


def test_the_web_process_shows_every_programs_readiness_and_is_not_ready_when_none_is(client, second_redis):
    answer = client.get("/readyz")
    assert set(answer.json["programs"]) == {"brook", "harbor"}
    assert all(checks["redis"] for checks in answer.json["programs"].values())
    assert answer.status_code == 503 and not answer.json["programs"]["harbor"]["worker"]  # no worker runs here


def _erase(app, *args) -> str:
    result = app.test_cli_runner().invoke(args=["ops", "erase", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_erasure_is_per_program_or_everywhere(app, client, redis, redis_b):
    text(client, A_NUMBER, "SIGNS")
    text(client, "whatsapp:" + A_NUMBER, "SIGNS", "whatsapp:" + NUMBER)
    text(client, B_NUMBER, "SIGNS")
    assert _erase(app, NUMBER) == "brook: erased 1 (SMS)\n"  # this process's program, the address given
    svc = svc_of(app)
    assert not svc.redis.exists(keys.of(svc.redis).contact(svc.vault.person_key(NUMBER)))
    assert svc.redis.exists(keys.of(svc.redis).contact(svc.vault.person_key('whatsapp:' + NUMBER)))
    assert replies(text(client, B_NUMBER, "TREATMENT"))  # Harbor Light still knows them
    out = _erase(app, NUMBER, "--everywhere")
    assert out == "brook: erased 1 (WhatsApp)\nharbor: erased 1 (SMS)\n" and NUMBER not in out
    assert _erase(app, NUMBER, "--everywhere") == "brook: nothing kept\nharbor: nothing kept\n"
    assert accounts.audit_log(redis)[0]["action"] == "delete_person"


def test_erase_everywhere_refuses_while_a_programs_redis_holds_the_old_key_names(app, client, redis_b):
    text(client, B_NUMBER, "SIGNS")  # a person of Harbor Light
    for key in list(redis_b.scan_iter(match="sms:{harbor}:*")):  # Harbor's Redis as the release before programs
        redis_b.rename(key, key.replace(b"sms:{harbor}:", b"sms:", 1))  # left it (enough for the check)
    result = app.test_cli_runner().invoke(args=["ops", "erase", NUMBER, "--everywhere"])
    assert result.exit_code != 0 and "nothing was erased" in result.output and "harbor" in result.output
    assert NUMBER not in result.output
    assert redis_b.exists("sms:contacts:recent")  # untouched, to be migrated and then erased


def test_erase_refuses_what_is_not_a_number(app):
    result = app.test_cli_runner().invoke(args=["ops", "erase", "617-555"])
    assert result.exit_code == 2 and "E.164" in result.output


def test_one_programs_outage_does_not_take_the_web_process_away_from_the_others(client, redis):
    from rq import Worker
    from rq.cron import CronScheduler
    from service import queues
    from workers.jobs import dispatch_due
    worker = Worker([queues.queue(redis, queues.ALERTS)], connection=redis)  # Brook's worker and clock are alive
    worker.register_birth()
    worker.heartbeat()
    clock = CronScheduler(connection=redis)
    clock.register(dispatch_due, queues.named("brook", queues.SCHEDULE), interval=1)
    clock.register_birth()
    clock.heartbeat()
    answer = client.get("/readyz")
    assert answer.status_code == 200  # Harbor's texts go to the fallback URL; Brook's are answered
    assert answer.json["ready"] is False and answer.json["not_ready"] == ["harbor"]
    assert all(answer.json["programs"]["brook"].values())


def test_erasing_an_opted_out_person_twice_finds_nothing_the_second_time(app, client):
    text(client, A_NUMBER, "SIGNS")
    text(client, A_NUMBER, "STOP")
    assert _erase(app, NUMBER) == "brook: erased 1 (SMS)\n"
    assert _erase(app, NUMBER) == "brook: nothing kept\n"  # only the opt-out is kept, and it stays honoured
    assert replies(text(client, A_NUMBER, "SIGNS")) == []


def test_erase_finds_a_person_still_under_an_older_phone_hash_key(env, client):
    text(client, A_NUMBER, "SIGNS")  # under the key of `env`
    rotated = make_app({**env, "PHONE_HASH_KEY": "a-newer-key," + env["PHONE_HASH_KEY"]})
    assert _erase(rotated, NUMBER) == "brook: erased 1 (SMS)\n"  # before rotate-keys has moved them
    svc = svc_of(rotated)
    assert not svc.redis.exists(keys.of(svc.redis).transcript(svc.vault.older_person_keys(NUMBER)[0]))


def test_metrics_are_scraped_per_program(env, client, redis_b):
    from service import create_app
    from tests.conftest import ManualClock
    web = create_app({**{k: v for k, v in env.items() if k != "PROGRAM"}, "METRICS_TOKEN": "m-token-1234567890"},
                     clock=ManualClock(NOON), surface="twilio")
    text(web.test_client(), B_NUMBER, "CALL")  # no other test here texts CALL (earlier apps' counts may land late)
    auth = {"Authorization": "Bearer m-token-1234567890"}
    scrape = web.test_client().get("/metrics?program=harbor", headers=auth)
    assert scrape.status_code == 200 and 'sms_replies_total{flow="call"} 1.0' in scrape.get_data(as_text=True)
    brook = web.test_client().get("/metrics?program=brook", headers=auth).get_data(as_text=True)
    assert "sms_replies_total" in brook and 'sms_replies_total{flow="call"}' not in brook
    assert web.test_client().get("/metrics?program=elsewhere", headers=auth).status_code == 404


def test_the_api_erases_a_person_still_under_an_older_phone_hash_key(env, client):
    text(client, A_NUMBER, "SIGNS")
    rotated = make_app({**env, "PHONE_HASH_KEY": "a-newer-key," + env["PHONE_HASH_KEY"]})
    svc = svc_of(rotated)
    token, _ = apitokens.create(svc.redis, "ehr", "tests", NOON)
    headers = {"Authorization": f"Bearer {token}"}
    assert rotated.test_client().get(f"/api/v1/contacts/{NUMBER}", headers=headers).status_code == 200  # moved
    assert rotated.test_client().delete(f"/api/v1/contacts/{NUMBER}", headers=headers).status_code == 204
    old = svc.vault.older_person_keys(NUMBER)[0]
    assert not svc.redis.exists(keys.of(svc.redis).transcript(old), keys.of(svc.redis).transcript(svc.vault.person_key(NUMBER)))


def test_each_center_may_keep_its_own_time_zone(env, redis_b):
    from datetime import datetime, timezone
    from service import create_app
    from tests.conftest import ManualClock
    nine_thirty_eastern = datetime(2026, 11, 25, 14, 30, tzinfo=timezone.utc).timestamp()  # a Wednesday
    web = create_app({**{k: v for k, v in env.items() if k != "PROGRAM"}, "CENTER_TIMEZONE_HARBOR": "America/Los_Angeles"},
                     clock=ManualClock(nine_thirty_eastern), surface="twilio")
    phone = web.test_client()
    brook, harbor = replies(text(phone, A_NUMBER, "CALL"))[0], replies(text(phone, B_NUMBER, "CALL", "+16175550124"))[0]
    assert "PST" not in brook and "after 9:00 AM PST today" in harbor  # Brook is open (9:30 AM ET); Harbor at 9 its time
    with pytest.raises(ConfigError, match="CENTER_TIMEZONE_HARBOUR names no program"):
        programs.config_for(Config.from_env({**env, "CENTER_TIMEZONE_HARBOUR": "Europe/London"}), "brook")


def test_a_crisis_pages_the_on_call_staff_of_its_own_program(env, client, redis, redis_b):
    from service.store import settings
    settings.replace(redis, {"STAFF_ALERT_NUMBERS": "+16175550100"})  # Brook's on-call, set in its console
    settings.replace(redis_b, {"STAFF_ALERT_NUMBERS": "+16175550199"})  # Harbor Light's
    answer = replies(text(client, B_NUMBER, "my brother took something and wont wake up"))
    assert "call 911" in answer[0]
    harbor = programs.config_for(Config.from_env(env), "harbor")
    from service.privacy import Vault
    vault = Vault.from_config(harbor)
    alerts = [redis_b.hgetall(k) for k in redis_b.scan_iter(keys.of(redis_b).message("alert_*"))]
    assert [vault.decrypt(a[b"to"]) for a in alerts] == ["+16175550199"]
    assert vault.decrypt(alerts[0][b"body"]).startswith("URGENT Harbor Light Center:")
    assert not list(redis.scan_iter(keys.of(redis).message("alert_*")))  # Brook's on-call is not paged for Harbor's texter


def test_each_program_may_have_its_own_on_call_numbers_from_the_environment(env, redis, redis_b):
    from service import create_app
    from service.privacy import Vault
    from tests.conftest import ManualClock
    deployment = {**{k: v for k, v in env.items() if k != "PROGRAM"}, "STAFF_ALERT_NUMBERS": "+16175550100",
                  "STAFF_ALERT_NUMBERS_HARBOR": "+16175550199"}
    phone = create_app(deployment, clock=ManualClock(NOON), surface="twilio").test_client()
    text(phone, B_NUMBER, "he turned blue and isnt breathing")
    text(phone, A_NUMBER, "he turned blue and isnt breathing", "+16175550124")
    vault = Vault.from_config(Config.from_env(deployment))
    paged = {name: sorted(vault.decrypt(r.hget(k, "to")) for k in r.scan_iter(keys.of(r).message("alert_*")))
             for name, r in (("brook", redis), ("harbor", redis_b))}
    assert paged == {"brook": ["+16175550100"], "harbor": ["+16175550199"]}
    with pytest.raises(ConfigError, match="STAFF_ALERT_NUMBERS_HARBOUR names no program"):
        programs.config_for(Config.from_env({**env, "STAFF_ALERT_NUMBERS_HARBOUR": "+16175550199"}), "brook")
