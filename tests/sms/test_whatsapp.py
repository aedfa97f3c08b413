"""WhatsApp beside SMS: the same webhook with whatsapp: addresses, answered as TwiML; a person per channel
address; texts we send unprompted go free-form only within 24 hours of the person's last message, and
after that only as an approved template (ContentSid and ContentVariables, as Twilio's OpenAPI says),
otherwise they are held and counted. Twilio's own client against the local fake, over real HTTP."""
import json
import shutil
from dataclasses import replace

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from flows.loader import DEFINITIONS, FlowError, load_documents
from service import broadcasts as broadcast_texts, channels, handoff
from service.phone import InvalidNumber
from service.store import contacts, daily, keys, messages
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, NOON, NY, Phone, make_app, make_env, replies, svc_of
from workers.delivery import deliver
from workers.followup import Outcome, send_followup
from workers.runtime import make_runtime

FROM = "+18555909944"
NUMBER = "+16175550123"
WA = "whatsapp:" + NUMBER
HOUR, DAY = 3600, 86400
TEMPLATE = "HX0123456789abcdef0123456789abcdef"
CHECKIN = f"""\
flow: checkin
version: 1
menu: 9
keyword: {{en: CHECKIN, es: CONTROL}}
summary: {{en: a check-in from our team, es: una llamada de nuestro equipo}}
reply:
  en: Thanks for checking in with {{program}}. Reply CALL to talk.
  es: Gracias por escribir a {{program}}. Responde LLAMAR para hablar.
followups:
  - after: 2h
    text:
      en: How are you doing today? Reply CALL to talk. Reply STOP to opt out.
      es: Como estas hoy? Responde LLAMAR para hablar. Responde PARAR para no recibir mas.
  - after: 3d
    text:
      en: Checking in from {{program}}. Reply CALL to talk. Reply STOP to opt out.
      es: Te saludamos de {{program}}. Responde LLAMAR para hablar. Responde PARAR para no recibir mas.
    template:
      sid: {TEMPLATE}
      variables: {{"1": "{{program}}"}}
"""


REMINDER_TEMPLATE = "HXfedcba9876543210fedcba9876543210"
WITH_TEMPLATE = f"""
    template:
      sid: {REMINDER_TEMPLATE}
      variables: {{"1": "{{appointment_at}}", "2": "{{phone}}"}}
  - offset: -2h"""


@pytest.fixture
def app(tmp_path, redis_url, redis, fake, clock):
    flows = tmp_path / "flows"
    shutil.copytree(DEFINITIONS, flows)
    (flows / "checkin.yaml").write_text(CHECKIN)
    appointment = (flows / "appointment.yaml").read_text()  # the day-before reminder names a template
    (flows / "appointment.yaml").write_text(appointment.replace("\n  - offset: -2h", WITH_TEMPLATE, 1))
    return make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM,
                             FLOWS_DIR=str(flows)), clock=clock)


@pytest.fixture
def wa(client):
    return Phone(client, WA)


@pytest.fixture
def rt(app):
    return make_runtime(svc_of(app))


def followup_ids(rt) -> list[str]:
    pk = rt.svc.vault.person_key(WA)
    return sorted(m.decode() for m in rt.svc.redis.zrange(keys.of(rt.svc.redis).FOLLOWUPS_DUE, 0, -1) if m.decode().startswith(pk))


def run_at(rt, moment: float, fid: str) -> Outcome:
    rt.svc.clock.set(moment)
    return send_followup(rt, fid)


# -- addresses and people -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, address", [(WA, WA), ("WhatsApp:+16175550123", WA), (NUMBER, NUMBER),
                                          ("tel:+16175550123", NUMBER), ("(617) 555-0123", NUMBER)])
def test_addresses_are_a_channel_and_an_e164_number(raw, address):
    assert channels.parse(raw, "US") == address
    assert channels.number(address) == NUMBER


@pytest.mark.parametrize("raw", ["whatsapp:6175550123", "whatsapp:+1617555", "whatsapp:", "telegram:+16175550123"])
def test_a_malformed_address_is_refused(raw):
    with pytest.raises(InvalidNumber):
        channels.parse(raw, "US")


def test_a_malformed_whatsapp_from_gets_a_clear_400(wa):
    response = Phone(wa.client, "whatsapp:6175550123").text("SIGNS")
    assert response.status_code == 400 and b"channel address" in response.data


