"""Flask: ``flask.session`` kept in Redis, so any replica can serve any request.

``app.config["SESSIONKIT_REDIS_URL"] = "redis://..."`` and ``SessionKit(app)``; settings: docs/flask.md.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from flask import Flask, Request, Response, current_app, request, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin

from sessionkit import ConfigurationError, RedisStore, Session, SessionBackendUnavailable
from sessionkit._connect import check_url
from sessionkit._web import (
    CONFLICT_BODY,
    CONFLICT_HEADERS,
    CookieSettings,
    PlainHttpWarning,
    cookie_action,
    local_http,
    lost_write,
    migrated_session,
    remaining_lifetime,
    set_cookie_header,
)
from sessionkit.adapters import _flask_conf
from sessionkit.adapters._flask_conf import TaggedSerializer

__all__ = ["FlaskSession", "RedisSessionInterface", "SessionKit", "TaggedSerializer", "get_store",
           "regenerate"]

log = logging.getLogger("sessionkit.flask")
PERMANENT = "_permanent"  # where Flask keeps ``session.permanent``


class FlaskSession(SessionMixin):
    """``flask.session``: a sessionkit ``Session`` with Flask's session attributes.

    Redis is read on first access to the data only. ``modified`` never needs setting: changes,
    nested ones included, are found by comparing serialized values when saving.
    """

    def __init__(self, core: Session, *, migrated: bool = False) -> None:
        self.core = core  # the sessionkit session: regenerate(), destroy(), bind_user(), id
        self.migrated = migrated  # imported from a Flask cookie session this request
        self.modified = False
        self.accessed = False  # Flask's flag (drives Vary: Cookie); core.accessed means "data used"
        self.saved = False

    def __getitem__(self, key: str) -> Any:
        return self.core[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.core[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self.core[key]
        self.modified = True

    def __iter__(self) -> Any:
        return iter(self.core)

    def __len__(self) -> int:
        return len(self.core)

    def __contains__(self, key: object) -> bool:
        return key in self.core

    @property
    def new(self) -> bool:  # type: ignore[override]
        """True if the session is not in Redis yet (reading it loads a lazy session)."""
        return self.core.new


class RedisSessionInterface(SessionInterface):
    """The ``SessionInterface`` that ``SessionKit.init_app`` installs as ``app.session_interface``."""

    pickle_based = False

    def __init__(self, store: RedisStore, cookie: CookieSettings, tagger: TaggedJSONSerializer,
                 *, migrate: bool = True, secure_setting: str = "SESSION_COOKIE_SECURE") -> None:
        self.store, self.cookie, self.serializer, self.migrate = store, cookie, tagger, migrate
        self.plain_http = PlainHttpWarning(cookie.secure, secure_setting)

    def open_session(self, app: Flask, request: Request) -> FlaskSession:
        value = request.cookies.get(self.cookie.name)
        core = self.store.open(value)  # lazy: no Redis command until the data is used
        if value and core.id is None and self.migrate:
            data = _flask_conf.flask_cookie_data(app, value, self.serializer)  # Flask's own cookie?
            if data:
                return FlaskSession(migrated_session(data), migrated=True)
        return FlaskSession(core)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, FlaskSession) or session.saved:
            return  # saved once: an error page after a failed save must not retry it
        session.saved = True
        core = session.core
        if session.accessed or core.accessed:
            response.vary.add("Cookie")
        if not core.accessed or not core.loaded:
            return  # untouched (or unreadable): zero Redis commands, cookie left alone
        if core.new and set(core) <= {PERMANENT}:  # nothing worth storing for a flag alone
            result = None
        else:
            try:
                result = self.store.save(core)
            except SessionBackendUnavailable as exc:
                if not self.store.config.degraded:
                    _flask_conf.become(response, app.make_response(app.handle_user_exception(exc)))
                    return
                log.warning("session not saved, cookie left untouched (degraded mode): %s", exc)
                return
        if lost_write(result):
            _flask_conf.become(response, Response(CONFLICT_BODY, 409, CONFLICT_HEADERS))
            return
        action = cookie_action(result, migrated=session.migrated, slide=session.permanent)
        if action == "leave":
            return  # the common case: nothing more to compute
        settings = self.cookie if session.permanent else replace(self.cookie, max_age=None)
        local = local_http(request.scheme, request.host)
        left = remaining_lifetime(self.store.config.absolute_timeout, core.created_at, time.time())
        if header := set_cookie_header(action, result, settings, local_http=local, max_age=left):
            self.plain_http.check(local)
            response.headers.add("Set-Cookie", header)


class SessionKit:
    """The Flask extension: ``SessionKit(app)`` or ``SessionKit().init_app(app)``.

    Args:
        app: the application (or call ``init_app`` later).
        client: an existing redis-py client, instead of ``SESSIONKIT_REDIS_URL``/``SESSIONKIT_REDIS``.
    """

    def __init__(self, app: Flask | None = None, *, client: Any = None) -> None:
        self.client = client
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the Redis session interface, the 503 handler and the Flask-Login hooks."""
        cfg = app.config
        if not cfg.get("SECRET_KEY"):
            raise ConfigurationError("set SECRET_KEY (the same on every replica): it signs session cookies")
        client = self.client if self.client is not None else cfg.get("SESSIONKIT_REDIS_CLIENT",
                                                                     cfg.get("SESSIONKIT_REDIS"))
        url = None if client is not None else cfg.get("SESSIONKIT_REDIS_URL")
        if url is None and client is None:
            raise ConfigurationError("set SESSIONKIT_REDIS_URL = 'redis://host:6379/0' (or "
                                     "SESSIONKIT_REDIS_CLIENT to an existing redis client)")
        if url is not None:
            check_url(url, "SESSIONKIT_REDIS_URL")
        tagger = TaggedJSONSerializer()
        store = RedisStore(url, client=client, serializer=TaggedSerializer(tagger),
                           secret_keys=[cfg["SECRET_KEY"], *(cfg.get("SECRET_KEY_FALLBACKS") or ())],
                           **_flask_conf.settings(app))
        config = store.config  # the cookie never outlives the session's absolute cap
        lifetime = min(config.idle_timeout, config.absolute_timeout or config.idle_timeout)
        cookie, secure_setting = _flask_conf.cookie_settings(app, int(lifetime))
        app.session_interface = RedisSessionInterface(
            store, cookie, tagger, migrate=cfg.get("SESSIONKIT_MIGRATE_FLASK_COOKIES", True),
            secure_setting=secure_setting)
        app.extensions["sessionkit"] = app.session_interface
        if app.debug:  # a debug server is plain http: say so at start-up
            app.session_interface.plain_http.check(True)
        app.register_error_handler(SessionBackendUnavailable, _flask_conf.unavailable_response)
        if cfg.get("SESSIONKIT_REGENERATE_ON_LOGIN", True):
            _flask_conf.connect_flask_login(app, regenerate, _logged_out)


def get_store(app: Flask | None = None) -> RedisStore:
    """The app's ``RedisStore`` (e.g. ``get_store().revoke_user(user_id)``); current app by default."""
    interface = (app or current_app).extensions.get("sessionkit")
    if not isinstance(interface, RedisSessionInterface):
        raise ConfigurationError("sessionkit is not set up on this app: call SessionKit(app) first")
    return interface.store


def regenerate(user_id: str | int | None = None) -> None:
    """Call on login: a new session ID for the current request's session (fixation protection),
    same data, old ID dead; binds ``user_id`` if given, so ``revoke_user`` can end its sessions."""
    current = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(current, FlaskSession):
        raise ConfigurationError("no sessionkit session: call SessionKit(app) first")
    current.core.regenerate()
    if user_id is not None:
        current.core.bind_user(user_id)


def _logged_out() -> None:
    regenerate()
    session._get_current_object().core.bind_user(None)  # type: ignore[attr-defined]
