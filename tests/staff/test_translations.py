"""The console in two languages: texts side by side with their own counters, missing translations and
translations whose English changed since they were last edited are marked; the simulator and the
conversation page show each person's language."""
import html
import re

from service.staff import translations
from service.store import flowdocs
from tests.conftest import Phone, replies, svc_of
from tests.staff.test_flow_builder import admin_app, press, publish  # noqa: F401,F811 - the fixture
from tests.staff.test_staff import login

LANGS = ["en", "es"]


def marks(page: str) -> list[str]:
    return [" ".join(m.split()) for m in re.findall(r'<p class="mark (?:missing|stale)">(.*?)</p>', page, re.S)]


def test_every_text_shows_its_languages_side_by_side(admin_app):
    admin = login(admin_app, "admin")
    page = admin.get("/staff/flows/edit/signs").get_data(as_text=True)
    for lang in LANGS:
        assert f'name="step.1.text.{lang}" class="sms" data-language="{lang}"' in page
    assert page.count('<div class="langs">') == 7  # one per step
    assert "What step ask says (Spanish)" in page and "¿Es sobre usted" in page
    assert 'data-plain-spanish="true"' in page and marks(page) == []


def test_a_missing_translation_is_marked_and_listed(admin_app):
    admin = login(admin_app, "admin")
    press(admin, "signs", "save", **{"step.4.text.es": ""})  # self_checkin loses its Spanish
    page = admin.get("/staff/flows/edit/signs").get_data(as_text=True)
    assert marks(page) == ["Missing Spanish translation: write it before publishing (the program offers Spanish)."]
    assert "no Spanish text (es): every language the program offers needs one" in page
    index = admin.get("/staff/flows/").get_data(as_text=True)
    assert "signs step self_checkin: no Spanish text (es)" in index.split("Fix these before publishing")[1]
    admin.post("/staff/flows/publish", data={"csrf_token": admin.token, "note": "half done"})
    assert "Can&#39;t publish: 1 problem(s)" in admin.get("/staff/flows/").get_data(as_text=True)
    assert flowdocs.published_version(svc_of(admin_app).redis) is None  # nothing half-translated went live


def test_a_translation_whose_english_changed_is_marked_until_it_is_edited(admin_app):
    admin = login(admin_app, "admin")
    press(admin, "signs", "save", **{"step.1.text.en": "Is this about you, or someone you love? Reply ME or OTHER."})
    page = admin.get("/staff/flows/edit/signs").get_data(as_text=True)
    assert marks(page) == ["The English text changed since this translation was last edited: check it."]
    assert 'id="step.1.text.es"' in page.split('class="mark stale"')[0][-900:]  # beside the Spanish of that step
    assert "steps.ask.text: the English text changed since the Spanish was last edited" in \
        admin.get("/staff/flows/").get_data(as_text=True)
    press(admin, "signs", "save", **{"step.1.text.es": "¿Es sobre usted o sobre alguien que quiere? Responda YO u OTRO."})
    assert marks(admin.get("/staff/flows/edit/signs").get_data(as_text=True)) == []


def test_editing_only_the_spanish_marks_nothing(admin_app):
    admin = login(admin_app, "admin")
    press(admin, "signs", "save", **{"step.1.text.es": "¿Es sobre usted o sobre alguien querido? Responda YO u OTRO."})
    assert marks(admin.get("/staff/flows/edit/signs").get_data(as_text=True)) == []


def test_program_texts_side_by_side_keep_the_language_message_and_mark_changes(admin_app, redis):
    admin = login(admin_app, "admin")
    page = admin.get("/staff/flows/program").get_data(as_text=True)
    assert 'id="msg-help-es"' in page and "Language message (Spanish)" in page
    form = {name: html.unescape(value) for name, value in re.findall(r'<textarea id="[^"]*" name="([^"]+)"[^>]*>([^<]*)</textarea>', page)}
    form.update({"program.name": "Roaring Brook Recovery", "program.phone": "855.590.9944", "csrf_token": admin.token})
    form["msg.help.en"] = form["msg.help.en"].replace("info and support", "information and support")
    saved = admin.post("/staff/flows/program", data=form)
    assert saved.status_code == 200 and "Fix these" not in saved.get_data(as_text=True)
    assert marks(saved.get_data(as_text=True)) == [
        "The English text changed since this translation was last edited: check it."]
    assert "language:" in flowdocs.draft(redis)["documents"]["program.yaml"]  # the language message is kept


def test_restamp_and_outdated_as_a_table():
    before = {"a.yaml": "flow: a\nkeyword: A\nreply: {en: One., es: Uno.}\n"}
    english = {"a.yaml": "flow: a\nkeyword: A\nreply: {en: One!, es: Uno.}\n"}
    both = {"a.yaml": "flow: a\nkeyword: A\nreply: {en: One!, es: ¡Uno!}\n"}
    stamps = translations.restamp(before, english, {}, LANGS)
    assert translations.outdated(english, stamps, LANGS) == {"a.yaml|steps.reply.text|es"}
    assert translations.outdated(both, translations.restamp(english, both, stamps, LANGS), LANGS) == set()
    assert translations.outdated(both, translations.restamp(before, both, {}, LANGS), LANGS) == set()
    assert translations.restamp(before, {}, stamps, LANGS) == {}  # a deleted flow leaves no stamps