def test_a_whatsapp_text_is_answered_as_twiml_like_an_sms(wa, client):
    sms = Phone(client, NUMBER)
    assert replies(wa.text("SIGNS")) == replies(sms.text("SIGNS"))


def test_a_whatsapp_address_is_its_own_person_and_stop_there_opts_out_only_there(app, wa, client):
    svc = svc_of(app)
    assert svc.vault.person_key(WA) != svc.vault.person_key(NUMBER)
    sms = Phone(client, NUMBER)
    sms.text("SIGNS")
    assert "unsubscribed" in replies(wa.text("STOP"))[0]
    assert contacts.read(svc.redis, svc.vault, svc.vault.person_key(WA)).consent.value == "opted_out"
    assert contacts.read(svc.redis, svc.vault, svc.vault.person_key(NUMBER)).consent.value == "subscribed"
    assert "unsubscribed" not in replies(sms.text("TREATMENT"))[0]


@pytest.mark.parametrize("word", ["PARAR", "stop texting me", "UNSUBSCRIBE"])
def test_opt_out_words_work_as_on_sms(wa, word):
    assert replies(wa.text(word))  # the confirmation
    assert replies(wa.text("SIGNS")) == []  # nothing more


def test_a_picture_without_text_gets_the_menu(wa):
    assert "SIGNS: the signs of heroin dependence" in replies(wa.text(None, NumMedia="1", MediaUrl0="https://x/y.jpg"))[0]


# -- the 24-hour window ---------------------------------------------------------------------------------------

def test_a_follow_up_within_24_hours_goes_free_form_from_our_whatsapp_sender(rt, wa, fake):
    wa.text("CHECKIN")
    first = followup_ids(rt)[0]
    assert run_at(rt, NOON + 2 * HOUR + 300, first) is Outcome.SENT
    [sent] = fake.sent()
    assert sent.params["To"] == WA and sent.params["From"] == "whatsapp:" + FROM
    assert sent.params["Body"].startswith("How are you doing today?") and "ContentSid" not in sent.params


def test_after_24_hours_a_follow_up_without_a_template_is_held_and_counted(rt, wa, fake):
    wa.text("CHECKIN")
    first = followup_ids(rt)[0]
    assert run_at(rt, NOON + DAY + 2 * HOUR, first) is Outcome.WINDOW_CLOSED
    assert fake.sent() == []
    day = daily.day_of(NOON + DAY + 2 * HOUR, NY)
    assert rt.svc.redis.hget(keys.of(rt.svc.redis).daily(day), "followups_held:channel_window") == b"1"
    assert followup_ids(rt) == [followup_ids(rt)[0]] and first not in followup_ids(rt)  # dropped, not retried


def test_after_24_hours_a_follow_up_with_a_template_goes_as_the_template(rt, wa, fake):
    wa.text("CHECKIN")
    later = followup_ids(rt)[1]
    assert run_at(rt, NOON + 3 * DAY + HOUR, later) is Outcome.SENT
    [sent] = fake.sent()
    assert sent.params["To"] == WA and sent.params["From"] == "whatsapp:" + FROM
    assert sent.params["ContentSid"] == TEMPLATE and "Body" not in sent.params
    assert json.loads(sent.params["ContentVariables"]) == {"1": "Roaring Brook Recovery"}
    from service.store import people
    last = people.transcript(rt.svc.redis, rt.svc.vault, rt.svc.vault.person_key(WA))[-1]
    assert last["body"] == f"[approved template {TEMPLATE}; 1: Roaring Brook Recovery]"  # what staff see went


def test_a_new_message_from_the_person_opens_the_window_again(rt, wa, fake):
    wa.text("CHECKIN")
    first = followup_ids(rt)[0]
    rt.svc.clock.set(NOON + DAY + HOUR)
    wa.text("thanks")  # they wrote again: a free-form text may go for another 24 hours
    assert run_at(rt, NOON + DAY + 2 * HOUR, first) is Outcome.SENT
    assert fake.sent()[0].params["Body"].startswith("How are you doing today?")


