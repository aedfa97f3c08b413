"""How the console shows times: in the center's zone, readably ("Thu Nov 26, 5:42 PM"), relative within
the last hour ("12 min ago"); a person's language ("Spanish (es)"); and a text's live segment counter."""
from datetime import datetime

from flask import Flask, current_app

from flows import gsm
from service import channels, planning
from service.programs import CONSOLE, display_name
from service.runtime import services
from service.store import crises, keys, people


def when(timestamp) -> str:
    if timestamp in (None, ""):
        return ""
    svc = services()
    moment, now = float(timestamp), svc.now()
    if 0 <= now - moment < 3600:
        minutes = int((now - moment) // 60)
        return "just now" if minutes == 0 else f"{minutes} min ago"
    return clock(timestamp)


def clock(timestamp) -> str:
    """Always the day and time ("Thu Nov 26, 5:42 PM"): for promises and deadlines."""
    if timestamp in (None, ""):
        return ""
    local = datetime.fromtimestamp(float(timestamp), services().config.timezone)
    return local.strftime("%a %b %d, %I:%M %p").replace(" 0", " ")


def language_of(svc, pk: str) -> str:
    """The language a person is texted in: the program's default unless they chose another."""
    return language(people.language_of(svc.vault, svc.redis.hget(keys.of(svc.redis).contact(pk), people.LANGUAGE)))


def language(code: str) -> str:
    """"Spanish (es)"; "" is the program's default language."""
    code = code or services().flows().program.default_language
    return f"{services().languages.name(code)} ({code})"


# Every code a staff page shows, in plain words (an unknown code loses its underscores).
LABELS = {
    "subscribed": "subscribed", "opted_out": "opted out",
    "FIRST_MESSAGE": "their first text", "REVOKE_PHRASE": "a request to stop texting",
    "CARRIER_21610": "their carrier (the number blocked our texts)",
    "appointment": "they wrote about an appointment (to cancel or change it)",
    "channel_window": "a text to them couldn't go: on WhatsApp more than 24 hours after their last message, "
                      "with no approved template (call them)",
    "reached_safe": "we reached them and they are safe", "advised_911": "we told them to call 911 (or called it)",
    "no_answer": "we could not reach them", "other": "something else (see the note)",
    "words": "a crisis phrase in their text", "model": "how their text reads (the crisis model)",
    "waiting": "waiting", "claimed": "claimed", "reached": "reached", "wrong_number": "wrong number",
    "confirm/no_answer": "no answer to the appointment confirmation within an hour",
    "wellbeing/struggling": "they answered 2: struggling", "wellbeing/talk": "they answered 3: they need to talk",
    "wellbeing/no_answer": "no answer to the check-in after discharge in 2 days",
}


def label(code) -> str:
    code = getattr(code, "value", code) or ""
    return LABELS.get(code, code.replace("_", " ") if code.islower() else code)


def on_call() -> bool:
    """Whether a crisis pages anyone (STAFF_ALERT_NUMBERS, or the Settings page's)."""
    return bool(services().current_config().staff_alert_numbers)


def setup_left() -> int:
    """First-run checklist items an admin has still to do (0 once done or set aside)."""
    from service.staff.setup_page import pending
    return pending(services())


def open_crises() -> int:
    """Open crises of real people (the simulator's are not counted)."""
    return crises.count_open(services().redis)


def pending_steps(svc, pk: str) -> list[planning.Waiting]:
    """What the bot will send this person later: follow-ups and the waiting question's timeout."""
    return planning.waiting(svc.redis, svc.flows(), pk)


def delivery(record: dict | None) -> str:
    """An outbound text's delivery as staff read it: Twilio's status when it reported one, else ours."""
    if not record:
        return ""
    state, status = record["state"], record["status"]
    text = status or {"queued": "waiting to send", "sending": "sending", "sent": "sent"}.get(
        state, state.replace("_", " "))
    return f"{text} (error {record['code']})" if record.get("code") else text


def iso(timestamp) -> str:
    """ISO 8601 in the center's zone, for exports."""
    if timestamp in (None, ""):
        return ""
    return datetime.fromtimestamp(float(timestamp), services().config.timezone).isoformat(timespec="seconds")


def console_program() -> str:
    """The program a console of several programs is working in, as its staff know it ("": one program)."""
    return display_name(services()) if current_app.extensions.get(CONSOLE) else ""


def register(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")  # the nav builds its lists with {% do %}
    app.add_template_filter(when, "when")
    app.add_template_filter(clock, "clock")
    app.add_template_filter(delivery, "delivery")
    app.add_template_filter(language, "language")
    app.add_template_global(open_crises, "open_crises")
    app.add_template_global(on_call, "on_call")
    app.add_template_global(setup_left, "setup_left")
    app.add_template_global(console_program, "console_program")
    app.add_template_filter(label, "label")
    app.add_template_filter(channels.number, "dialled")  # a tel: link dials the number, whatever the channel


def segment_counter(sent: str, typed: str) -> dict:
    """What a live counter under a text shows: `sent` is the text as it will go out, `typed` as written
    (its GSM-7 replacement is offered)."""
    info = gsm.segment_info(sent)
    return {"encoding": info.encoding, "segments": info.segments, "units": info.units, "non_gsm": list(info.non_gsm),
            "gsm": gsm.to_gsm7(typed)}
