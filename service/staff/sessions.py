"""Flask's session, kept server-side (service/store/sessions.py): the cookie carries a random token
only. Requests without the cookie (Twilio's, health checks, /metrics by token) never touch Redis."""
from flask import g
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from service.runtime import EXTENSION
from service.store import sessions
from service.store.sessions import Limits


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, token: str | None = None):
        def changed(session):
            session.modified = True
        super().__init__(initial or {}, changed)
        self.token, self.modified, self.rotate = token, False, False


def rotate(session: ServerSession) -> None:
    """A new token after sign-in: a token planted before it (session fixation) opens nothing."""
    session.rotate = True


class RedisSessions(SessionInterface):
    def open_session(self, app, request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token:
            return ServerSession()
        svc = app.extensions[EXTENSION]
        data = sessions.load(svc.redis, token, svc.now(), _limits(svc.config))
        return ServerSession(data, token) if data is not None else ServerSession()

    def save_session(self, app, session: ServerSession, response) -> None:
        svc, name = app.extensions[EXTENSION], self.get_cookie_name(app)
        limits, now, had_token = _limits(svc.config), svc.now(), session.token is not None
        if session.token and (session.rotate or not session):
            sessions.end(svc.redis, session.token)
            session.token = None
        if not session:
            if had_token:
                response.delete_cookie(name, path=self.get_cookie_path(app), domain=self.get_cookie_domain(app))
            return
        if session.token is None:
            session.token = sessions.create(svc.redis, dict(session), now, limits)
            response.set_cookie(name, session.token, httponly=True, samesite="Lax",
                                secure=self.get_cookie_secure(app), path=self.get_cookie_path(app))
        elif not g.get("passive"):  # a live page's background poll is not activity: the idle clock runs on
            sessions.save(svc.redis, session.token, dict(session), now, limits)  # idle clock restarts


def _limits(config) -> Limits:
    return Limits(config.session_idle_minutes * 60, config.session_max_hours * 3600)