def test_sms_follow_ups_have_no_window(rt, client, fake):
    Phone(client, NUMBER).text("CHECKIN")
    pk = rt.svc.vault.person_key(NUMBER)
    first = sorted(m.decode() for m in rt.svc.redis.zrange(keys.of(rt.svc.redis).FOLLOWUPS_DUE, 0, -1) if m.decode().startswith(pk))[0]
    assert run_at(rt, NOON + DAY + 2 * HOUR, first) is Outcome.SENT
    assert fake.sent()[0].params["From"] == FROM and fake.sent()[0].params["Body"]


def test_staff_reply_free_form_only_within_24_hours(app, rt, wa, fake):
    svc = svc_of(app)
    wa.text("SIGNS")
    pk = svc.vault.person_key(WA)
    mid = handoff.reply(svc, pk, "staff@center.org", "Hi, this is Dana from the center.", "a" * 16)
    assert deliver(rt, mid).value == "sent"
    assert fake.sent()[0].params["From"] == "whatsapp:" + FROM and fake.sent()[0].params["To"] == WA
    svc.clock.set(NOON + DAY + 60)
    with pytest.raises(handoff.ReplyRefused) as refused:
        handoff.reply(svc, pk, "staff@center.org", "Checking in.", "b" * 16)
    assert "WhatsApp" in str(refused.value) and "24 hours" in str(refused.value)


def test_a_broadcast_holds_whatsapp_people_past_their_window(app, wa):
    svc = svc_of(app)
    wa.text("SIGNS")
    pk = svc.vault.person_key(WA)
    contact = replace(contacts.read(svc.redis, svc.vault, pk), evidence={"source": "intake form", "at": "2026-11-20"})
    rules = svc.current_config().send_rules()
    assert broadcast_texts.held_now(svc.redis, pk, contact, rules, (), NOON + HOUR) == ""
    assert broadcast_texts.held_now(svc.redis, pk, contact, rules, (), NOON + DAY + 1) == "channel_window"


def test_the_inbox_and_the_conversation_show_the_channel(app, wa):
    from tests.staff.test_staff import login
    from service.store import accounts
    from tests.staff.test_staff import CHEAP_HASH, PASSWORD
    accounts.create(svc_of(app).redis, "staff@center.org", PASSWORD, accounts.Role.STAFF, now=NOON, method=CHEAP_HASH)
    wa.text("SIGNS")
    client = login(app)
    assert "*******0123 (WhatsApp)" in client.get("/staff/inbox/").get_data(as_text=True)
    pk = svc_of(app).vault.person_key(WA)
    assert "(WhatsApp)" in client.get(f"/staff/inbox/{pk}").get_data(as_text=True)


# -- templates in flows, and the fake holding us to Twilio's contract -----------------------------------------

@pytest.mark.parametrize("template, error", [
    ("{sid: HX123}", "template sid must be a ContentSid"),
    ("{variables: {'1': x}}", "template sid must be a ContentSid"),
    (f"{{sid: {TEMPLATE}, variables: [a]}}", "template variables map names"),
    (f"{{sid: {TEMPLATE}, color: red}}", "template needs sid"),
    (f"{{sid: {TEMPLATE}, variables: {{'1': '{{frist_name}}'}}}}", "template variable 1: only"),
])
def test_a_malformed_template_is_refused_by_the_loader(template, error):
    docs = {p.name: p.read_text(encoding="utf-8") for p in DEFINITIONS.glob("*.yaml")}
    docs["checkin.yaml"] = CHECKIN.replace(f"""    template:
      sid: {TEMPLATE}
      variables: {{"1": "{{program}}"}}
""", f"    template: {template}\n")
    with pytest.raises(FlowError) as e:
        load_documents(docs)
    assert error in str(e.value)


def test_the_fake_refuses_a_text_across_channels_and_a_bad_content_sid(fake):
    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = fake.url
    with pytest.raises(TwilioRestException) as across:
        client.messages.create(to=WA, from_=FROM, body="hi")
    assert across.value.code == 21910
    with pytest.raises(TwilioRestException) as bad:
        client.messages.create(to=WA, from_="whatsapp:" + FROM, content_sid="HX12")
    assert bad.value.code == 21655
    sent = client.messages.create(to=WA, from_="whatsapp:" + FROM, content_sid=TEMPLATE,
                                  content_variables=json.dumps({"1": "x"}))
    assert sent.sid.startswith("SM") and messages is not None


