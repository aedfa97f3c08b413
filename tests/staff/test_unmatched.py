"""Texts the bot did not understand, through the real signed webhook and Flask's client: kept encrypted and
listed, counted per day and language (the page, insights.json and insights.csv), never a crisis text, a
keyword, an answer or an opt-out; an admin teaches one as an alias or an answer (into the flows' draft),
a text that can't be one is refused with a reason; staff look but may not teach; erasure removes them.
And the insights' people per language."""
import csv
import html
import io

import pytest

from service.erase import erase_person
from service.store import accounts, flowdocs, keys, unmatched
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, NOON, Phone, make_app, make_env, replies, svc_of
from tests.staff.test_staff import PASSWORD, login

TODAY = "2026-11-25"


@pytest.fixture
def app(redis_url, redis, clock):
    app = make_app(make_env(redis_url), clock)
    for role in Role:
        accounts.create(redis, f"{role.value}@center.org", PASSWORD, role, now=NOON, method=CHEAP_HASH)
    return app


def kept(app) -> list:
    rows, _ = unmatched.recent(svc_of(app).redis, svc_of(app).vault)
    return rows


def row_of(app, body: str):
    [row] = [r for r in kept(app) if r.body == body]
    return row


def today(client) -> dict:
    return client.get("/staff/insights.json?days=1").json["days"][-1]


def page_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def teach(admin, uid: str, target: str):
    return admin.post(f"/staff/unmatched/{uid}/teach", data={"csrf_token": admin.token, "as": target},
                      follow_redirects=True)


# -- kept and listed ---------------------------------------------------------------------------------------

def test_a_text_that_matched_nothing_is_kept_encrypted_and_listed(app, redis, clock):
    phone = Phone(app.test_client())
    assert replies(phone.text("banana bread recipe"))  # the menu, as ever
    [row] = kept(app)
    assert row.body == "banana bread recipe" and row.person == svc_of(app).vault.person_key(phone.number)
    assert row.day == TODAY and row.at == NOON and not row.taught and not row.simulated
    assert redis.zrange(keys.of(redis).UNMATCHED, 0, -1) == [row.id.encode()]
    raw = redis.hgetall(keys.of(redis).unmatched(row.id))
    assert raw and not any(b"banana" in v for v in raw.values())  # encrypted at rest
    assert not any(b"banana" in v for v in redis.lrange(keys.of(redis).transcript(row.person), 0, -1))
    assert keys.of(redis).unmatched(row.id).encode() in redis.smembers(keys.of(redis).records(row.person))  # erased with them
    clock.advance(60)
    Phone(app.test_client(), "+16175550124").text("what is the weather like")
    staff = login(app)
    listed = staff.get("/staff/unmatched/")
    body = page_of(listed)
    assert listed.status_code == 200 and "2 kept" in body
    assert body.index("what is the weather like") < body.index("banana bread recipe")  # newest first
    assert f'href="/staff/inbox/{row.person}"' in body
    assert phone.number not in body


