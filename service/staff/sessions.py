"""Flask's session, kept server-side (service/store/sessions.py): the cookie carries a random token
only. Requests without the cookie (Twilio's, health checks, /metrics by token) never touch Redis.

A console serving several programs keeps each session in the Redis of the program signed in to, and its
cookie says which ("harbor.<token>"): the request is routed there before anything reads a session. A
token is only ever looked up in the Redis its cookie names, so a cookie edited to name another program
opens nothing there."""
from flask import g
from flask.sessions import SessionInterface, SessionMixin
from redis.exceptions import RedisError
from werkzeug.datastructures import CallbackDict

from service.programs import CONSOLE
from service.runtime import EXTENSION, Services, route_to, services
from service.store import sessions
from service.store.sessions import Limits


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, token: str | None = None, home: Services | None = None):
        def changed(session):
            session.modified = True
        super().__init__(initial or {}, changed)
        self.token, self.modified, self.rotate = token, False, False
        self.home = home  # the Services whose Redis holds this session (None: none held yet)


def rotate(session: ServerSession) -> None:
    """A new token after sign-in: a token planted before it (session fixation) opens nothing."""
    session.rotate = True


class RedisSessions(SessionInterface):
    def open_session(self, app, request) -> ServerSession:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return ServerSession()
        choosable = app.extensions.get(CONSOLE) or {}
        program, _, token = value.rpartition(".") if choosable else ("", "", value)
        svc = choosable.get(program) if choosable else app.extensions[EXTENSION]
        if svc is None or not token:
            return ServerSession()
        try:
            data = sessions.load(svc.redis, token, svc.now(), _limits(svc.config))
        except RedisError:
            if not choosable:
                raise  # the console's one program is down: its error page says so
            data = None  # that program is down: sign in to another meanwhile (this one opens nothing)
        if data is None:
            return ServerSession()
        route_to(svc, checked=False)  # opened before dispatch: the views' services() check it
        return ServerSession(data, token, svc)

    def save_session(self, app, session: ServerSession, response) -> None:
        name = self.get_cookie_name(app)
        had_token = session.token is not None
        if session.token and (session.rotate or not session):
            sessions.end(session.home.redis, session.token)
            session.token, session.home = None, None
        if not session:
            if had_token:
                response.delete_cookie(name, path=self.get_cookie_path(app), domain=self.get_cookie_domain(app))
            return
        svc = session.home or services()  # a new session: in the program the request was routed to (sign-in)
        limits, now = _limits(svc.config), svc.now()
        if session.token is None:
            session.token, session.home = sessions.create(svc.redis, dict(session), now, limits), svc
            value = f"{svc.config.program}.{session.token}" if app.extensions.get(CONSOLE) else session.token
            response.set_cookie(name, value, httponly=True, samesite="Lax",
                                secure=self.get_cookie_secure(app), path=self.get_cookie_path(app))
        elif not g.get("passive"):  # a live page's background poll is not activity: the idle clock runs on
            sessions.save(svc.redis, session.token, dict(session), now, limits)  # idle clock restarts


def _limits(config) -> Limits:
    return Limits(config.session_idle_minutes * 60, config.session_max_hours * 3600)
