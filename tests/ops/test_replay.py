"""Replaying the fallback spool: messages apply as of when they were received, never over newer news,
and never bring back a person whose data was erased."""
import pytest

from devtools.embedded_redis import free_port
from service import queues
from service.store import followups, keys, people
from tests.conftest import CHEAP_HASH, Phone, make_app, make_env, new_sid, post_signed, replies, svc_of

NUMBER = "+16175550123"


@pytest.fixture
def apps(tmp_path, redis_url, redis, clock):
    """The same service twice on one clock: `down` while Redis is unreachable (Twilio uses the fallback
    URL), `up` once it is back."""
    env = make_env(redis_url, SPOOL_DIR=str(tmp_path), STAFF_ALERT_NUMBERS="+16175550100")
    down = make_app({**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}, clock)
    return down, make_app(env, clock)


def during_outage(down, body, number=NUMBER):
    return replies(post_signed(down.test_client(), "/twilio/fallback",
                               {"MessageSid": new_sid(), "From": number, "Body": body}))


def replay(up) -> str:
    return up.test_cli_runner().invoke(args=["ops", "replay-fallback"]).output


def pk_of(app, number=NUMBER):
    return svc_of(app).vault.person_key(number)


def test_a_start_from_the_outage_never_undoes_a_later_stop(apps, redis, clock):
    down, up = apps
    during_outage(down, "START")
    clock.advance(600)
    Phone(up.test_client()).text("STOP")
    clock.advance(600)
    assert "1 stale" in replay(up)
    assert people.consent_of(redis, pk_of(up)).value == "opted_out"
    history = people.consent_history(redis, pk_of(up))
    assert [(h["state"], h["keyword"]) for h in history] == [("opted_out", "STOP")]



def test_a_stop_landing_while_a_start_from_the_outage_replays_still_wins(apps, redis, clock, monkeypatch):
    """The replay's write is refused by the live STOP that landed while it decided; deciding again, it
    sees the STOP is newer (stale news, judged on the state of that pass) and never re-subscribes."""
    from service.sms import inbound as handling
    down, up = apps
    Phone(up.test_client()).text("TREATMENT")
    clock.advance(60)
    during_outage(down, "START")
    clock.advance(600)
    real, raced = handling.decide, []

    def decide_while_a_stop_lands(flows, policy, texter, body, now, *reader):
        if body == "START" and not raced:
            raced.append(Phone(up.test_client()).text("STOP"))
        return real(flows, policy, texter, body, now, *reader)
    monkeypatch.setattr(handling, "decide", decide_while_a_stop_lands)
    assert "1 stale" in replay(up)
    assert people.consent_of(redis, pk_of(up)).value == "opted_out"
    assert people.consent_history(redis, pk_of(up))[-1]["keyword"] == "STOP"

def test_a_stale_stop_still_opts_out(apps, redis, clock):
    down, up = apps
    during_outage(down, "STOP")
    clock.advance(60)
    Phone(up.test_client()).text("SIGNS")
    assert followups.everything_pending(redis, pk_of(up))
    replay(up)
    assert people.consent_of(redis, pk_of(up)).value == "opted_out"
    assert followups.everything_pending(redis, pk_of(up)) == ()
    stop = people.consent_history(redis, pk_of(up))[-1]
    assert stop["keyword"] == "STOP" and stop["at"] == clock.now() - 60  # stamped when it was received


def test_a_stale_keyword_starts_no_followups(apps, redis, clock):
    down, up = apps
    during_outage(down, "SIGNS")
    clock.advance(60)
    Phone(up.test_client()).text("TREATMENT")
    replay(up)
    assert {followups.FollowUpId.parse(f).flow for f in followups.pending_of(redis, pk_of(up))} == {"treatment"}
    assert followups.timeout_of(redis, pk_of(up)) is None  # nor does SIGNS' question time out later


def test_news_from_the_outage_applies_as_of_when_it_was_received(apps, redis, clock):
    down, up = apps
    received = clock.now()
    during_outage(down, "TREATMENT")
    clock.advance(3600)
    assert "1 applied" in replay(up)
    pk = pk_of(up)
    assert [f.flow for f in map(followups.FollowUpId.parse, followups.pending_of(redis, pk))] == ["treatment"] * 2
    assert followups.FollowUpId.parse(followups.pending_of(redis, pk)[0]).scheduled_at == int(received)
    assert people.consent_history(redis, pk)[0]["at"] == received
    [message] = people.transcript(redis, svc_of(up).vault, pk)  # the fallback answered it; nothing resent
    assert message["dir"] == "in" and message["at"] == received


def test_a_crisis_from_the_outage_reaches_staff(apps, redis):
    down, up = apps
    assert "988" in during_outage(down, "my brother overdosed")[0]
    replay(up)
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 1
    assert [j.args[0] for j in queues.queue(redis, queues.ALERTS).jobs][0].startswith("alert_")


def test_replay_never_brings_an_erased_person_back(apps, redis, clock):
    from service.store import accounts
    from service.store.accounts import Role
    from tests.staff.test_staff import PASSWORD, login
    down, up = apps
    during_outage(down, "SIGNS")
    clock.advance(60)
    Phone(up.test_client()).text("CALL")
    accounts.create(redis, "admin@center.org", PASSWORD, Role.ADMIN, now=clock.now(), method=CHEAP_HASH)
    admin = login(up, "admin")
    assert admin.post(f"/staff/people/{pk_of(up)}/delete", data={"csrf_token": admin.token}).status_code == 302
    clock.advance(60)
    assert "1 erased" in replay(up)
    pk = pk_of(up)
    assert redis.hget(keys.of(redis).contact(pk), "phone") is None and not redis.exists(keys.of(redis).transcript(pk))
    assert followups.pending_of(redis, pk) == () and redis.zcard(keys.of(redis).FOLLOWUPS_DUE) == 0
    assert redis.exists(keys.of(redis).tombstone(pk))


def test_the_spool_is_private_and_gone_after_replay(apps, tmp_path):
    down, up = apps
    during_outage(down, "STOP")
    spool = tmp_path / "fallback.spool"
    assert spool.stat().st_mode & 0o777 == 0o600
    replay(up)
    assert list(tmp_path.iterdir()) == []
