"""The console's Contacts through Flask's test client: the list (search by the last 4 digits, group
filter), a contact's page (fields as texts say them, groups, consent and its history, planned journey
texts with their times), editing under the API's rules, the CSV import (preview with every bad row by its
spreadsheet row number, nothing written before Import, the same file twice changes nothing), who may do
what; and the CLI (`flask contacts import`, `flask api-token create`)."""
import html
import io
import re

import pytest

from service import contacts as rules
from service.store import accounts, apitokens, contacts, journeys, keys
from service.store.accounts import Role
from tests.conftest import CHEAP_HASH, NOON, Phone, svc_of
from tests.staff.test_staff import PASSWORD, login

CONSENT = {"source": "intake form", "at": "2026-11-20T10:00:00-05:00"}


@pytest.fixture
def console(app, redis):
    for role in Role:
        accounts.create(redis, f"{role.value}@center.org", PASSWORD, role, now=NOON, method=CHEAP_HASH)
    return app


def put(app, number: str, data: dict):
    """What the API would set (the same rules), straight through service.contacts."""
    svc = svc_of(app)
    flows = svc.flows()
    return rules.apply(svc, number, rules.change_from(data, flows.program.fields, flows.program.languages),
                       svc.now())


def pk_of(app, number: str) -> str:
    return svc_of(app).vault.person_key(number)


