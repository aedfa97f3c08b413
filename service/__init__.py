"""SMS outreach service: `create_app()` builds everything; importing builds nothing."""
from collections.abc import Mapping

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from service.config import Config
from service.context import EXTENSION, build

MAX_REQUEST_BYTES = 64 * 1024


def create_app(config: Config | Mapping[str, str] | None = None) -> Flask:
    """Config object, or a mapping read like the environment, or the environment itself."""
    cfg = config if isinstance(config, Config) else Config.from_env(config)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=cfg.secret_key.reveal(), MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
                      TESTING=cfg.testing)
    app.extensions[EXTENSION] = build(cfg)
    _register(app)
    return app


def _register(app: Flask) -> None:
    from service import cli, fallback, health, sms

    app.register_blueprint(health.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(fallback.bp)
    app.cli.add_command(cli.ops)
    app.register_error_handler(HTTPException, _http_error)


def _http_error(exc: HTTPException):
    """Every refusal says why, in JSON; no HTML error pages for machines."""
    return jsonify(error=exc.name, detail=exc.description), exc.code