def test_what_people_text_is_escaped_on_the_page(app):
    Phone(app.test_client()).text("<script>alert(1)</script>")
    raw = login(app).get("/staff/unmatched/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw and "&lt;script&gt;" in raw


@pytest.mark.parametrize("body", [
    "my friend overdosed",  # a crisis
    "SIGNS", "treatment", "señales",  # keywords and aliases
    "HELP", "CALL", "STOP",  # compliance words and a request
    "thanks",
])
def test_understood_texts_are_not_kept(app, redis, body):
    assert replies(Phone(app.test_client()).text(body)) is not None
    assert kept(app) == [] and redis.zcard(keys.of(redis).UNMATCHED) == 0
    assert today(login(app))["not_understood"] == 0


def test_an_answer_is_not_kept_but_a_reply_that_answers_nothing_is(app, redis):
    phone = Phone(app.test_client())
    phone.text("SIGNS")  # asks: about you or someone you care about?
    assert "Thank you for telling us" in replies(phone.text("me"))[0]
    assert kept(app) == []
    phone.text("SIGNS")
    phone.text("green giraffes")  # no answer to the question
    assert [r.body for r in kept(app)] == ["green giraffes"]


def test_opting_out_and_back_in_is_not_kept(app):
    phone = Phone(app.test_client())
    phone.text("STOP")
    assert replies(phone.text("START"))
    assert kept(app) == []


def test_a_crisis_text_is_never_kept_even_when_it_matches_nothing_else(app, redis):
    phone = Phone(app.test_client())
    phone.text("she took too many pills and won't wake up")
    assert redis.zcard(keys.of(redis).CRISIS_OPEN) == 1 and kept(app) == []


def test_the_simulators_texts_are_neither_listed_nor_counted(app, redis):
    staff = login(app)
    staff.post("/staff/simulator/send", data={"csrf_token": staff.token, "body": "green giraffes"})
    assert kept(app) == []
    [simulated] = unmatched.recent(redis, svc_of(app).vault, include_test=True)[0]
    assert simulated.body == "green giraffes" and simulated.simulated and simulated.day == ""
    assert "green giraffes" not in page_of(staff.get("/staff/unmatched/"))
    day = today(staff)
    assert day["not_understood"] == 0 and sum(day["not_understood_by_language"].values()) == 0


# -- counts ------------------------------------------------------------------------------------------------

def test_counted_per_day_and_language_in_the_page_json_and_csv(app, redis, clock):
    Phone(app.test_client(), "+16175550111").text("tell me a joke please")
    Phone(app.test_client(), "+16175550112").text("what is the weather like")
    Phone(app.test_client(), "+16175550113").text("hola que tal amigo")
    clock.advance(86400)  # Thursday
    Phone(app.test_client(), "+16175550114").text("receta de pan")
    staff = login(app)
    data = staff.get("/staff/insights.json?days=2").json
    wednesday, thursday = data["days"]
    assert (wednesday["date"], thursday["date"]) == (TODAY, "2026-11-26")
    assert wednesday["not_understood"] == 3 and wednesday["not_understood_by_language"] == {"en": 2, "es": 1}
    assert thursday["not_understood"] == 1 and thursday["not_understood_by_language"] == {"en": 0, "es": 1}
    [header, *rows] = list(csv.reader(io.StringIO(staff.get("/staff/insights.csv?days=2").get_data(as_text=True))))
    by_date = {r[0]: dict(zip(header, r)) for r in rows}
    assert by_date[TODAY]["not_understood"] == "3"
    assert by_date[TODAY]["not_understood_by_language.en"] == "2"
    assert by_date[TODAY]["not_understood_by_language.es"] == "1"
    assert by_date["2026-11-26"]["not_understood_by_language.es"] == "1"
    page = page_of(staff.get("/staff/unmatched/"))
    assert "<th scope=\"row\">2026-11-26</th><td>1</td><td>0</td><td>1</td>" in page
    assert f"<th scope=\"row\">{TODAY}</th><td>3</td><td>2</td><td>1</td>" in page
    assert "Spanish (es)" in page and "4 kept" in page
    assert page.index("2026-11-26") < page.index(TODAY)  # newest day first


def test_people_by_language_counts_each_person_once_in_the_language_they_were_answered_in(app, redis):
    english, spanish, spanish_words, more = (Phone(app.test_client(), f"+1617555012{i}") for i in range(4))
    english.text("SIGNS")
    english.text("me")  # the same person again: counted once
    spanish.text("SEÑALES")
    assert "dependencia" in replies(spanish_words.text("hola, necesito información por favor"))[0]
    more.text("TREATMENT")
    staff = login(app)
    staff.post("/staff/simulator/send", data={"csrf_token": staff.token, "body": "SEÑALES"})  # not counted
    day = today(staff)
    assert day["people"] == 4 and day["people_by_language"] == {"en": 2, "es": 2}
    [header, *rows] = list(csv.reader(io.StringIO(staff.get("/staff/insights.csv?days=1").get_data(as_text=True))))
    row = dict(zip(header, rows[-1]))
    assert (row["people_by_language.en"], row["people_by_language.es"]) == ("2", "2")
    assert "People by language" in staff.get("/staff/insights?days=7").get_data(as_text=True)


def test_someone_who_switches_language_counts_in_both_that_day(app):
    phone = Phone(app.test_client())
    phone.text("SIGNS")
    phone.text("ESPAÑOL")
    phone.text("SEÑALES")
    day = today(login(app))
    assert day["people"] == 1 and day["people_by_language"] == {"en": 1, "es": 1}


def test_an_english_text_with_no_telling_words_is_answered_and_counted_in_english(app):
    reply = replies(Phone(app.test_client()).text("banana bread recipe"))
    assert "We're glad you reached out" in reply[0]
    assert row_of(app, "banana bread recipe").language == "en"
    assert today(login(app))["not_understood_by_language"] == {"en": 1, "es": 0}


# -- teaching ----------------------------------------------------------------------------------------------

def test_an_admin_teaches_a_one_word_text_as_an_alias_into_the_draft(app, redis):
    Phone(app.test_client()).text("clinic")
    row = row_of(app, "clinic")
    admin = login(app, "admin")
    assert flowdocs.draft(redis) is None
    page = page_of(teach(admin, row.id, "alias:treatment"))
    assert "Added to the draft: CLINIC as a word for treatment" in page
    assert "Taught: CLINIC as a word for treatment" in page
    assert f'action="/staff/unmatched/{row.id}/teach"' not in page  # taught once
    draft = flowdocs.draft(redis)
    assert draft["author"] == "admin@center.org"
    from flows.source import load_yaml
    treatment = load_yaml(draft["documents"]["treatment.yaml"])
    assert treatment["aliases"]["en"][-1] == "CLINIC" and "REHAB" in treatment["aliases"]["en"]
    assert "CLINIC" not in treatment["aliases"]["es"]
    assert row_of(app, "clinic").taught == "CLINIC as a word for treatment"
    log = accounts.audit_log(redis)
    assert log[0] | {"at": 0} == {"at": 0, "who": "admin@center.org", "action": "teach_bot",
                                  "detail": f"{row.id} CLINIC as a word for treatment"}
    assert "Treatment works" not in replies(Phone(app.test_client(), "+16175550199").text("clinic"))[0]  # a draft
    published = admin.post("/staff/flows/publish", data={"csrf_token": admin.token, "note": "taught"})
    assert published.status_code == 302 and flowdocs.published_version(redis) == 1
    assert "Treatment works" in replies(Phone(app.test_client(), "+16175550198").text("clinic"))[0]


def test_an_admin_teaches_a_short_text_as_an_answer(app, redis):
    Phone(app.test_client()).text("my nephew")
    row = row_of(app, "my nephew")
    admin = login(app, "admin")
    page = page_of(teach(admin, row.id, "answer:signs/ask/1"))
    assert "Added to the draft: MY NEPHEW as an answer to signs/ask" in page
    assert "Taught: MY NEPHEW as an answer to signs/ask" in page
    from flows.source import load_yaml
    signs = load_yaml(flowdocs.draft(redis)["documents"]["signs.yaml"])
    other = signs["steps"]["ask"]["answers"][1]
    assert other["go"] == "other" and other["match"]["en"][-1] == "MY NEPHEW" and "OTHER" in other["match"]["en"]
    assert "MY NEPHEW" not in signs["steps"]["ask"]["answers"][0]["match"]["en"]
    assert accounts.audit_log(redis)[0]["action"] == "teach_bot"
    admin.post("/staff/flows/publish", data={"csrf_token": admin.token, "note": "taught"})
    phone = Phone(app.test_client(), "+16175550199")
    phone.text("SIGNS")
    assert "Caring about someone who uses is hard" in replies(phone.text("my nephew"))[0]


@pytest.mark.parametrize("body, target, reason", [
    ("tell me a joke please", "alias:treatment", "a keyword's alias is one word"),
    ("tell me a joke please now ok", "answer:signs/ask/1", "an answer is at most 4 words"),
    ("START", "alias:treatment", "'START' is a reserved compliance keyword"),
    ("purple", "answer:signs/ask/9", "that question or answer no longer exists"),
    ("purple", "alias:nope", "that flow no longer exists"),
    ("purple", "", "choose a keyword or an answer"),
])
def test_a_text_that_cannot_be_taught_so_is_refused_with_a_reason_and_nothing_changes(app, redis, body, target,
                                                                                        reason):
    Phone(app.test_client()).text(body)
    row = row_of(app, body)
    admin = login(app, "admin")
    before = accounts.audit_log(redis)
    page = page_of(teach(admin, row.id, target))
    assert f"Not added: {reason}" in page
    assert flowdocs.draft(redis) is None and flowdocs.published_version(redis) is None
    assert row_of(app, body).taught == "" and "Taught:" not in page
    assert accounts.audit_log(redis) == before


def test_teaching_keeps_an_existing_draft_and_adds_to_it(app, redis):
    Phone(app.test_client(), "+16175550111").text("clinic")
    Phone(app.test_client(), "+16175550112").text("methadone")
    admin = login(app, "admin")
    teach(admin, row_of(app, "clinic").id, "alias:treatment")
    teach(admin, row_of(app, "methadone").id, "alias:treatment")
    from flows.source import load_yaml
    aliases = load_yaml(flowdocs.draft(redis)["documents"]["treatment.yaml"])["aliases"]["en"]
    assert aliases[-2:] == ["CLINIC", "METHADONE"]


def test_staff_may_look_but_not_teach_and_ops_may_not_look(app, redis):
    Phone(app.test_client()).text("clinic")
    row = row_of(app, "clinic")
    staff = login(app)
    page = page_of(staff.get("/staff/unmatched/"))
    assert "clinic" in page and "An admin can teach the bot" in page and "/teach" not in page
    refused = staff.post(f"/staff/unmatched/{row.id}/teach", data={"csrf_token": staff.token, "as": "alias:treatment"})
    assert refused.status_code == 403
    assert flowdocs.draft(redis) is None and row_of(app, "clinic").taught == ""
    assert login(app, "ops").get("/staff/unmatched/").status_code == 403
    assert app.test_client().get("/staff/unmatched/").status_code == 302


def test_teaching_a_text_that_is_gone_is_not_found(app):
    admin = login(app, "admin")
    assert admin.post("/staff/unmatched/SMnope/teach",
                      data={"csrf_token": admin.token, "as": "alias:treatment"}).status_code == 404


# -- erasure -----------------------------------------------------------------------------------------------

def test_erasing_the_person_removes_their_unmatched_texts(app, redis, clock):
    gone, stays = Phone(app.test_client(), "+16175550111"), Phone(app.test_client(), "+16175550112")
    gone.text("green giraffes")
    clock.advance(60)
    gone.text("wrong number sorry")
    stays.text("what time do you open")
    ids = {r.body: r.id for r in kept(app)}
    assert erase_person(svc_of(app), svc_of(app).vault.person_key(gone.number))
    assert [r.body for r in kept(app)] == ["what time do you open"]
    assert not redis.exists(keys.of(redis).unmatched(ids["green giraffes"]), keys.of(redis).unmatched(ids["wrong number sorry"]))
    assert redis.zrange(keys.of(redis).UNMATCHED, 0, -1) == [ids["what time do you open"].encode()]
    page = page_of(login(app).get("/staff/unmatched/"))
    assert "green giraffes" not in page and "what time do you open" in page and "1 kept" in page
    assert today(login(app))["not_understood"] == 3  # counts only, never who: they stay
