"""How the console shows times: in the center's zone, readably ("Thu Nov 26, 5:42 PM"), relative within
the last hour ("12 min ago"); and a person's language ("Spanish (es)")."""
from datetime import datetime

from flask import Flask

from flows.checks import LANGUAGE_NAMES
from service.runtime import services
from service.store import keys, people


def when(timestamp) -> str:
    if timestamp in (None, ""):
        return ""
    svc = services()
    moment, now = float(timestamp), svc.now()
    if 0 <= now - moment < 3600:
        minutes = int((now - moment) // 60)
        return "just now" if minutes == 0 else f"{minutes} min ago"
    local = datetime.fromtimestamp(moment, svc.config.timezone)
    return local.strftime("%a %b %d, %I:%M %p").replace(" 0", " ")


def language_of(svc, pk: str) -> str:
    """The language a person is texted in: the program's default unless they chose another."""
    code = people.language_of(svc.vault, svc.redis.hget(keys.contact(pk), people.LANGUAGE)) \
        or svc.flows().program.default_language
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def register(app: Flask) -> None:
    app.add_template_filter(when, "when")