def text_of(response) -> str:
    """The page's markup, its white space collapsed and its entities read."""
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def words(response) -> str:
    """What a person reads on the page: the text without its tags."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))) \
        .replace(" ,", ",").replace("( ", "(").replace(" )", ")")


def listed(page: str) -> list[str]:
    """The masked numbers the contacts list shows, in order."""
    return re.findall(r'class="who">(\*+\d{4})</a>', page)


# -- the list

def test_the_list_searches_by_the_last_4_digits_and_filters_by_group(console):
    put(console, "+16175550101", {"groups": ["clinic-a"]})
    put(console, "+16175550102", {"groups": ["clinic-a", "aftercare"]})
    put(console, "+16175550203", {"groups": ["aftercare"]})
    put(console, "+16175550104", {})
    staff = login(console, "staff")
    everyone = text_of(staff.get("/staff/contacts/"))
    assert "4 the center knows" in everyone
    assert sorted(listed(everyone)) == ["********0101", "********0102", "********0104", "********0203"]
    assert "+1617555" not in everyone  # numbers masked
    assert "clinic-a (2)" in everyone and "aftercare (2)" in everyone  # the group filter's choices

    assert listed(text_of(staff.get("/staff/contacts/?q=0102"))) == ["********0102"]
    assert listed(text_of(staff.get("/staff/contacts/?q=555-0203"))) == ["********0203"]  # the last 4 digits
    assert listed(text_of(staff.get("/staff/contacts/?q=6175550104"))) == ["********0104"]
    assert sorted(listed(text_of(staff.get("/staff/contacts/?group=clinic-a")))) == ["********0101", "********0102"]
    assert sorted(listed(text_of(staff.get("/staff/contacts/?group=AFTERCARE")))) == ["********0102", "********0203"]
    assert listed(text_of(staff.get("/staff/contacts/?group=aftercare&q=0203"))) == ["********0203"]
    nothing = text_of(staff.get("/staff/contacts/?q=9999"))
    assert listed(nothing) == [] and "No contacts with that search" in nothing
    assert listed(text_of(staff.get("/staff/contacts/?group=nobody"))) == []


def test_the_list_says_who_may_be_texted_first(console):
    put(console, "+16175550101", {"consent": CONSENT, "fields": {"discharged_on": "2026-11-24"}})
    put(console, "+16175550102", {})
    Phone(console.test_client(), "+16175550103").text("STOP")
    put(console, "+16175550103", {"consent": CONSENT})
    page = login(console, "staff").get("/staff/contacts/").get_data(as_text=True)
    rows = {m.group(1): m.group(2) for m in re.finditer(r'class="who">\*+(\d{4})</a>(.*?)</li>', page, re.S)}
    assert "may be texted first" in rows["0101"] and "3 journey texts planned" in rows["0101"]
    assert "no consent to outreach" in rows["0102"]
    assert "opted out" in rows["0103"] and "planned" not in rows["0103"]


def test_the_list_pages_by_50(console, clock):
    for i in range(53):
        put(console, f"+1617555{1000 + i:04d}", {"groups": ["many"]})
        clock.advance(1)
    staff = login(console, "staff")
    first = text_of(staff.get("/staff/contacts/"))
    assert len(listed(first)) == 50 and "Page 1 of 2" in first and listed(first)[0] == "********1052"
    second = text_of(staff.get("/staff/contacts/?p=2"))
    assert listed(second) == ["********1002", "********1001", "********1000"]
    assert len(listed(text_of(staff.get("/staff/contacts/?group=many&p=2")))) == 3
    assert staff.get("/staff/contacts/?p=abc").status_code == 200


# -- a contact's page

def test_a_contacts_page_shows_fields_as_texts_say_them_groups_consent_and_planned_texts(console, redis):
    number = "+16175550123"
    put(console, number, {"language": "es", "groups": ["clinic-a", "aftercare"], "consent": CONSENT,
                          "fields": {"first_name": "Ana", "appointment_at": "2026-12-08T14:30:00-05:00",
                                     "discharged_on": "2026-11-24"}})
    pk = pk_of(console, number)
    staff = login(console, "staff")
    response = staff.get(f"/staff/contacts/{pk}")
    assert response.status_code == 200
    page, markup = words(response), text_of(response)
    assert "********0123" in page and number not in markup
    assert "Texts say: el martes 8 de diciembre a las 14:30" in page  # their language, their zone
    assert "Texts say: el martes 24 de noviembre" in page
    assert "Texts say: Ana" in page
    assert 'value="aftercare; clinic-a"' in markup
    assert "consent given by intake form, 2026-11-20T10:00:00-05:00" in page
    assert "No text from them yet." in page
    assert "Times in their zone (America/New_York)" in page
    # the reminder the day before at 10:00, the confirmation 2 h before; check-ins 7, 30, 90 days after
    assert "appointment, event 1 (a text): Mon Dec 7, 10:00 AM" in page
    assert "appointment, event 2 (starts the confirm conversation): Tue Dec 8, 12:30 PM" in page
    assert "aftercare, event 2 (starts the wellbeing conversation): Tue Dec 1, 11:00 AM" in page
    assert "aftercare, event 3 (starts the wellbeing conversation): Thu Dec 24, 11:00 AM" in page
    assert "aftercare, event 4 (starts the wellbeing conversation): Mon Feb 22, 11:00 AM" in page
    assert "aftercare, event 1" not in page  # day 1 was already past when the date was set
    order = [page.index(s) for s in ("aftercare, event 2", "appointment, event 1", "appointment, event 2",
                                     "aftercare, event 3", "aftercare, event 4")]
    assert order == sorted(order)  # soonest first
    assert accounts.audit_log(redis)[0]["action"] == "view_contact" and accounts.audit_log(redis)[0]["detail"] == pk


def test_a_contact_in_another_zone_sees_times_in_theirs(console):
    number = "+14155550123"  # San Francisco
    put(console, number, {"consent": CONSENT, "fields": {"appointment_at": "2026-12-08T14:30:00-05:00"}})
    page = words(login(console, "staff").get(f"/staff/contacts/{pk_of(console, number)}"))
    assert "Texts say: Tuesday, December 8 at 11:30 AM" in page and "America/Los_Angeles" in page


def test_a_contacts_page_shows_consent_history_from_their_texts(console, clock):
    number = "+16175550123"
    phone = Phone(console.test_client(), number)
    phone.text("hello")  # Wednesday noon
    put(console, number, {"consent": CONSENT, "fields": {"discharged_on": "2026-11-24"}})
    pk = pk_of(console, number)
    staff = login(console, "staff")
    assert "3 journey texts planned" in words(staff.get("/staff/contacts/"))
    clock.advance(3600)
    phone.text("STOP")  # 1:00 PM
    clock.advance(2 * 3600)
    staff = login(console, "staff")  # (the morning's session has gone idle)
    page = words(staff.get(f"/staff/contacts/{pk}"))
    assert "Opted out by their own text" in page and "consent given by" not in page
    assert "History Wed Nov 25, 12:00 PM: subscribed, by their first text Wed Nov 25, 1:00 PM: opted out, by STOP" \
        in page
    assert "Nothing planned." in page  # the STOP cancelled their journeys
    clock.advance(60)
    phone.text("START")
    assert "just now: subscribed, by START" in words(staff.get(f"/staff/contacts/{pk}"))


def test_someone_who_opted_in_by_text_may_be_texted_first(console):
    number = "+16175550123"
    phone = Phone(console.test_client(), number)
    phone.text("STOP")
    phone.text("START")
    page = words(login(console, "staff").get(f"/staff/contacts/{pk_of(console, number)}"))
    assert "they opted in by text" in page
    assert "opted out, by STOP" in page and "subscribed, by START" in page


def test_a_moment_at_the_end_of_the_calendar_is_refused_not_a_broken_page(console):
    with pytest.raises(rules.Refused, match="between the years"):
        put(console, "+16175550123", {"fields": {"appointment_at": "9999-12-31T23:59:59-23:59"}})
    put(console, "+16175550123", {"fields": {"appointment_at": "2199-12-31T23:59:59-05:00"}})
    response = login(console, "staff").get(f"/staff/contacts/{pk_of(console, '+16175550123')}")
    assert response.status_code == 200


def test_an_unknown_contact_is_404(console):
    staff = login(console, "staff")
    assert staff.get("/staff/contacts/nobody").status_code == 404
    assert staff.post("/staff/contacts/nobody", data={"csrf_token": staff.token}).status_code == 404


# -- editing a contact

def form(**values) -> dict:
    base = {"field.first_name": "", "field.appointment_at": "", "field.discharged_on": "", "groups": "",
            "language": "en"}
    return {**base, **values}


def test_staff_edit_a_contact_under_the_apis_rules(console, redis):
    number = "+16175550123"
    put(console, number, {"consent": CONSENT, "groups": ["clinic-a"], "fields": {"first_name": "Ana"}})
    pk = pk_of(console, number)
    staff = login(console, "staff")
    saved = staff.post(f"/staff/contacts/{pk}", data={"csrf_token": staff.token, **form(
        **{"field.first_name": "  Ana  María ", "field.appointment_at": "2026-12-08T14:30:00-05:00",
           "groups": "Clinic-B; aftercare", "language": "es"})})
    assert saved.status_code == 302 and saved.location.endswith(f"/staff/contacts/{pk}")
    contact = contacts.read(redis, svc_of(console).vault, pk)
    assert contact.fields == {"first_name": "Ana María", "appointment_at": "2026-12-08T14:30:00-05:00"}
    assert contact.groups == ("aftercare", "clinic-b") and contact.language == "es"
    assert contact.evidence == CONSENT  # the form has no consent: kept
    assert contacts.members(redis, "clinic-a") == set() and contacts.members(redis, "clinic-b") == {pk}
    assert len(journeys.planned_of(redis, pk)) == 2  # the appointment's reminder and confirmation
    page = words(staff.get(f"/staff/contacts/{pk}"))
    assert "Saved: their journeys were planned again." in page
    assert "Texts say: el martes 8 de diciembre a las 14:30" in page
    assert {"who": "staff@center.org", "action": "change_contact", "detail": f"{pk} updated"}.items() <= \
        [e for e in accounts.audit_log(redis) if e["action"] == "change_contact"][0].items()

    again = staff.post(f"/staff/contacts/{pk}", data={"csrf_token": staff.token, **form(
        **{"field.first_name": "Ana María", "field.appointment_at": "2026-12-08T14:30:00-05:00",
           "groups": "aftercare;clinic-b", "language": "es"})})
    assert again.status_code == 302 and "Nothing changed." in text_of(staff.get(f"/staff/contacts/{pk}"))

    cleared = staff.post(f"/staff/contacts/{pk}", data={"csrf_token": staff.token, **form(language="es")})
    assert cleared.status_code == 302
    contact = contacts.read(redis, svc_of(console).vault, pk)
    assert contact.fields == {} and contact.groups == () and journeys.planned_of(redis, pk) == ()


@pytest.mark.parametrize("values, field, says", [
    ({"field.discharged_on": "11/24/2026"}, "fields.discharged_on", "must be a date like 2026-12-08"),
    ({"field.appointment_at": "2026-12-08T14:30"}, "fields.appointment_at", "must say its UTC offset"),
    ({"field.first_name": "x" * 201}, "fields.first_name", "must be at most 200 characters"),
    ({"groups": "clinic a"}, "groups", "'clinic a' is not a group name"),
    ({"language": "fr"}, "language", "must be one of en, es"),
    ({"language": ""}, "language", "must be one of en, es"),
])
def test_a_bad_value_is_refused_with_422_naming_the_field(console, redis, values, field, says):
    number = "+16175550123"
    put(console, number, {"fields": {"first_name": "Ana"}, "groups": ["clinic-a"]})
    pk = pk_of(console, number)
    before = redis.hgetall(keys.of(redis).contact(pk))
    staff = login(console, "staff")
    response = staff.post(f"/staff/contacts/{pk}", data={"csrf_token": staff.token, **form(
        **{"field.first_name": "Bea", "groups": "clinic-b", **values})})
    assert response.status_code == 422
    page = text_of(response)
    assert f'role="alert" id="contact-error">{field}: {says}' in page
    if field.startswith("fields."):
        name = field.split(".", 1)[1]
        assert re.search(rf'name="field\.{name}"[^>]*aria-invalid="true"', page)
    elif field == "groups":
        assert re.search(r'id="groups"[^>]*aria-invalid="true"', page)
    assert redis.hgetall(keys.of(redis).contact(pk)) == before  # nothing of it written


def test_editing_needs_the_csrf_token(console):
    put(console, "+16175550123", {})
    staff = login(console, "staff")
    response = staff.post(f"/staff/contacts/{pk_of(console, '+16175550123')}", data=form(language="es"))
    assert response.status_code == 400


# -- the CSV import

GOOD = """number,language,groups,first_name,discharged_on,appointment_at,consent_source,consent_at
+16175550101,en,clinic-a;aftercare,Ana,2026-11-24,,intake form,2026-11-20T10:00:00-05:00
(617) 555-0102,es,clinic-a,Bea,,2026-12-08T14:30:00-05:00,,
617.555.0103,,,,,,,
"""

MIXED = """number,language,groups,first_name,discharged_on,appointment_at,consent_source,consent_at
+16175550101,en,clinic-a;aftercare,Ana,2026-11-24,,intake form,2026-11-20T10:00:00-05:00
not a number,en,,,,,,
+16175550104,fr,,,,,,
"(617) 555-0102",es,clinic-a,"Bea
Luz",,2026-12-08T14:30:00-05:00,,
617-555-0101,en,,,,,,
+16175550106,,,,2026-13-01,,,
+16175550107,,bad group!,,,,,
+16175550108,,,,,2026-12-08T14:30:00,,
+16175550109,,,,,,intake,
,,,,,,,
+16175550110,es,,Ceci,,,,
"""

MIXED_BAD = [
    "row 3: number: must be a phone number, like +16175550123, or whatsapp:+16175550123",
    "row 4: language: must be one of en, es",
    "row 6: number: the same number as row 2",
    "row 7: fields.discharged_on: must be a date like 2026-12-08",
    "row 8: groups: 'bad group!' is not a group name (lower-case letters, digits, - and _)",
    "row 9: fields.appointment_at: must say its UTC offset, like 2026-12-08T14:30:00-05:00 (which zone's 2:30 PM?)",
    "row 10: consent.at: must be a date and time with its offset, like 2026-12-01T10:00:00-05:00",
]  # row 11 has only empty cells: a blank row, skipped like one


def upload(client, text: str, name: str = "contacts.csv", encoding: str = "utf-8"):
    return client.post("/staff/contacts/import", data={"csrf_token": client.token,
                                                       "file": (io.BytesIO(text.encode(encoding)), name)},
                       content_type="multipart/form-data")


def import_id(response) -> str:
    return re.search(r'action="/staff/contacts/import/([^"]+)"', response.get_data(as_text=True)).group(1)


def bad_rows(page: str) -> list[str]:
    found = re.search(r'<ul id="bad-rows">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def test_the_preview_counts_and_lists_every_bad_row_by_its_spreadsheet_row(console, redis):
    admin = login(console, "admin")
    assert admin.get("/staff/contacts/import").status_code == 200
    response = upload(admin, MIXED)
    assert response.status_code == 200
    page, markup = words(response), text_of(response)
    assert "Preview of contacts.csv" in page
    assert "10 rows: 3 good (3 would be created, 0 updated, 0 unchanged) and 7 bad" in page
    assert bad_rows(markup) == MIXED_BAD
    assert "Nothing is written until you import." in page
    assert 'data-confirm="Import the 3 good rows? The bad rows are left out."' in markup
    # nothing written: no contact, no group, no journey
    assert not redis.keys("sms:{main}:p:*") and redis.zcard(keys.of(redis).CONTACTS) == 0
    assert not redis.keys("sms:{main}:group:*") and redis.zcard(keys.of(redis).JOURNEYS_DUE) == 0
    assert listed(text_of(login(console, "staff").get("/staff/contacts/"))) == []


def test_import_writes_the_good_rows_and_the_same_file_again_changes_nothing(console, redis):
    admin = login(console, "admin")
    preview = upload(admin, MIXED)
    done = admin.post(f"/staff/contacts/import/{import_id(preview)}", data={"csrf_token": admin.token})
    assert done.status_code == 200
    page = text_of(done)
    assert "3 created, 0 updated, 0 unchanged" in page and "7 bad row(s) were left out" in page
    assert bad_rows(page) == MIXED_BAD
    vault = svc_of(console).vault
    ana = contacts.read(redis, vault, pk_of(console, "+16175550101"))
    assert ana.fields == {"first_name": "Ana", "discharged_on": "2026-11-24"} and ana.language in ("", "en")
    assert ana.groups == ("aftercare", "clinic-a") and ana.evidence == CONSENT
    assert len(journeys.planned_of(redis, ana.pk)) == 3  # aftercare days 7, 30, 90: planned with the import
    bea = contacts.read(redis, vault, pk_of(console, "+16175550102"))
    assert bea.fields == {"first_name": "Bea Luz", "appointment_at": "2026-12-08T14:30:00-05:00"}
    assert bea.language == "es" and bea.evidence is None and journeys.planned_of(redis, bea.pk) == ()
    assert contacts.read(redis, vault, pk_of(console, "+16175550110")).language == "es"
    assert contacts.read(redis, vault, pk_of(console, "+16175550104")) is None  # a bad row: left out
    assert redis.zcard(keys.of(redis).CONTACTS) == 3 and contacts.group_sizes(redis) == {"clinic-a": 2, "aftercare": 1}
    assert accounts.audit_log(redis)[0]["action"] == "import_contacts"
    assert accounts.audit_log(redis)[0]["detail"] == "3 created, 0 updated, 0 unchanged"

    before = {k: redis.hgetall(k) for k in redis.keys("sms:{main}:p:*")}
    again = upload(admin, MIXED)
    assert "10 rows: 3 good (0 would be created, 0 updated, 3 unchanged) and 7 bad" in words(again)
    second = admin.post(f"/staff/contacts/import/{import_id(again)}", data={"csrf_token": admin.token})
    assert "0 created, 0 updated, 3 unchanged" in text_of(second)
    assert {k: redis.hgetall(k) for k in redis.keys("sms:{main}:p:*")} == before


def test_an_import_updates_what_changed(console, redis):
    admin = login(console, "admin")
    first = upload(admin, GOOD)
    admin.post(f"/staff/contacts/import/{import_id(first)}", data={"csrf_token": admin.token})
    changed = GOOD.replace("617.555.0103,,,,,,,", "617.555.0103,es,,,,,,") + "+16175550104,,,,,,,\n"
    preview = upload(admin, changed)
    assert "4 rows: 4 good (1 would be created, 1 updated, 2 unchanged) and 0 bad" in words(preview)
    assert 'id="bad-rows"' not in preview.get_data(as_text=True)
    done = admin.post(f"/staff/contacts/import/{import_id(preview)}", data={"csrf_token": admin.token})
    assert "1 created, 1 updated, 2 unchanged" in text_of(done)
    assert contacts.read(redis, svc_of(console).vault, pk_of(console, "+16175550103")).language == "es"


def test_an_import_id_is_used_once(console):
    admin = login(console, "admin")
    iid = import_id(upload(admin, GOOD))
    assert "3 created" in text_of(admin.post(f"/staff/contacts/import/{iid}", data={"csrf_token": admin.token}))
    twice = admin.post(f"/staff/contacts/import/{iid}", data={"csrf_token": admin.token}, follow_redirects=True)
    assert "That preview expired (an hour) or was imported already" in text_of(twice)
    guessed = admin.post("/staff/contacts/import/made-up", data={"csrf_token": admin.token})
    assert guessed.status_code == 302


def test_a_number_that_sent_stop_stays_opted_out_after_an_import(console, redis):
    Phone(console.test_client(), "+16175550101").text("STOP")
    admin = login(console, "admin")
    preview = upload(admin, GOOD)
    assert "(2 would be created, 1 updated, 0 unchanged)" in words(preview)
    admin.post(f"/staff/contacts/import/{import_id(preview)}", data={"csrf_token": admin.token})
    ana = contacts.read(redis, svc_of(console).vault, pk_of(console, "+16175550101"))
    assert ana.evidence == CONSENT and not ana.outreach_allowed and journeys.planned_of(redis, ana.pk) == ()
    assert redis.hget(keys.of(redis).contact(ana.pk), "consent") == b"opted_out"


@pytest.mark.parametrize("text, why", [
    ("phone,language\n+16175550101,en\n", "row 1: needs a number column"),
    ("number,ssn\n+16175550101,123\n", "row 1: unknown column 'ssn' (number, language, groups, consent_source, "
                                       "consent_at, or a declared field: appointment_at, discharged_on, first_name)"),
    ("", "row 1: needs a number column"),
])
def test_a_bad_header_is_row_1(console, redis, text, why):
    admin = login(console, "admin")
    page = text_of(upload(admin, text))
    assert bad_rows(page) == [why]
    assert not redis.keys("sms:{main}:p:*")


def test_a_file_with_a_bad_header_has_nothing_to_import(console, tmp_path):
    admin = login(console, "admin")
    response = upload(admin, "phone,language\n+16175550101,en\n")
    page = words(response)
    assert "-1 good" not in page
    assert "/staff/contacts/import/" not in response.get_data(as_text=True)  # no Import button
    path = tmp_path / "contacts.csv"
    path.write_text("phone,language\n+16175550101,en\n", encoding="utf-8")
    result = cli(console, "contacts", "import", str(path))
    assert result.exit_code == 1 and "--commit" not in result.output


def test_a_spreadsheets_bom_and_padded_header_are_fine(console):
    admin = login(console, "admin")
    page = words(upload(admin, "\ufeff number , first_name\r\n+16175550101, Ana\r\n"))
    assert "1 rows: 1 good (1 would be created, 0 updated, 0 unchanged) and 0 bad" in page


def test_a_file_that_is_not_utf8_is_refused(console):
    admin = login(console, "admin")
    response = upload(admin, "number,first_name\n+16175550101,José\n", encoding="latin-1")
    assert response.status_code == 422 and "CSV UTF-8" in text_of(response)
    missing = admin.post("/staff/contacts/import", data={"csrf_token": admin.token}, content_type="multipart/form-data")
    assert missing.status_code == 422


def test_rows_after_a_blank_line_keep_their_spreadsheet_numbers(console):
    admin = login(console, "admin")
    page = text_of(upload(admin, "number,language\n+16175550101,en\n\n+16175550103,fr\n"))
    assert bad_rows(page) == ["row 4: language: must be one of en, es"]


# -- who may do what

def test_staff_view_and_edit_but_only_admins_import_and_ops_see_nothing(console):
    put(console, "+16175550123", {})
    pk = pk_of(console, "+16175550123")
    staff, ops, admin = login(console, "staff"), login(console, "ops"), login(console, "admin")
    assert staff.get("/staff/contacts/").status_code == 200 and staff.get(f"/staff/contacts/{pk}").status_code == 200
    assert "Import contacts from a CSV file" not in staff.get("/staff/contacts/").get_data(as_text=True)
    assert "Import contacts from a CSV file" in admin.get("/staff/contacts/").get_data(as_text=True)
    assert staff.get("/staff/contacts/import").status_code == 403
    assert upload(staff, GOOD).status_code == 403
    iid = import_id(upload(admin, GOOD))
    assert staff.post(f"/staff/contacts/import/{iid}", data={"csrf_token": staff.token}).status_code == 403
    for path in ("/staff/contacts/", f"/staff/contacts/{pk}", "/staff/contacts/import"):
        assert ops.get(path).status_code == 403
    assert ops.post(f"/staff/contacts/{pk}", data={"csrf_token": ops.token, **form()}).status_code == 403
    assert upload(ops, GOOD).status_code == 403
    assert ops.post(f"/staff/contacts/import/{iid}", data={"csrf_token": ops.token}).status_code == 403
    anonymous = console.test_client().get("/staff/contacts/")
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.location
    # the preview staff and ops could not commit is still the admin's to import
    assert "3 created" in text_of(admin.post(f"/staff/contacts/import/{iid}", data={"csrf_token": admin.token}))


# -- the CLI

def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_cli_previews_the_same_lines_and_writes_nothing(console, redis, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(MIXED, encoding="utf-8")
    result = cli(console, "contacts", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["10 rows: 3 good (3 created, 0 updated, 0 unchanged if imported), 7 bad",
                                          *MIXED_BAD]
    assert "Nothing written: run again with --commit" in result.stderr
    assert not redis.keys("sms:{main}:p:*") and redis.zcard(keys.of(redis).CONTACTS) == 0


def test_the_cli_commits_and_the_same_file_again_changes_nothing(console, redis, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(MIXED, encoding="utf-8")
    first = cli(console, "contacts", "import", str(path), "--commit")
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == ["3 created, 0 updated, 0 unchanged", *MIXED_BAD]
    assert redis.zcard(keys.of(redis).CONTACTS) == 3
    assert len(journeys.planned_of(redis, pk_of(console, "+16175550101"))) == 3
    assert accounts.audit_log(redis)[0]["who"] == "cli" and accounts.audit_log(redis)[0]["action"] == "import_contacts"
    again = cli(console, "contacts", "import", str(path), "--commit")
    assert again.stdout.splitlines()[0] == "0 created, 0 updated, 3 unchanged"
    path.write_text(GOOD.replace("617.555.0103,,,,,,,", "617.555.0103,es,,,,,,"), encoding="utf-8")
    # GOOD: 0101 as before, 0102 without "Luz", 0103 new
    assert cli(console, "contacts", "import", str(path), "--commit").stdout.splitlines() == \
        ["1 created, 1 updated, 1 unchanged"]


def test_the_console_and_the_cli_agree(console, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(MIXED, encoding="utf-8")
    page = text_of(upload(login(console, "admin"), MIXED))
    lines = cli(console, "contacts", "import", str(path)).stdout.splitlines()
    assert bad_rows(page) == lines[1:]


def test_the_cli_fails_when_no_row_is_good(console, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("number\nnope\n", encoding="utf-8")
    result = cli(console, "contacts", "import", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["1 rows: 0 good (0 created, 0 updated, 0 unchanged if imported), 1 bad",
                                          "row 2: number: must be a phone number, like +16175550123, or whatsapp:+16175550123"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("number,first_name\n+16175550101,José\n".encode("latin-1"))
    refused = cli(console, "contacts", "import", str(latin))
    assert refused.exit_code != 0 and "not UTF-8" in refused.output
    assert cli(console, "contacts", "import", str(tmp_path / "missing.csv")).exit_code != 0


def test_flask_api_token_create_prints_a_token_that_works_on_the_api(console, redis):
    result = cli(console, "api-token", "create", "--name", "EHR")
    assert result.exit_code == 0, result.output
    [token] = result.stdout.split()
    assert token.startswith("sk_")
    [record] = apitokens.all_tokens(redis)
    assert (record.name, record.created_by, record.disabled) == ("EHR", "cli", False)
    assert token.encode() not in b"".join(redis.hvals(keys.of(redis).API_TOKENS))
    client = console.test_client()
    response = client.put("/api/v1/contacts/+16175550123", json={"groups": ["a"]},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    assert accounts.audit_log(redis)[0]["who"] == "api:EHR"
    assert accounts.audit_log(redis)[1]["action"] == "create_api_token"
    # shown once: a second run makes another token, and the Accounts page never shows either
    other = cli(console, "api-token", "create", "--name", "EHR").stdout.strip()
    assert other != token and len(apitokens.all_tokens(redis)) == 2
    page = login(console, "admin").get("/staff/accounts/").get_data(as_text=True)
    assert token not in page and other not in page and "EHR" in page
    assert cli(console, "api-token", "create").exit_code != 0  # --name is required