# -- journeys ---------------------------------------------------------------------------------------------------

def test_the_api_takes_a_whatsapp_address_and_says_its_channel(app):
    from tests.workers.test_journeys import Center
    center = Center(app, None)
    response = center.put(WA, {})
    assert response.status_code == 201 and response.json["number"] == WA and response.json["channel"] == "whatsapp"
    assert center.put("whatsapp:617", {}, expect=(422,)).json["error"].startswith("number")


def test_a_reminder_to_a_whatsapp_contact_goes_as_its_template_and_a_flow_without_one_is_held(app, fake):
    from tests.workers.test_journeys import APPOINTMENT, CONFIRM_AT, REMINDER_AT, Center
    center = Center(app, fake)
    center.appointment(WA, APPOINTMENT)  # a contact who never wrote to us: no free-form window at all
    [reminder, confirm] = center.events(WA)
    center.run_until(REMINDER_AT)
    [sent] = fake.sent()
    assert sent.params["To"] == WA and sent.params["From"] == "whatsapp:" + FROM and "Body" not in sent.params
    assert sent.params["ContentSid"] == REMINDER_TEMPLATE
    assert json.loads(sent.params["ContentVariables"]) == {"1": "Thursday, December 3 at 2:30 PM", "2": "855.590.9944"}
    center.run_until(CONFIRM_AT)
    assert len(fake.sent()) == 1  # the confirmation question has no template: held
    assert center.outcome_of(str(confirm)) == [Outcome.WINDOW_CLOSED]
    day = daily.day_of(CONFIRM_AT, NY)
    assert center.r.hget(keys.of(center.r).daily(day), "journey_events:window_closed") == b"1"


# -- broadcasts ------------------------------------------------------------------------------------------------

BROADCAST_TEMPLATE = "HX00000000000000000000000000000abc"


def test_a_broadcast_with_a_template_reaches_whatsapp_people_as_the_template_and_sms_people_as_text(app, fake):
    from tests.api.test_broadcasts_api import run_workers
    from tests.workers.test_journeys import EVIDENCE, Center
    center = Center(app, fake)
    center.put(WA, {"groups": ["clinic"], "consent": EVIDENCE})  # never wrote: only a template reaches them
    center.put(NUMBER, {"groups": ["clinic"], "consent": EVIDENCE})
    body = {"text": "The clinic is closed Friday.", "group": "clinic",
            "template": {"sid": BROADCAST_TEMPLATE, "variables": {"1": "{program}"}}}
    created = center.client.post("/api/v1/broadcasts", json=body, headers={"Authorization": f"Bearer {center.token}"})
    assert created.status_code == 201 and created.json["recipients"] == 2
    assert created.json["held"]["channel_window"] == 0 and created.json["template"]["sid"] == BROADCAST_TEMPLATE
    run_workers(app)
    by_to = {r.params["To"]: r.params for r in fake.sent()}
    assert by_to[WA]["ContentSid"] == BROADCAST_TEMPLATE and "Body" not in by_to[WA]
    assert json.loads(by_to[WA]["ContentVariables"]) == {"1": "Roaring Brook Recovery"}
    assert by_to[NUMBER]["Body"].startswith("The clinic is closed Friday.") and "ContentSid" not in by_to[NUMBER]
    from service.store import people
    svc = center.svc
    [wa_entry] = [m for m in people.transcript(svc.redis, svc.vault, center.pk(WA)) if m["dir"] == "out"]
    [sms_entry] = [m for m in people.transcript(svc.redis, svc.vault, center.pk(NUMBER)) if m["dir"] == "out"]
    assert wa_entry["body"] == f"[approved template {BROADCAST_TEMPLATE}; 1: Roaring Brook Recovery]"
    assert sms_entry["body"].startswith("The clinic is closed Friday.")


def test_a_broadcast_without_a_template_holds_whatsapp_people_past_their_window(app, fake):
    from tests.api.test_broadcasts_api import run_workers
    from tests.workers.test_journeys import EVIDENCE, Center
    center = Center(app, fake)
    center.put(WA, {"groups": ["clinic"], "consent": EVIDENCE})
    created = center.client.post("/api/v1/broadcasts", json={"text": "Closed Friday.", "group": "clinic"},
                                 headers={"Authorization": f"Bearer {center.token}"})
    assert created.status_code == 201 and created.json["recipients"] == 0
    assert created.json["held"]["channel_window"] == 1
    run_workers(app)
    assert fake.sent() == []


