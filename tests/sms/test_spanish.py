"""Spanish through the signed webhook and the workers: the person's language is remembered (encrypted,
only when it is not the default) and every later text to them is in it."""
import pytest

from service.store import followups, keys, outbox, people
from tests.conftest import Phone, make_app, make_env, replies, svc_of
from workers.followup import Outcome, send_followup
from workers.runtime import make_runtime


@pytest.fixture
def rt(app):
    return make_runtime(svc_of(app))


def pk_of(app, phone) -> str:
    return svc_of(app).vault.person_key(phone.number)


def test_senales_answers_in_spanish_and_the_language_is_stored_encrypted(app, phone, redis):
    [first, ask] = replies(phone.text("SEÑALES"))
    assert first.startswith("Señales de dependencia de la heroina") and "Pueden aplicarse tarifas" in first
    assert ask.startswith("¿Es sobre usted")
    stored = redis.hget(keys.of(redis).contact(pk_of(app, phone)), people.LANGUAGE)
    assert stored and b"es" != stored and stored.startswith(b"~")  # sealed like every personal datum
    assert people.language_of(svc_of(app).vault, stored) == "es"


def test_the_default_language_is_not_stored(app, phone, redis):
    phone.text("SIGNS")
    assert redis.hget(keys.of(redis).contact(pk_of(app, phone)), people.LANGUAGE) is None
    phone.text("ESPAÑOL")
    assert redis.hget(keys.of(redis).contact(pk_of(app, phone)), people.LANGUAGE) is not None
    assert replies(phone.text("ENGLISH")) == ["OK, we'll text you in English from now on. Para español, responda ESPAÑOL."]
    assert redis.hget(keys.of(redis).contact(pk_of(app, phone)), people.LANGUAGE) is None


def test_later_texts_follow_the_stored_language(app, phone):
    phone.text("TRATAMIENTO")
    assert replies(phone.text("hola"))[0].startswith("Gracias por escribirnos")  # not understood, in Spanish
    assert replies(phone.text("HELP"))[0].startswith("Roaring Brook Recovery: informacion")
    assert replies(phone.text("STOP"))[0].startswith("Ya no recibira mensajes")
    assert replies(phone.text("START"))[0].startswith("Volvera a recibir mensajes")


def test_an_answer_in_spanish_to_an_english_question_switches(app, phone):
    phone.text("SIGNS")
    [answer] = replies(phone.text("otro"))
    assert answer.startswith("Querer a alguien que consume")


def test_parar_opts_out_with_the_spanish_confirmation(app, phone, redis):
    phone.text("SIGNS")
    assert replies(phone.text("no me manden más mensajes"))[0].startswith("Ya no recibira mensajes")
    pk = pk_of(app, phone)
    assert people.consent_of(redis, pk).value == "opted_out" and followups.everything_pending(redis, pk) == ()
    assert replies(phone.text("SEÑALES")) == []  # opted out: nothing more
    assert replies(phone.text("COMENZAR"))[0].startswith("Volvera a recibir")


def test_a_spanish_crisis_gets_the_spanish_answer_and_alerts_staff_in_english(redis_url, redis, clock):
    app = make_app(make_env(redis_url, STAFF_ALERT_NUMBERS="+16175550100"), clock)
    [crisis] = replies(Phone(app.test_client()).text("mi hermano tuvo una sobredosis y no respira"))
    assert "llame al 911" in crisis and "llame al 988 y marque 2" in crisis
    alerts = [redis.hgetall(k) for k in redis.keys("sms:{main}:out:alert_*")]
    assert alerts and all(svc_of(app).vault.decrypt(a[b"body"]).startswith("URGENT") for a in alerts)


def test_a_spanish_follow_up_through_the_worker(app, phone, rt, redis):
    phone.text("TRATAMIENTO")
    pk = pk_of(app, phone)
    first = sorted(followups.pending_of(redis, pk))[0]
    rt.svc.clock.set(followups.due_times(redis, (first,))[first])
    assert send_followup(rt, first) is Outcome.SENT
    [sent] = outbox.read(redis, rt.svc.vault)
    assert sent["body"].startswith("¿Tiene preguntas sobre la desintoxicacion") and "PARAR" in sent["body"]


def test_a_spanish_question_times_out_in_spanish(app, phone, rt, redis):
    phone.text("SEÑALES")
    pk = pk_of(app, phone)
    due = followups.timeout_of(redis, pk)
    rt.svc.clock.set(due)
    assert send_followup(rt, followups.job_arg(pk, due)) is Outcome.SENT
    assert outbox.read(redis, rt.svc.vault)[-1]["body"].startswith("Pensamos en usted despues de ayer")


def test_erasure_takes_the_language_with_the_rest(app, phone, redis):
    from service.erase import erase_person
    phone.text("SEÑALES")
    assert erase_person(svc_of(app), pk_of(app, phone))
    assert redis.hget(keys.of(redis).contact(pk_of(app, phone)), people.LANGUAGE) is None


def test_two_people_keep_their_own_languages(app, client):
    ana, bob = Phone(client, "+16175550131"), Phone(client, "+16175550132")
    ana.text("SEÑALES")
    bob.text("SIGNS")
    assert replies(ana.text("?"))[0] == "Por favor, responda YO u OTRO."  # the choices, in Spanish
    assert replies(bob.text("?"))[0] == "Please reply ME or OTHER."
