"""Flask: ``flask.session`` kept in Redis, so any replica can serve any request.

``app.config["SESSIONKIT_REDIS_URL"] = "redis://..."`` and ``SessionKit(app)``; settings: docs/flask.md.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response, current_app, session
from flask.json.provider import DefaultJSONProvider
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin
from itsdangerous import BadSignature

from sessionkit import ConfigurationError, RedisStore, SerializationError, Session, SessionBackendUnavailable
from sessionkit._web import UNAVAILABLE_BODY, CookieSettings, migrated_session, unavailable_headers

__all__ = ["FlaskSession", "RedisSessionInterface", "SessionKit", "TaggedSerializer", "get_store",
           "regenerate"]

log = logging.getLogger("sessionkit.flask")
PERMANENT = "_permanent"  # where Flask keeps ``session.permanent``


class TaggedSerializer:
    """Flask's tagged JSON (tuple, bytes, datetime, UUID, ``Markup``...) as compact, key-sorted UTF-8.

    Values round-trip as with Flask's cookie session; register extra types as a ``JSONTag`` on
    ``app.session_interface.serializer``, exactly as with Flask's own session.
    """

    def __init__(self, tagger: TaggedJSONSerializer | None = None) -> None:
        self.tagger = tagger or TaggedJSONSerializer()

    def dumps(self, value: Any) -> bytes:
        try:  # not the app's JSON provider: bytes must not depend on the app context
            return json.dumps(self.tagger.tag(value), separators=(",", ":"), sort_keys=True,
                              ensure_ascii=False, default=DefaultJSONProvider.default).encode()
        except (TypeError, ValueError) as exc:
            raise SerializationError(
                f"{exc}; Flask session values must be JSON types or types Flask's tagged JSON knows "
                "(tuple, bytes, datetime, UUID, Markup). Register a flask.json.tag.JSONTag on "
                "app.session_interface.serializer for others."
            ) from exc

    def loads(self, data: bytes) -> Any:
        return self.tagger.loads(data.decode())


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
                 *, migrate: bool = True) -> None:
        self.store, self.cookie, self.serializer, self.migrate = store, cookie, tagger, migrate

    def open_session(self, app: Flask, request: Request) -> FlaskSession:
        value = request.cookies.get(self.cookie.name)
        core = self.store.open(value)  # lazy: no Redis command until the data is used
        if value and core.id is None and self.migrate:
            data = self._flask_cookie(app, value)  # not ours; maybe Flask's own signed cookie session
            if data:
                return FlaskSession(migrated_session(data), migrated=True)
        return FlaskSession(core)

    def _flask_cookie(self, app: Flask, value: str) -> dict[str, Any] | None:
        legacy = SecureCookieSessionInterface()
        legacy.serializer = self.serializer
        signer = legacy.get_signing_serializer(app)
        if signer is None:
            return None
        try:
            data = signer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except (BadSignature, AttributeError, ValueError, TypeError):
            return None
        return data if isinstance(data, dict) else None

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, FlaskSession) or session.saved:
            return  # saved once: an error page after a failed save must not retry it
        session.saved = True
        core = session.core
        if session.accessed or core.accessed:
            response.vary.add("Cookie")
        if not core.accessed or not core.loaded:
            return  # untouched (or unreadable): zero Redis commands, cookie left alone
        delete = self.cookie.header("", delete=True)
        if core.new and set(core) <= {PERMANENT}:  # nothing worth storing for a flag alone
            if session.migrated:
                response.headers.add("Set-Cookie", delete)
            return
        try:
            result = self.store.save(core)
        except SessionBackendUnavailable as exc:
            if self.store.config.degraded:
                log.warning("session not saved, cookie left untouched (degraded mode): %s", exc)
            else:
                _become(response, app.make_response(app.handle_user_exception(exc)))
            return
        if result.cookie == "delete" or (session.migrated and result.cookie != "set"):
            response.headers.add("Set-Cookie", delete)
        elif result.value and (result.cookie == "set" or (result.written and session.permanent)):
            settings = self.cookie if session.permanent else replace(self.cookie, max_age=None)
            response.headers.add("Set-Cookie", settings.header(result.value))


def _become(response: Response, other: Response) -> None:
    response.close()  # replaced in place: save_session cannot return a new response
    response.status, response.headers, response.response = other.status, other.headers, other.response
    response.direct_passthrough = other.direct_passthrough


def _unavailable(exc: SessionBackendUnavailable) -> Response:
    log.error("%s", exc)
    return Response(UNAVAILABLE_BODY, 503, unavailable_headers(exc))


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

        def setting(name: str, default: Any) -> Any:
            return cfg.get(f"SESSIONKIT_{name}", default)

        if not cfg.get("SECRET_KEY"):
            raise ConfigurationError("set SECRET_KEY (the same on every replica): it signs session cookies")
        client = self.client if self.client is not None else setting("REDIS", None)
        url = None if client is not None else setting("REDIS_URL", None)
        if url is None and client is None:
            raise ConfigurationError("set SESSIONKIT_REDIS_URL = 'redis://host:6379/0' (or SESSIONKIT_REDIS "
                                     "to an existing redis client)")
        idle = setting("IDLE_TIMEOUT", None) or app.permanent_session_lifetime
        # SESSION_REFRESH_EACH_REQUEST=False: only writes extend the session, as with Flask's cookie.
        refresh = setting("REFRESH_INTERVAL", 60) if cfg["SESSION_REFRESH_EACH_REQUEST"] else 1e18
        tagger = TaggedJSONSerializer()
        store = RedisStore(
            url, client=client, secret_keys=[cfg["SECRET_KEY"], *(cfg.get("SECRET_KEY_FALLBACKS") or ())],
            serializer=TaggedSerializer(tagger), key_prefix=setting("KEY_PREFIX", "sessionkit:"),
            idle_timeout=idle, absolute_timeout=setting("ABSOLUTE_TIMEOUT", timedelta(days=30)),
            refresh_interval=refresh, max_size=setting("MAX_SIZE", 65536),
            degraded=setting("DEGRADED", False), wait_replicas=setting("WAIT_REPLICAS", 0),
            local_cache=setting("LOCAL_CACHE", True),
        )
        same_site = cfg["SESSION_COOKIE_SAMESITE"]
        cookie = CookieSettings(
            name=cfg["SESSION_COOKIE_NAME"],
            path=cfg["SESSION_COOKIE_PATH"] or cfg["APPLICATION_ROOT"],
            domain=cfg["SESSION_COOKIE_DOMAIN"] or None,
            secure=bool(cfg["SESSION_COOKIE_SECURE"] or setting("COOKIE_SECURE", True)),
            httponly=cfg["SESSION_COOKIE_HTTPONLY"],
            same_site=same_site.lower() if same_site else "lax",
            partitioned=cfg.get("SESSION_COOKIE_PARTITIONED", False),
            max_age=int(store.config.idle_timeout),
        )
        migrate = setting("MIGRATE_FLASK_COOKIES", True)
        app.session_interface = RedisSessionInterface(store, cookie, tagger, migrate=migrate)
        app.extensions["sessionkit"] = app.session_interface
        app.register_error_handler(SessionBackendUnavailable, _unavailable)
        if setting("REGENERATE_ON_LOGIN", True):
            _connect_flask_login(app)


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


def _connect_flask_login(app: Flask) -> None:
    """Flask-Login: a new session ID on every login (bound to the user) and logout (unbound)."""
    try:
        import flask_login  # type: ignore[import-untyped]
    except ImportError:
        return
    flask_login.user_logged_in.connect(_logged_in, app, weak=False)
    flask_login.user_loaded_from_cookie.connect(_logged_in, app, weak=False)
    flask_login.user_logged_out.connect(_logged_out, app, weak=False)


def _logged_in(sender: Flask, user: Any = None, **extra: Any) -> None:
    regenerate(user.get_id() if user is not None else None)


def _logged_out(sender: Flask, user: Any = None, **extra: Any) -> None:
    regenerate()
    session._get_current_object().core.bind_user(None)  # type: ignore[attr-defined]
