"""The conversation rules of flows.engine, as tables: answers, otherwise, timeouts, next steps, chains,
expiry, and what always wins (STOP/START/HELP, crisis, keywords). Pure: a FlowSet and fixed times."""
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import crisis_talk
from flows.engine import (Consent, Conversation, Event, Policy, ScheduledFollowUp, StepEvent, Texter, decide,
                          send_step)
from flows.hours import parse_weekly
from flows.loader import DEFINITIONS, load_documents
from flows.matching import Intent
from tests.flows.test_loader import CHECKIN

NY = ZoneInfo("America/New_York")
NOW = datetime(2025, 1, 15, 10, 0, tzinfo=NY)
DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted(DEFINITIONS.glob("*.yaml"))}
FLOWS = load_documents({**DOCS, "checkin.yaml": CHECKIN})
POLICY = Policy(parse_weekly("Mon-Fri 09:00-17:00"))
ASKED = Conversation("checkin", "ask", NOW.timestamp() - 60)
TEXT = {name: FLOWS.text(step.text) for name, step in FLOWS.flows["checkin"].steps.items()}
MENU, STOP, HELP = FLOWS.message("menu"), FLOWS.message("stop"), FLOWS.message("help")
PROMPT = FLOWS.message("choices", choices="ME or OTHER")


def waiting(conversation=ASKED, **kwargs) -> Texter:
    return Texter(Consent.SUBSCRIBED, False, conversation=conversation, **kwargs)


def run(body: str, texter: Texter = None, now: datetime = NOW):
    return decide(FLOWS, POLICY, texter or waiting(), body, now)


@pytest.mark.parametrize("body,go", [
    ("ME", "self"), ("me", "self"), ("Me!", "self"), ("myself please", "self"), ("1", "self"), ("1.", "self"),
    ("mysef", "self"),  # a small typo in a longer word
    ("OTHER", "other"), ("someone", "other"), ("family", "other"), ("2", "other"), ("Othr", "other"),
])
def test_an_answer_picks_its_branch(body, go):
    d = run(body)
    assert d.intent is Intent.FLOW and d.replies[0] == TEXT[go]
    assert d.sources == (f"checkin/{go}",) and d.conversation is None and d.conversation_changed
    assert d.cancel_timeout  # the question's timeout is dropped
    assert d.events[0] == StepEvent(Event.ANSWER, "checkin", "ask", 0 if go == "self" else 1)


def test_a_branch_remembers_and_schedules_its_next_step():
    d = run("me")
    assert d.vars == {"audience": "self"}
    assert d.schedule == (ScheduledFollowUp("checkin", "self_checkin", timedelta(days=1)),)


def test_a_branch_can_queue_a_call_back_and_staff_hear_of_it():
    d = run("other")
    assert d.callback and d.alert is not None and d.vars == {"audience": "other"}


def test_a_keyword_starts_its_flow_and_asks():
    d = run("checkin", Texter(first_contact=False))
    assert d.replies == (TEXT["ask"],) and d.conversation == Conversation("checkin", "ask", NOW.timestamp())
    assert d.schedule == (ScheduledFollowUp("checkin", "nudge", timedelta(minutes=30), timeout=True),) and d.cancel_followups


@pytest.mark.parametrize("misses,expected_reply,still_waiting", [(0, "prompt", True), (1, "menu", False)])
def test_an_unexpected_reply_gets_a_short_prompt_naming_the_choices_once_then_the_menu(misses, expected_reply,
                                                                                       still_waiting):
    d = run("banana", waiting(replace(ASKED, misses=misses)))
    assert d.replies == ((PROMPT,) if expected_reply == "prompt" else (MENU,))
    assert (d.conversation is not None) is still_waiting and d.conversation_changed and not d.understood
    assert d.events[0] == StepEvent(Event.OTHERWISE, "checkin", "ask")
    if still_waiting:  # the question's clock and timeout stay as they were: nothing is resent
        assert d.conversation == replace(ASKED, misses=1) and d.schedule == () and not d.cancel_timeout


@pytest.mark.parametrize("body", ["ok thanks", "thank you so much", "ok", "gracias"])
def test_thanks_at_a_question_is_not_answered_with_the_whole_question(body):
    d = run(body)
    assert d.replies in ((PROMPT,), (FLOWS.message("choices", "es", choices="ME u OTHER"),))


def test_start_from_someone_who_never_opted_out_is_no_resubscription_and_the_question_waits():
    d = run("START")
    assert d.replies == (PROMPT,) and d.consent is Consent.SUBSCRIBED and not d.consent_changed
    assert d.conversation == replace(ASKED, misses=1)


@pytest.mark.parametrize("body", ["ok thanks", "Thank you!!", "thx", "ok gracias"])
def test_thanks_after_a_conversation_gets_a_short_kind_answer(body):
    d = run(body, Texter(Consent.SUBSCRIBED, False))
    assert d.intent is Intent.THANKS and d.replies in ((FLOWS.message("thanks"),), (FLOWS.message("thanks", "es"),))
    assert MENU not in d.replies


@pytest.mark.parametrize("body,intent,reply,ends", [
    ("STOP", Intent.OPT_OUT, STOP, True),
    ("please stop texting me", Intent.OPT_OUT, STOP, True),
    ("HELP", Intent.HELP, HELP, False),     # answered; the question keeps waiting
])
def test_compliance_words_win_over_a_waiting_question(body, intent, reply, ends):
    d = run(body)
    assert d.intent is intent and d.replies == (reply,)
    assert d.conversation_changed is ends and (d.conversation is None if ends else True)


