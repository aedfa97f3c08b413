"""Flows built in the console, without YAML: create, steps and answers, the picture, drafts, publish,
a readable diff, rollback, delete, discard, YAML export and import (with line numbers), the simulator."""
import html
import io
import re

import pytest

from service import queues
from service.store import accounts, flowdocs, followups, outbox
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, NOON, Phone, make_app, make_env, replies, svc_of
from tests.staff.test_staff import PASSWORD, login
from workers.dispatch import dispatch_due
from workers.followup import send_followup
from workers.runtime import make_runtime


@pytest.fixture
def admin_app(redis_url, redis, clock):
    app = make_app(make_env(redis_url), clock)
    for role in Role:
        accounts.create(redis, f"{role.value}@center.org", PASSWORD, role, now=NOON, method=CHEAP_HASH)
    return app


def fields(page: str) -> dict:
    """Every named field of the builder's form as the browser would send it."""
    found = {}
    for name, value in re.findall(r'<input id="[^"]*" name="([^"]+)" value="([^"]*)"', page):
        found[name] = html.unescape(value)
    for name, text in re.findall(r'<textarea id="[^"]*" name="([^"]+)"[^>]*>([^<]*)</textarea>', page):
        found[name] = html.unescape(text)
    for name, body in re.findall(r'<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        found[name] = chosen.group(1) if chosen else ""
    for name in re.findall(r'<input type="checkbox" name="([^"]+)" value="1" checked>', page):
        found[name] = "1"
    found["flow"] = re.search(r'<input type="hidden" name="flow" value="([^"]+)"', page).group(1)
    return found


def press(client, name: str, op: str, **changes):
    page = client.get(f"/staff/flows/edit/{name}").get_data(as_text=True)
    return client.post(f"/staff/flows/edit/{name}", data={**fields(page), **changes, "op": op,
                                                           "csrf_token": client.token})


def publish(client, note="t"):
    return client.post("/staff/flows/publish", data={"csrf_token": client.token, "note": note})


def test_a_flow_built_from_nothing_goes_live_and_joins_the_menu(admin_app, redis):
    admin = login(admin_app, "admin")
    created = admin.post("/staff/flows/new", data={"csrf_token": admin.token, "flow": "checkin", "keyword": "CHECKIN"})
    assert created.status_code == 302 and created.location.endswith("/staff/flows/edit/checkin?step=start")
    press(admin, "checkin", "add_step", new_step="self")
    press(admin, "checkin", "add_step", new_step="other")
    press(admin, "checkin", "add_answer:0")
    press(admin, "checkin", "add_answer:0")
    fields = {
        "step.0.text.en": "Is this about you or someone you care about? Reply ME or OTHER.",
        "step.0.answer.0.match.en": "ME, MYSELF, 1", "step.0.answer.0.go": "self",
        "step.0.answer.1.match.en": "OTHER, 2", "step.0.answer.1.go": "other",
        "step.1.text.en": "Thank you for telling us. Reply CALL and our team will phone you.",
        "step.1.set": "audience=self",
        "step.2.text.en": "Caring about someone who uses is hard. Reply CALL to talk with us.",
        "step.2.callback": "1"}
    unsaid = press(admin, "checkin", "save", **fields)  # the menu would list CHECKIN without saying what it is for
    assert unsaid.status_code == 422
    assert 'id="problem-summary">summary: the menu says what every keyword is for' in unsaid.get_data(as_text=True)
    fields["summary.en"] = "a quick check-in"
    english_only = press(admin, "checkin", "save", **fields)  # kept as the draft, but not shippable
    assert english_only.status_code == 422 and "no Spanish text (es)" in english_only.get_data(as_text=True)
    spanish = {"keyword.es": "CONTROL", "summary.es": "un control rapido",
               "step.0.text.es": "Es sobre usted o sobre alguien que quiere? Responda YO u OTRO.",
               "step.0.answer.0.match.es": "YO, 1", "step.0.answer.1.match.es": "OTRO, 2",
               "step.1.text.es": "Gracias por contarnos. Responda LLAMAR y le llamamos.",
               "step.2.text.es": "Querer a alguien que consume es duro. Responda LLAMAR para hablar."}
    saved = press(admin, "checkin", "save", **fields, **spanish)
    assert saved.status_code == 302, saved.get_data(as_text=True)[-2000:]
    assert publish(admin).status_code == 302 and flowdocs.published_version(redis) == 1
    phone = Phone(admin_app.test_client())
    menu = replies(phone.text("hello"))[0]  # the menu lists published keywords, each with what it is for
    assert "CALL: our team phones you. CHECKIN: a quick check-in." in menu
    assert replies(phone.text("checkin"))[0].startswith("Is this about you")
    assert replies(phone.text("myself"))[0].startswith("Thank you for telling us")


def test_every_button_keeps_what_was_typed(admin_app):
    admin = login(admin_app, "admin")
    typed = "Signs text typed but never saved. Reply CALL."
    page = press(admin, "signs", "add_answer:1", **{"step.0.text.en": typed}).get_data(as_text=True)
    assert html.escape(typed, quote=False) in page
    assert page.count('name="step.1.answer.') >= 3 * 2  # a third answer row appeared


def test_steps_reorder_and_remove(admin_app):
    admin = login(admin_app, "admin")
    page = press(admin, "signs", "down:0").get_data(as_text=True)
    assert page.index('data-step="ask"') < page.index('data-step="signs"')
    page = press(admin, "signs", "remove_step:6").get_data(as_text=True)  # nudge, the last step
    assert 'data-step="nudge"' not in page and "timeout goes to &#39;nudge&#39;, which is not a step" in page


def test_problems_are_shown_beside_their_field_and_block_publishing(admin_app, redis):
    admin = login(admin_app, "admin")
    response = press(admin, "signs", "save", **{"step.1.answer.0.go": "", "aliases.en": "SIGN, STOP"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="problem-step-1-answer-0-go">answer 1 goes to', page)
    assert re.search(r'id="problem-aliases">&#39;STOP&#39; is a reserved compliance keyword', page)
    assert 'aria-describedby="problem-aliases"' in page
    assert publish(admin).status_code == 302 and flowdocs.published_version(redis) is None  # refused


def test_the_picture_draws_steps_and_labelled_arrows_with_results(admin_app):
    admin = login(admin_app, "admin")
    phone = Phone(admin_app.test_client())
    phone.text("SIGNS")
    phone.text("me")
    page = admin.get("/staff/flows/edit/signs").get_data(as_text=True)
    svg = page[page.index("<svg"):page.index("</svg>")]
    for step in ("signs", "ask", "self", "other", "nudge"):
        assert f'data-step="{step}"' in svg
    assert "ME, MYSELF, MINE, 1 (1)" in svg and "no answer in 1d (0)" in svg and "ask (1 people)" in svg
    assert "<caption>Arrows of the picture</caption>" in page  # the same, as a table for screen readers


def test_publish_readable_diff_and_rollback_with_confirmation(admin_app, redis, clock):
    admin = login(admin_app, "admin")
    press(admin, "treatment", "save", **{"step.0.text.en": "Treatment text one. Reply CALL."})
    publish(admin)
    press(admin, "treatment", "save", **{"step.0.text.en": "Treatment text two. Reply CALL."})
    publish(admin)
    diff = admin.get("/staff/flows/diff/1/2").get_data(as_text=True)
    assert "step reply: text (en)" in diff and "Treatment text one." in diff and "Treatment text two." in diff
    assert "<pre" not in diff and "---" not in diff  # words, not a YAML diff
    for _ in range(3):  # over an hour later, the console still in use
        clock.advance(25 * 60)
        history = admin.get("/staff/flows/history").get_data(as_text=True)
    assert 'data-confirm="Make version 1 live again' in history and "Wed Nov 25, 12:00 PM" in history
    admin.post("/staff/flows/rollback/1", data={"csrf_token": admin.token})
    assert flowdocs.published_version(redis) == 3
    assert replies(Phone(admin_app.test_client()).text("TREATMENT"))[0].startswith("Treatment text one.")
    assert {e["action"] for e in accounts.audit_log(redis)} >= {"publish_flows", "rollback_flows"}


def test_delete_a_flow_and_discard_the_draft(admin_app, redis):
    admin = login(admin_app, "admin")
    index = admin.get("/staff/flows/edit/call").get_data(as_text=True)
    assert 'data-confirm="Delete the flow call from the draft?"' in index
    admin.post("/staff/flows/delete/call", data={"csrf_token": admin.token})
    assert "call.yaml" not in flowdocs.draft(redis)["documents"]
    admin.post("/staff/flows/discard", data={"csrf_token": admin.token})
    assert flowdocs.draft(redis) is None
    assert admin.get("/staff/flows/edit/call").status_code == 200


def test_the_publish_note_is_encrypted(admin_app, redis):
    admin = login(admin_app, "admin")
    press(admin, "treatment", "save")
    publish(admin, note="changed after talking to Maria")
    assert b"Maria" not in redis.get("sms:{main}:flows:version:1")
    assert "changed after talking to Maria" in admin.get("/staff/flows/history").get_data(as_text=True)


def test_export_import_round_trip_and_problems_with_lines(admin_app, redis):
    admin = login(admin_app, "admin")
    exported = admin.get("/staff/flows/export").get_data(as_text=True)
    assert exported.count("--- # ") == 8 and "documents:" not in exported  # one readable document per file
    ok = admin.post("/staff/flows/import", data={"csrf_token": admin.token, "file": (io.BytesIO(exported.encode()),
                                                                                    "flows.yaml")})
    assert ok.status_code == 302 and flowdocs.draft(redis)
    broken = exported.replace("go: self", "go: slef")
    line = broken.splitlines().index("        go: slef") + 1
    refused = admin.post("/staff/flows/import", data={"csrf_token": admin.token, "text": broken})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f"line {line} (signs.yaml line" in page and "answer 1 goes to &#39;slef&#39;" in page
    assert html.escape("go: slef", quote=False) in page  # what was sent stays in the box
    colon = exported.replace("en: Is this about you", "en: Is this: about you")
    page = admin.post("/staff/flows/import", data={"csrf_token": admin.token, "text": colon}).get_data(as_text=True)
    assert re.search(r"line \d+ \(signs.yaml line \d+\): not valid YAML", page)


def test_segments_endpoint_and_gsm_replacement(admin_app):
    admin = login(admin_app, "admin")
    info = admin.post("/staff/flows/segments", json={"text": "It\u2019s \u2014 ok"},
                      headers={"X-CSRFToken": admin.token}).json
    assert info["encoding"] == "UCS-2" and info["gsm"] == "It's - ok"
    filled = admin.post("/staff/flows/segments", json={"text": "{program} " * 20, "program": "Roaring Brook Recovery"},
                        headers={"X-CSRFToken": admin.token}).json
    assert filled["units"] == 20 * 23 and filled["segments"] == 4  # counted with the placeholder filled in


def test_the_simulator_shows_flow_step_state_and_jumps_to_the_next_step(admin_app, redis, clock):
    staff = login(admin_app, "staff")
    number = "%2B16175550142"
    staff.post(f"/staff/simulator/send?number={number}", data={"csrf_token": staff.token, "body": "SIGNS"})
    page = staff.get(f"/staff/simulator/?number={number}").get_data(as_text=True)
    assert "signs/signs" in page and "signs/ask" in page  # where each answer came from
    assert "Waiting for an answer to <strong>signs/ask</strong>" in page and "signs/nudge, due Thu Nov 26" in page
    staff.post(f"/staff/simulator/send?number={number}", data={"csrf_token": staff.token, "body": "other"})
    page = staff.get(f"/staff/simulator/?number={number}").get_data(as_text=True)
    assert "Remembered: audience=other" in page and "signs/other_checkin, due Sat Nov 28" in page
    staff.post(f"/staff/simulator/advance?number={number}", data={"csrf_token": staff.token, "by": "next"})
    rt = make_runtime(svc_of(admin_app))
    assert dispatch_due(rt) == 1
    [fid] = followups.pending_of(redis, svc_of(admin_app).vault.person_key("+16175550142"))
    send_followup(rt, fid)  # what a worker does with the job
    assert "Worrying about someone you love" in outbox.read(redis, svc_of(admin_app).vault)[-1]["body"]


def test_jump_to_next_step_fires_a_waiting_question_s_timeout(admin_app, redis, clock):
    staff = login(admin_app, "staff")
    number = "%2B16175550143"
    staff.post(f"/staff/simulator/send?number={number}", data={"csrf_token": staff.token, "body": "SIGNS"})
    response = staff.post(f"/staff/simulator/advance?number={number}", data={"csrf_token": staff.token, "by": "next"})
    assert response.status_code == 302
    rt = make_runtime(svc_of(admin_app))
    clock.advance(1)  # a timeout fires after its question was asked: a second later at the soonest
    assert dispatch_due(rt) == 1
    [arg] = [job.args[0] for job in queues.queue(redis, queues.FOLLOWUPS).jobs]
    send_followup(rt, arg)
    assert "Thinking of you" in outbox.read(redis, svc_of(admin_app).vault)[-1]["body"]


# -- found in review of the builder on the picture ------------------------------------------------------------

def test_a_timeout_without_its_time_is_a_problem_not_a_broken_editor(admin_app):
    admin = login(admin_app, "admin")
    saved = press(admin, "signs", "save", **{"step.2.timeout_go": "nudge", "step.2.timeout_after": ""})
    assert saved.status_code == 422
    assert admin.get("/staff/flows/edit/signs").status_code == 200  # the editor still opens


def test_a_flow_whose_only_step_was_removed_still_opens(admin_app):
    admin = login(admin_app, "admin")
    admin.post("/staff/flows/new", data={"csrf_token": admin.token, "flow": "empty", "keyword": "EMPTY"})
    assert press(admin, "empty", "remove_step:0").status_code == 200
    assert admin.get("/staff/flows/edit/empty").status_code == 200


def test_renaming_a_step_to_a_name_in_use_loses_nothing(admin_app, redis):
    admin = login(admin_app, "admin")
    admin.post("/staff/flows/new", data={"csrf_token": admin.token, "flow": "pair", "keyword": "PAIR"})
    press(admin, "pair", "add_step", new_step="b")
    response = press(admin, "pair", "save", **{"step.1.name": "start", "step.0.text.en": "AAA. Reply CALL.",
                                                "step.1.text.en": "BBB. Reply CALL."})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "another step is already called start" in page
    assert "AAA. Reply CALL." in page and "BBB. Reply CALL." in page  # both kept on the page
    draft = flowdocs.draft(redis)["documents"]["pair.yaml"]
    assert "b:" in draft  # nothing was saved over the draft


def test_a_new_step_named_from_an_answer_that_starts_with_a_digit(admin_app):
    admin = login(admin_app, "admin")
    press(admin, "signs", "add_answer:1")
    page = press(admin, "signs", "save", **{"step.1.answer.2.match.en": "1, YES", "step.1.answer.2.go": "+new"})
    assert 'data-step="answer_1"' in page.get_data(as_text=True)


def test_enter_in_a_field_saves_and_add_step_without_a_name_adds_nothing(admin_app, redis):
    admin = login(admin_app, "admin")
    before = press(admin, "signs", "save").get_data(as_text=True)
    response = press(admin, "signs", "add_step", new_step="")
    assert response.status_code == 302  # a save
    assert "step8" not in flowdocs.draft(redis)["documents"]["signs.yaml"] and before


def test_the_draft_diff_goes_back_to_the_flow_when_it_can_t_compare(admin_app):
    admin = login(admin_app, "admin")
    press(admin, "signs", "save", **{"step.1.text.en": ""})
    response = admin.get("/staff/flows/diff/draft?flow=signs", headers={"Referer": "https://evil.example/"})
    assert response.status_code == 302 and response.location.endswith("/staff/flows/edit/signs")