def test_the_simulator_texts_in_spanish_and_shows_the_language(admin_app):
    staff = login(admin_app, "staff")
    number = "%2B16175550144"
    page = staff.get(f"/staff/simulator/?number={number}").get_data(as_text=True)
    assert "Language: <strong>English (en)</strong>" in page
    assert 'value="SEÑALES"' in page and 'value="ESPAÑOL"' in page  # one click away
    staff.post(f"/staff/simulator/send?number={number}", data={"csrf_token": staff.token, "body": "SEÑALES"})
    page = staff.get(f"/staff/simulator/?number={number}").get_data(as_text=True)
    assert "Language: <strong>Spanish (es)</strong>" in page and "¿Es sobre usted" in page


def test_the_conversation_page_shows_the_language(admin_app, redis):
    Phone(admin_app.test_client(), "+16175550145").text("TRATAMIENTO")
    pk = svc_of(admin_app).vault.person_key("+16175550145")
    staff = login(admin_app, "staff")
    page = staff.get(f"/staff/people/{pk}", follow_redirects=True).get_data(as_text=True)
    assert '<strong id="language">Spanish (es)</strong>' in page
    assert "El tratamiento funciona" in page


def test_a_published_spanish_edit_is_live(admin_app):
    admin = login(admin_app, "admin")
    press(admin, "signs", "save", **{"step.1.text.es": "¿Es sobre usted o sobre otra persona? Responda YO u OTRO."})
    assert publish(admin).status_code == 302
    assert replies(Phone(admin_app.test_client()).text("SEÑALES"))[1] == \
        "¿Es sobre usted o sobre otra persona? Responda YO u OTRO."


def _without_spanish(docs: dict[str, str]) -> dict[str, str]:
    """The documents with the Spanish of TREATMENT's answer removed."""
    import yaml
    doc = yaml.safe_load(docs["treatment.yaml"])
    del doc["reply"]["es"]
    return {**docs, "treatment.yaml": yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)}


def test_a_version_live_from_before_translations_were_required_keeps_working(admin_app):
    from service.staff.settings_page import published_documents
    svc = svc_of(admin_app)
    admin = login(admin_app, "admin")
    with admin_app.test_request_context():
        docs = published_documents()
    half = _without_spanish(docs)
    flowdocs.publish(svc.redis, half, "an older release", "", svc.now(), every_language=False)  # as it could then
    assert flowdocs.published_version(svc.redis) == 1
    phone = Phone(admin_app.test_client())
    assert replies(phone.text("TRATAMIENTO"))  # live, and the missing Spanish text goes out in English
    saved = admin.post("/staff/settings/", data={"csrf_token": admin.token, "program": "Roaring Brook Recovery",
                                                 "phone": "855.590.0000"})
    assert saved.status_code in (200, 302) and flowdocs.published_version(svc.redis) == 2  # Settings still work
    flowdocs.publish(svc.redis, docs, "admin", "", svc.now())  # complete again: version 3
    refused = admin.post("/staff/flows/rollback/1", data={"csrf_token": admin.token})
    assert refused.status_code == 302 and flowdocs.published_version(svc.redis) == 3  # not back to half
    assert "Version 1 can&#39;t go live again: treatment.yaml" in admin.get("/staff/flows/history").get_data(as_text=True)


def test_a_half_translated_export_imports_as_a_draft_that_cannot_be_published(admin_app):
    svc = svc_of(admin_app)
    admin = login(admin_app, "admin")
    from service.staff import flowyaml
    from service.staff.settings_page import published_documents
    with admin_app.test_request_context():
        half = flowyaml.export(_without_spanish(published_documents()))
    assert admin.post("/staff/flows/import", data={"csrf_token": admin.token, "text": half}).status_code == 302
    index = admin.get("/staff/flows/").get_data(as_text=True)
    assert "no Spanish text (es)" in index and '<svg' in index  # listed to fix; the pictures still drawn
    publish(admin)
    assert flowdocs.published_version(svc.redis) is None


def test_a_settings_change_of_name_and_number_reaches_the_kept_draft_too(admin_app):
    svc = svc_of(admin_app)
    admin = login(admin_app, "admin")
    press(admin, "signs", "save", **{"step.1.text.en": "Is this about you, or someone you love? Reply ME or OTHER."})
    admin.post("/staff/settings/", data={"csrf_token": admin.token, "program": "Brook Recovery",
                                         "phone": "855.590.0000"})
    assert "Brook Recovery" in flowdocs.draft(svc.redis)["documents"]["program.yaml"]
    press(admin, "signs", "save", **{"step.1.text.es": "¿Es sobre usted o sobre alguien querido? Responda YO u OTRO."})
    publish(admin)  # the draft goes live: the new name and number stay
    assert "855.590.0000" in replies(Phone(admin_app.test_client()).text("HELP"))[0]
