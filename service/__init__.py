"""SMS outreach service: `create_app()` builds everything; importing builds nothing."""
from collections.abc import Mapping

from flask import Flask, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from service import logs
from service.clock import Clock
from service.config import Config
from service.runtime import EXTENSION, build

MAX_REQUEST_BYTES = 64 * 1024


def create_app(config: Config | Mapping[str, str] | None = None, clock: Clock | None = None) -> Flask:
    """Config object, or a mapping read like the environment, or the environment itself; the clock is
    the real one unless a test hands in its own."""
    cfg = config if isinstance(config, Config) else Config.from_env(config)
    logs.configure()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=cfg.secret_key.reveal(), MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
                      TESTING=cfg.testing, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=cfg.public_base_url.startswith("https://"),
                      PERMANENT_SESSION_LIFETIME=8 * 3600, WTF_CSRF_TIME_LIMIT=8 * 3600)
    app.session_interface = CookieSessions()
    app.extensions[EXTENSION] = build(cfg, clock)
    _register(app)
    return app


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus building a signer for requests that carry no session cookie
    (Twilio's webhooks, /metrics, health checks): they get an empty session, as Flask would give them."""

    def open_session(self, app, request):
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _register(app: Flask) -> None:
    from service import sms, staff
    from service.ops import cli, dashboard, health, metrics, page

    csrf = CSRFProtect(app)
    for bp in (health.bp, metrics.bp, *sms.BLUEPRINTS):
        csrf.exempt(bp)  # Twilio's requests are authenticated by their signature; /metrics by its token
        app.register_blueprint(bp)
    for bp in (*staff.BLUEPRINTS, page.bp):
        app.register_blueprint(bp)
    dashboard.mount(app, app.extensions[EXTENSION].config, csrf)
    app.cli.add_command(cli.ops)
    app.cli.add_command(cli.staff)
    app.register_error_handler(HTTPException, _http_error)


def _http_error(exc: HTTPException):
    """Every refusal says why: JSON for machines, a plain page for people in the console."""
    if isinstance(exc, CSRFError):
        exc.description = "the form expired or was not sent from this console; reload the page and try again"
    if request.path.startswith("/staff") and request.accept_mimetypes.accept_html:
        return f"<!doctype html><title>{exc.code}</title><p>{exc.code} {exc.name}: {escape(exc.description)}</p>" \
               f'<p><a href="/staff/">Back to the console</a></p>', exc.code
    return jsonify(error=exc.name, detail=exc.description), exc.code
