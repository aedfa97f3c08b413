"""The webhook without the crisis model (the crisis phrases alone), for the side-by-side throughput of
bench/understanding.py: the same app, its reader swapped for the rules-only one."""
from dataclasses import replace

from flows.reading import RULES_ONLY
from service import create_app as service_app
from service.runtime import EXTENSION


def create_app(surface: str = "twilio"):
    app = service_app(surface=surface)
    app.extensions[EXTENSION] = replace(app.extensions[EXTENSION], reader=RULES_ONLY)
    return app