@pytest.mark.parametrize("template, field", [
    ({"sid": "HX1"}, "template.sid"), ({"sid": BROADCAST_TEMPLATE, "variables": {"1": 2}}, "template.variables"),
    ("HX", "template"), ({"sid": BROADCAST_TEMPLATE, "lang": "en"}, "template"),
    ({"sid": BROADCAST_TEMPLATE, "variables": {"1": "{first_name}"}}, "template.variables.1"),
])
def test_a_bad_broadcast_template_is_a_422_naming_the_field(app, template, field):
    from tests.workers.test_journeys import EVIDENCE, Center
    center = Center(app, None)
    center.put(NUMBER, {"groups": ["clinic"], "consent": EVIDENCE})
    response = center.client.post("/api/v1/broadcasts", json={"text": "Hi.", "group": "clinic", "template": template},
                                  headers={"Authorization": f"Bearer {center.token}"})
    assert response.status_code == 422 and response.json["field"] == field



WORRIED = """\
flow: worried
version: 1
menu: 10
keyword: {en: WORRIED, es: PREOCUPADO}
summary: {en: tell us how you are, es: dinos como estas}
start: ask
steps:
  ask:
    text:
      en: Are you safe right now? Reply YES or NO.
      es: Estas a salvo ahora? Responde SI o NO.
    answers:
      - match: {en: ["YES"], es: ["SI"]}
        go: good
      - match: {en: ["NO"], es: ["NO"]}
        go: escalate
    timeout: {after: 2d, go: escalate}
  good:
    text: {en: Glad to hear it., es: Nos alegra saberlo.}
  escalate:
    text:
      en: Our team will call you {callback_eta}. Reply STOP to opt out.
      es: Nuestro equipo te llamara {callback_eta}. Responde PARAR para no recibir mas.
    action: callback
"""


def test_past_the_window_a_timeout_that_asks_for_a_call_back_still_queues_it_and_puts_them_before_staff(
        tmp_path, redis_url, redis, fake, clock):
    from service.store import attention, followups
    flows = tmp_path / "worried"
    shutil.copytree(DEFINITIONS, flows)
    (flows / "worried.yaml").write_text(WORRIED)
    app = make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM, FLOWS_DIR=str(flows)),
                   clock=clock)
    svc, rt = svc_of(app), make_runtime(svc_of(app))
    Phone(app.test_client(), WA).text("WORRIED")
    pk = svc.vault.person_key(WA)
    due = svc.redis.zscore(keys.of(redis).FOLLOWUPS_DUE, pk)
    assert due is not None  # the question's timeout
    assert run_at(rt, due + 60, followups.job_arg(pk, due)) is Outcome.WINDOW_CLOSED
    assert [r for r in fake.sent() if r.params["To"] == WA] == []  # no free-form text past the window
    assert svc.redis.hget(keys.of(redis).contact(pk), "open_callback") is not None  # staff still call them back
    assert attention.reason_of(svc.redis, pk) == "channel_window"


def test_a_crisis_on_whatsapp_gets_the_crisis_answer_at_once_and_on_call_staff_are_texted_by_sms(
        tmp_path, redis_url, redis, fake, clock):
    from service.store import crises
    staff = "+16175550100"
    app = make_app(make_env(redis_url, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER=FROM,
                            STAFF_ALERT_NUMBERS=staff), clock=clock)
    svc, rt = svc_of(app), make_runtime(svc_of(app))
    answer = replies(Phone(app.test_client(), WA).text("se puso azul y no contesta"))[0]
    assert "911" in answer and "988" in answer
    pk = svc.vault.person_key(WA)
    assert crises.open_of(svc.redis, pk)
    [alert] = [m.decode().split(":", 3)[-1] for m in svc.redis.scan_iter(keys.of(redis).message("alert_*"))]
    assert deliver(rt, alert).value == "sent"
    [sent] = fake.sent()
    assert sent.params["To"] == staff and sent.params["From"] == FROM  # staff are texted by SMS, from our number
    assert NUMBER not in sent.params["Body"] and "0123" not in sent.params["Body"]  # no number in the alert
