"""SMS outreach service: `create_app()` builds everything; importing builds nothing."""
from collections.abc import Mapping

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import escape
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from service import logs
from service.clock import Clock
from service.config import Config
from service.programs import CONSOLE, ROUTES, TABLE, console_table, routes
from service.runtime import EXTENSION, build, build_all, refuse_unmoved

MAX_REQUEST_BYTES = 64 * 1024
# What one process serves. The Procfile runs Twilio's endpoints ("twilio", the `web` process) apart
# from the staff console ("console"): a burst of sign-ins (scrypt, ~65 ms of CPU each) must never
# slow the answers to people texting. "all" is both, for tests and small installs.
SURFACES = ("all", "twilio", "console")


def create_app(config: Config | Mapping[str, str] | None = None, clock: Clock | None = None,
               surface: str = "all") -> Flask:
    """Config object, or a mapping read like the environment, or the environment itself; the clock is
    the real one unless a test hands in its own."""
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {', '.join(SURFACES)}")
    cfg = config if isinstance(config, Config) else Config.from_env(config)
    logs.configure()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=cfg.secret_key.reveal(), MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
                      TESTING=cfg.testing, SESSION_COOKIE_SECURE=cfg.public_base_url.startswith("https://"),
                      WTF_CSRF_TIME_LIMIT=cfg.session_max_hours * 3600, SURFACE=surface)
    app.extensions[EXTENSION] = build(cfg, clock, serves_all=surface in ("twilio", "console"))
    table = build_all(cfg, app.extensions[EXTENSION], clock)
    chosen = console_table(cfg, table)  # a console without PROGRAM: each staff member works in the one they chose
    app.extensions[TABLE] = chosen if surface == "console" else table  # every program this process serves
    if surface != "console":  # several programs: the webhook routes each text to its program's Services
        app.extensions[ROUTES] = routes(table)
    if surface != "twilio":
        app.extensions[CONSOLE] = chosen
    if surface in ("twilio", "console"):  # the Procfile's processes (the flask CLI checks per command: ops/cli.py)
        refuse_unmoved(list((chosen if surface == "console" else table).values()) or [app.extensions[EXTENSION]])
    if surface == "twilio":  # the webhook's processes load the crisis model before their first text, not during it
        app.extensions[EXTENSION].reader.warm()
    _register(app, surface)
    if cfg.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=cfg.proxy_hops, x_proto=cfg.proxy_hops)
    return app


def _register(app: Flask, surface: str) -> None:
    from service import api, sms, staff
    from service.ops import cli, dashboard, health, metrics, outreach_cli, page
    from service.staff import display, headers
    from service.staff.sessions import RedisSessions

    app.session_interface = RedisSessions()  # no cookie, no Redis: Twilio's requests never pay for it
    app.before_request(_upload_limit)  # before CSRF reads the form
    csrf = CSRFProtect(app)
    for bp in (health.bp, metrics.bp, *(sms.BLUEPRINTS if surface != "console" else ())):
        csrf.exempt(bp)  # Twilio's requests are authenticated by their signature; /metrics by its token
        app.register_blueprint(bp)
    if surface != "twilio":
        for bp in (*staff.BLUEPRINTS, page.bp):
            app.register_blueprint(bp)
        csrf.exempt("service.staff.auth.login")  # its own double-submit token: no session for a visitor
        for bp in api.BLUEPRINTS:  # the API: bearer tokens, no cookies, no CSRF
            csrf.exempt(bp)
            app.register_blueprint(bp)
        dashboard.mount(app, [svc.config for svc in (app.extensions[CONSOLE] or {"": app.extensions[EXTENSION]}).values()], csrf)
        app.after_request(headers.secure)
        display.register(app)
    app.cli.add_command(cli.ops)
    app.cli.add_command(cli.staff)
    app.cli.add_command(outreach_cli.contacts)
    app.cli.add_command(outreach_cli.api_token)
    app.register_error_handler(HTTPException, _http_error)


UPLOADS = {"contacts.import_preview": 16 * 1024 * 1024}  # the one form that carries a file


def _upload_limit() -> None:
    if request.endpoint in UPLOADS:
        request.max_content_length = UPLOADS[request.endpoint]


def _http_error(exc: HTTPException):
    """Every refusal says why: JSON for machines, a plain page for people in the console."""
    if isinstance(exc, CSRFError):
        exc.description = "the form expired or was not sent from this console; reload the page and try again"
    if request.path.startswith("/staff") and request.accept_mimetypes.accept_html:
        if current_app.config.get("SURFACE") != "twilio":  # the console's pages exist: a page like theirs
            return render_template("staff/error.html", error=exc, back=request.referrer
                                   if (request.referrer or "").startswith(request.host_url) else None), exc.code
        return f"<!doctype html><title>{exc.code}</title><p>{exc.code} {exc.name}: {escape(exc.description)}</p>" \
               f'<p><a href="/staff/">Back to the console</a></p>', exc.code
    return jsonify(error=exc.name, detail=exc.description), exc.code
