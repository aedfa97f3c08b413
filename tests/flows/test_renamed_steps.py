"""A step renamed in the builder keeps the people waiting at it: the step lists the names it had
(`formerly`), and a conversation, a question's timeout or a planned text holding an old name finds it."""
from pathlib import Path

import pytest
import yaml

from flows.loader import FlowError, load_documents
from service.staff import flowforms
from service.store import flowdocs, keys
from tests.conftest import replies, svc_of

DEFINITIONS = Path(__file__).resolve().parents[2] / "flows" / "definitions"
LANGUAGES = ["en", "es"]


def renamed(docs: dict[str, str], old: str, new: str) -> dict[str, str]:
    """The signs flow as the builder writes it after `old` was renamed `new`."""
    form = flowforms.flow_to_form(yaml.safe_load(docs["signs.yaml"]), LANGUAGES)
    for step in form["steps"]:
        if step["name"] == old:
            step["name"] = new
    flowforms._rename(form)
    doc = flowforms.form_to_doc(form, 4, LANGUAGES)
    return {**docs, "signs.yaml": flowforms.dump(doc)}


def test_the_builder_writes_the_names_a_step_had():
    docs = renamed(flowdocs.seed_documents(DEFINITIONS), "ask", "who")
    step = yaml.safe_load(docs["signs.yaml"])["steps"]["who"]
    assert step["formerly"] == ["ask"]
    again = renamed(docs, "who", "ask")  # renamed back: its own name is no alias; people at "who" come along
    assert yaml.safe_load(again["signs.yaml"])["steps"]["ask"]["formerly"] == ["who"]
    flow = load_documents(docs).flows["signs"]
    assert flow.current("ask") == "who" and flow.step("ask").name == "who" and flow.current("gone") is None


def test_two_steps_cannot_both_have_been_one(tmp_path):
    docs = renamed(flowdocs.seed_documents(DEFINITIONS), "ask", "who")
    doc = yaml.safe_load(docs["signs.yaml"])
    doc["steps"]["self"]["formerly"] = ["ask"]
    with pytest.raises(FlowError, match="were both called ask"):
        load_documents({**docs, "signs.yaml": flowforms.dump(doc)})


def test_someone_waiting_at_a_step_renamed_since_gets_their_answer(phone, redis, app, clock):
    [_, question] = replies(phone.text("SIGNS"))
    assert "ME or OTHER" in question
    flowdocs.publish(redis, renamed(flowdocs.seed_documents(DEFINITIONS), "ask", "who"), "staff@center.org",
                     "renamed ask", clock.now())
    [answer] = replies(phone.text("ME"))
    assert "SIGNS" not in answer and "ME or OTHER" not in answer  # the ME branch, not the menu or the question


def test_a_text_planned_at_the_old_name_is_still_sent():
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo
    from flows.engine import Conversation, Policy, Texter, send_step
    from flows.hours import parse_weekly
    flows = load_documents(renamed(flowdocs.seed_documents(DEFINITIONS), "nudge", "check_in"))
    now = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    asked = Texter(conversation=Conversation("signs", "ask", (now - timedelta(days=1)).timestamp()))
    decision = send_step(flows, Policy(parse_weekly("Mon-Fri 09:00-17:00")), asked, "signs", "nudge", now)
    assert decision is not None and decision.sources[0] == "signs/check_in" and decision.replies
