"""A patient who texts to cancel an appointment reaches staff (the inbox's "asking for you" rows), keeps
their reminders (no opt-out), and is told the team will reach out."""
from service.store import attention
from tests.conftest import replies, svc_of


def test_cancel_my_appointment_reaches_staff_and_keeps_the_person_subscribed(phone, redis, app):
    [answer] = replies(phone.text("cancel my appointment tomorrow"))
    assert "Our team will reach out about your appointment" in answer
    pk = svc_of(app).vault.person_key(phone.number)
    assert attention.reason_of(redis, pk) == "appointment"
    assert redis.hget(f"sms:{{main}}:p:{pk}", "consent") == b"subscribed"