def test_crisis_words_win_and_end_the_conversation():
    d = run("me, I overdosed and can't breathe")
    assert d.crisis and d.replies == (crisis_talk.text(FLOWS, POLICY, Texter(), "crisis"),)
    assert d.conversation is None and d.conversation_changed
    assert d.cancel_followups and d.schedule == ()


def test_another_keyword_ends_the_waiting_question():
    d = run("TREATMENT")
    assert d.flow == "treatment" and d.cancel_followups and d.conversation is None and d.conversation_changed


def test_a_word_that_is_both_a_keyword_and_an_answer_is_the_answer():
    flows = load_documents({**DOCS, "checkin.yaml": CHECKIN.replace("[OTHER, SOMEONE, FAMILY", "[OTHER, CALL")})
    d = decide(flows, POLICY, waiting(), "CALL", NOW)
    assert d.flow == "checkin" and d.sources == ("checkin/other",)


def test_a_question_left_waiting_expires():
    old = replace(ASKED, since=NOW.timestamp() - 73 * 3600)
    assert run("me", waiting(old)).replies == (FLOWS.message("unclear"),)
    assert run("me", waiting(old), ).conversation is None
    short = replace(POLICY, conversation_hours=1)
    assert decide(FLOWS, short, waiting(replace(ASKED, since=NOW.timestamp() - 7200)), "me", NOW).replies == \
        (FLOWS.message("unclear"),)


def test_a_conversation_in_a_flow_that_no_longer_exists_is_forgotten():
    assert run("me", waiting(Conversation("gone", "ask", NOW.timestamp()))).replies == (FLOWS.message("unclear"),)


def test_next_without_a_wait_chains_steps_in_one_answer():
    d = decide(FLOWS, POLICY, Texter(first_contact=True), "SIGNS", NOW)
    assert d.sources == ("signs/signs", "signs/ask") and d.replies[0].endswith(FLOWS.message("disclosure"))
    assert d.replies[1] == FLOWS.text(FLOWS.flows["signs"].steps["ask"].text)


def test_a_timeout_sends_its_step_and_keeps_the_question_waiting():
    d = send_step(FLOWS, POLICY, waiting(), "checkin", "nudge", NOW)
    assert d.replies == (TEXT["nudge"] + " Reply STOP to opt out.",)  # sent unprompted: says how to stop
    assert d.conversation == replace(ASKED, since=NOW.timestamp()) and d.conversation_changed
    assert d.events == (StepEvent(Event.TIMEOUT, "checkin", "ask"), StepEvent(Event.REACHED, "checkin", "nudge"))


def test_a_later_step_is_sent_with_its_own_text():
    d = send_step(FLOWS, POLICY, waiting(None), "checkin", "self_checkin", NOW)
    assert d.replies == ("Checking in from Roaring Brook Recovery. ... Reply STOP to opt out.",)
    assert not d.conversation_changed


@pytest.mark.parametrize("flow,ref", [("gone", "ask"), ("checkin", "gone"), ("treatment", 7), ("signs", 0)])
def test_a_step_whose_flow_or_step_is_gone_sends_nothing(flow, ref):
    assert send_step(FLOWS, POLICY, waiting(None), flow, ref, NOW) is None


def test_todays_timed_followups_still_send_their_text():
    d = send_step(FLOWS, POLICY, waiting(None), "treatment", 0, NOW)
    assert d.replies == (FLOWS.render(FLOWS.text(FLOWS.flows["treatment"].followups[0].text)),)


def test_an_answer_beyond_the_hourly_budget_moves_nothing():
    d = run("me", waiting(replies_last_hour=99))
    assert d.replies == () and not d.conversation_changed and d.schedule == () and d.events == ()


OPT_OUTS = ["STOP", "stop", "Stop.", "STOPALL", "unsubscribe", "CANCEL", "end", "quit", "opt out",
            "please stop texting me", "no more texts", "leave me alone", "i want you to stop texting me",
            "No thanks, stop", "Stopp", "Phone is not mine, stop texting me", "Warning: stop texting me"]
CONVERSATIONS = st.one_of(st.none(), st.builds(
    Conversation, st.sampled_from(["checkin", "signs", "gone"]), st.sampled_from(["ask", "self", "nudge", "x"]),
    st.floats(NOW.timestamp() - 200 * 3600, NOW.timestamp()), st.integers(0, 3)))


@settings(max_examples=400, deadline=None)
@given(conversation=CONVERSATIONS, word=st.sampled_from(OPT_OUTS), replies=st.integers(0, 50),
       first=st.booleans(), consent=st.sampled_from(list(Consent)))
def test_stop_always_wins_at_any_step(conversation, word, replies, first, consent):
    texter = Texter(consent, first, replies, 0, conversation=conversation)
    d = decide(FLOWS, POLICY, texter, word, NOW)
    assert d.intent is Intent.OPT_OUT and d.consent is Consent.OPTED_OUT and d.cancel_followups
    assert d.conversation is None and d.schedule == () and not d.callback
    assert d.replies[-1:] == (STOP,) or (consent is Consent.OPTED_OUT and replies >= POLICY.replies_per_hour)
