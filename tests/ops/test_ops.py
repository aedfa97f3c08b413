"""Readiness, the fallback URL with Redis down, and the ops CLI."""
import time

import pytest
from redis import Redis

from service import queues
from tests.conftest import Phone, make_env, new_sid, post_signed, replies, svc_of, make_app


def test_readyz_needs_a_worker_and_the_clock(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"redis": True, "worker": False, "clock": False, "keys": True}


def test_readyz_and_sms_with_redis_down(tmp_path):
    from devtools.embedded_redis import free_port
    app = make_app(make_env(f"redis://127.0.0.1:{free_port()}/0", SPOOL_DIR=str(tmp_path)))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    started = time.monotonic()
    response = Phone(client).text("SIGNS")
    assert response.status_code == 503 and time.monotonic() - started < 5
    started = time.monotonic()
    assert Phone(client).text("TREATMENT").status_code == 503
    assert time.monotonic() - started < 0.5  # the breaker answers at once while Redis is known down


def test_fallback_answers_without_redis_and_spools(tmp_path, redis_url, redis):
    from devtools.embedded_redis import free_port
    down = make_app(make_env(f"redis://127.0.0.1:{free_port()}/0", SPOOL_DIR=str(tmp_path)))
    client = down.test_client()

    def fallback(body, sid=None):
        params = {"MessageSid": sid or new_sid(), "From": "+16175550123", "Body": body}
        return post_signed(client, "/twilio/fallback", params)

    [safe] = replies(fallback("SIGNS"))
    assert "911" in safe and "988" in safe and "855.590.9944" in safe
    assert "unsubscribed" in replies(fallback("STOP", sid="SMstopdown1"))[0]
    assert "988" in replies(fallback("he overdosed"))[0]
    assert post_signed(client, "/twilio/fallback", {"MessageSid": "SMx", "From": "+16175550123"},
                       signature="bad").status_code == 403
    # Redis is back: replaying the spool applies the STOP that arrived during the outage
    up = make_app({**make_env(redis_url, SPOOL_DIR=str(tmp_path)),
                     "DATA_ENCRYPTION_KEY": svc_of(down).config.data_encryption_key.reveal()})
    result = up.test_cli_runner().invoke(args=["ops", "replay-fallback"])
    assert "replayed 3" in result.output
    assert replies(Phone(up.test_client()).text("TREATMENT")) == []  # opted out during the outage


def test_ops_status_prints_the_summary(app, phone, redis):
    phone.text("CALL")
    phone.text("TREATMENT")
    queues.queue(redis, queues.ALERTS).enqueue("workers.jobs.send_message", "x")
    output = app.test_cli_runner().invoke(args=["ops", "status"]).output
    assert "redis      ok" in output and "worker     NOT READY" in output
    assert "queue alerts     queued=1" in output
    assert "follow-ups pending=2" in output and "callbacks waiting=1" in output


def test_metrics_need_a_token_and_count_what_happened(redis_url, redis):
    # a Redis database of its own: the apps of earlier tests flush their last counts in the background
    # (once a second) to the shared one, which made these exact counts flaky
    own = redis_url.rsplit("/", 1)[0] + "/7"
    Redis.from_url(own).flushdb()
    app = make_app(make_env(own, METRICS_TOKEN="scrape-token"))
    client = app.test_client()
    phone = Phone(client)
    phone.text("SIGNS")
    phone.text("CALL")
    phone.text("STOP")
    post_signed(client, "/twilio/sms", {"MessageSid": "SMbad", "From": "+16175550123"}, signature="x")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    text = client.get("/metrics", headers={"Authorization": "Bearer scrape-token"}).get_data(as_text=True)
    assert 'sms_webhook_requests_total{outcome="answered"} 3.0' in text
    assert 'sms_webhook_requests_total{outcome="forbidden"} 1.0' in text
    assert 'sms_replies_total{flow="signs"} 1.0' in text and "sms_opt_outs_total 1.0" in text
    assert 'sms_webhook_latency_seconds_count 4.0' in text
    assert "sms_callbacks_waiting 1.0" in text and 'sms_queue_depth{queue="followups"} 0.0' in text


def test_replay_survives_an_unreadable_line_and_an_interrupted_run(tmp_path, redis_url, redis):
    env = make_env(redis_url, SPOOL_DIR=str(tmp_path))
    app = make_app(env)
    vault = svc_of(app).vault
    import json
    lines = [vault.encrypt(json.dumps({"sid": "SMspool1", "from": "+16175550123", "body": "STOP"})), "garbage",
             vault.encrypt(json.dumps({"sid": "SMspool2", "from": "+16175550124", "body": "CALL"}))]
    (tmp_path / "fallback.replaying-1").write_text("\n".join(lines) + "\n")  # left by an interrupted replay
    output = app.test_cli_runner().invoke(args=["ops", "replay-fallback"]).output
    assert "replayed 2 stale" in output and "1 unreadable line(s) kept in" in output  # undated: never news
    assert redis.zcard("sms:{main}:callbacks:waiting") == 1
    kept = tmp_path / "fallback.unreadable-1"
    assert kept.read_text() == "garbage\n" and kept.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "fallback.replaying-1").exists()  # replayed: deleted


def test_fallback_always_confirms_stop_and_budgets_the_rest(tmp_path):
    from devtools.embedded_redis import free_port
    client = make_app(make_env(f"redis://127.0.0.1:{free_port()}/0", SPOOL_DIR=str(tmp_path))).test_client()

    def fallback(body):
        params = {"MessageSid": new_sid(), "From": "+16175550188", "Body": body}
        return replies(post_signed(client, "/twilio/fallback", params))
    assert all(fallback("SIGNS") for _ in range(3)) and fallback("SIGNS") == []
    assert "unsubscribed" in fallback("STOP")[0]
    assert "988" in fallback("i want to kill myself")[0]


def test_fallback_answers_fast_with_redis_down(tmp_path):
    import time
    from devtools.embedded_redis import free_port
    client = make_app(make_env(f"redis://127.0.0.1:{free_port()}/0", SPOOL_DIR=str(tmp_path))).test_client()
    started = time.monotonic()
    params = {"MessageSid": new_sid(), "From": "+16175550189", "Body": "SIGNS"}
    assert replies(post_signed(client, "/twilio/fallback", params))
    assert time.monotonic() - started < 0.5  # no Redis call on this path


@pytest.mark.parametrize("offered", ["Bearer café", "Bearer \xff\xfe", "Bearer ", "café", "Basic abc"])
def test_metrics_refuse_any_token_without_an_error(redis_url, redis, offered):
    """A non-ASCII bearer token used to answer 500 (compare_digest on str): now a plain 401."""
    client = make_app(make_env(redis_url, METRICS_TOKEN="scrape-token")).test_client()
    assert client.get("/metrics", headers={"Authorization": offered}).status_code == 401
