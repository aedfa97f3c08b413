"""Property: whatever the interleaving of texts, dispatch ticks and job runs, nothing is sent after STOP."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import create_app
from service.clock import ManualClock
from service.store import followups, outbox as outbox_store
from tests.conftest import NOON, Phone, make_env, svc_of
from workers.followup import send_followup
from workers.runtime import make_runtime

WORDS = ["SIGNS", "TREATMENT", "CALL", "STOP", "START", "HELP", "hello", "unsubscribe", "yes"]
OPT_OUT = {"STOP", "unsubscribe"}
OPT_IN = {"START", "yes"}

events = st.lists(st.one_of(
    st.tuples(st.just("text"), st.sampled_from(WORDS)),
    st.tuples(st.just("tick"), st.integers(min_value=1, max_value=20 * 24)),  # hours ahead
    st.tuples(st.just("run"), st.just(0)),
), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events)
def test_no_followup_is_sent_to_an_opted_out_person(redis_url, redis, steps):
    redis.flushdb()
    clock = ManualClock(NOON)
    app = create_app(make_env(redis_url, SEND_HOURS="Mon-Sun 00:00-24:00"), clock=clock)
    rt = make_runtime(svc_of(app))
    phone = Phone(app.test_client())
    subscribed, tick, enqueued = True, clock.now(), []
    for kind, value in steps:
        if kind == "text":
            phone.text(value)
            subscribed = False if value in OPT_OUT else True if value in OPT_IN else subscribed
        elif kind == "tick":  # the dispatcher takes what is due into RQ (here: a list)
            tick += value * 3600
            taken = followups.take_due(redis, tick, 100)
            followups.remove_dispatched(redis, taken)
            enqueued += [followups.job_arg(member, due) for member, due in taken]
        else:  # workers run the enqueued jobs, possibly long after the tick
            before = len(outbox_store.read(redis, rt.svc.vault))
            clock.set(max(tick, clock.now()))
            for fid in enqueued:
                send_followup(rt, fid)
            enqueued = []
            sent = len(outbox_store.read(redis, rt.svc.vault)) - before
            assert subscribed or sent == 0, f"{sent} follow-up(s) sent after STOP"
