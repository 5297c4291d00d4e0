"""Flask's half of the adapter that is not request handling: the tagged-JSON serializer, the
``SESSIONKIT_*`` settings (validated once by the shared rules of ``sessionkit._web``) and the
Flask-Login hooks, reading Flask's own cookie sessions to migrate them, and the 503 reply."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, Response, current_app
from flask.json.provider import DefaultJSONProvider
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadData

from sessionkit import ConfigurationError, SerializationError, SessionBackendUnavailable
from sessionkit._web import (
    STORE_OPTIONS,
    UNAVAILABLE_BODY,
    CookieSettings,
    same_site,
    store_options,
    unavailable_headers,
    unavailable_log,
    unknown_names,
)

log = logging.getLogger("sessionkit.flask")
# SESSIONKIT_<NAME> settings of the Flask adapter: every store option, and these.
ADAPTER_SETTINGS = ("REDIS_URL", "REDIS_CLIENT", "COOKIE_SECURE", "MIGRATE_FLASK_COOKIES",
                    "REGENERATE_ON_LOGIN", "REDIS")  # REDIS: the older name of REDIS_CLIENT


class TaggedSerializer:
    """Flask's tagged JSON (tuple, bytes, datetime, UUID, ``Markup``...) as compact, key-sorted UTF-8.

    Values round-trip as with Flask's cookie session; register extra types as a ``JSONTag`` on
    ``app.session_interface.serializer``, exactly as with Flask's own session. While only Flask's
    own tags are registered, a value made of plain JSON types (which no tag changes) skips the
    tagging walk: the bytes are the same, at a fraction of the cost.
    """

    def __init__(self, tagger: TaggedJSONSerializer | None = None) -> None:
        self.tagger = tagger = tagger or TaggedJSONSerializer()
        flasks = [type(tag) for tag in TaggedJSONSerializer().order]
        # Flask's own tags, as registered now; registering another changes tagger.order
        self._flask_tags = list(tagger.order) if [type(t) for t in tagger.order] == flasks else None
        # not the app's JSON provider: the bytes must not depend on the app context
        self._encoder = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False,
                                         default=DefaultJSONProvider.default)
        self._decoder = json.JSONDecoder(object_hook=tagger.untag)

    def dumps(self, value: Any) -> bytes:
        tagger = self.tagger
        try:
            if tagger.order != self._flask_tags or not _plain(value, tagger.tags):
                value = tagger.tag(value)
            return self._encoder.encode(value).encode()
        except (TypeError, ValueError) as exc:
            raise SerializationError(
                f"{exc}; Flask session values must be JSON types or types Flask's tagged JSON knows "
                "(tuple, bytes, datetime, UUID, Markup). Register a flask.json.tag.JSONTag on "
                "app.session_interface.serializer for others."
            ) from exc

    def loads(self, data: bytes) -> Any:
        return self._decoder.decode(data.decode())


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any, tag_keys: dict[str, Any]) -> bool:
    """Whether Flask's tagging leaves ``value`` as it is: exact JSON types all the way down, and no
    one-key dict whose key is a tag's (``{" t": ...}`` is tagged so it is not read back as one)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is list:
        return all(_plain(item, tag_keys) for item in value)
    if kind is dict:
        if len(value) == 1 and next(iter(value)) in tag_keys:
            return False
        return all(type(key) is str and _plain(item, tag_keys) for key, item in value.items())
    return False


def settings(app: Flask) -> dict[str, Any]:
    """The store options from ``app.config``; warns about ``SESSIONKIT_*`` keys it does not know."""
    cfg = app.config
    known = [f"SESSIONKIT_{name}" for name in (*ADAPTER_SETTINGS, *(option.upper() for option in STORE_OPTIONS
                                                                     if option != "serializer"))]
    for problem in unknown_names([key for key in cfg if key.startswith("SESSIONKIT_")], known):
        warnings.warn(f"unknown Flask setting {problem}", UserWarning, stacklevel=3)
    options = {name: cfg[f"SESSIONKIT_{name.upper()}"] for name in STORE_OPTIONS
               if f"SESSIONKIT_{name.upper()}" in cfg and name != "serializer"}
    options.setdefault("idle_timeout", app.permanent_session_lifetime)
    options.setdefault("absolute_timeout", timedelta(days=30))
    if not cfg["SESSION_REFRESH_EACH_REQUEST"]:  # only writes extend the session, as with Flask's cookie
        options["refresh_interval"] = 1e18
    return store_options(options, lambda name: f"SESSIONKIT_{name.upper()}")


def cookie_settings(app: Flask, max_age: int) -> tuple[CookieSettings, str]:
    """Flask's ``SESSION_COOKIE_*`` settings, and the name of the setting that decides ``Secure``.

    ``SESSION_COOKIE_SECURE = True`` wins. Flask cannot tell ``SESSION_COOKIE_SECURE = False``
    from its default, so that value means sessionkit's rule (Secure except on plain-http
    localhost) unless ``SESSIONKIT_COOKIE_SECURE`` says otherwise.
    """
    cfg = app.config
    explicit = True if cfg["SESSION_COOKIE_SECURE"] else cfg.get("SESSIONKIT_COOKIE_SECURE")
    if explicit is not None and not isinstance(explicit, bool):
        raise ConfigurationError(f"SESSIONKIT_COOKIE_SECURE must be True or False, not {explicit!r}")
    source = "SESSION_COOKIE_SECURE" if cfg["SESSION_COOKIE_SECURE"] else "SESSIONKIT_COOKIE_SECURE"
    cookie = CookieSettings(
        name=cfg["SESSION_COOKIE_NAME"],
        path=cfg["SESSION_COOKIE_PATH"] or cfg["APPLICATION_ROOT"],
        domain=cfg["SESSION_COOKIE_DOMAIN"] or None,
        secure=explicit,
        httponly=cfg["SESSION_COOKIE_HTTPONLY"],
        same_site=same_site(cfg["SESSION_COOKIE_SAMESITE"], "SESSION_COOKIE_SAMESITE") or "lax",
        partitioned=cfg.get("SESSION_COOKIE_PARTITIONED", False),
        max_age=max_age,
    )
    return cookie, source


def connect_flask_login(app: Flask, on_login: Callable[[Any], None], on_logout: Callable[[], None]) -> None:
    """Flask-Login: a new session ID on every login (bound to the user) and logout (unbound)."""
    try:
        import flask_login  # type: ignore[import-untyped]
    except ImportError:
        return

    def logged_in(sender: Flask, user: Any = None, **extra: Any) -> None:
        on_login(user.get_id() if user is not None else None)

    def logged_out(sender: Flask, user: Any = None, **extra: Any) -> None:
        on_logout()

    flask_login.user_logged_in.connect(logged_in, app, weak=False)
    flask_login.user_loaded_from_cookie.connect(logged_in, app, weak=False)
    flask_login.user_logged_out.connect(logged_out, app, weak=False)


def flask_cookie_data(app: Flask, value: str, tagger: TaggedJSONSerializer) -> dict[str, Any] | None:
    """The data of a valid Flask cookie session (same secret and salt, within its lifetime)."""
    legacy = SecureCookieSessionInterface()
    legacy.serializer = tagger
    signer = legacy.get_signing_serializer(app)
    if signer is None:
        return None
    try:
        data = signer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()))
    except (BadData, AttributeError, ValueError, TypeError, KeyError):  # BadPayload too
        return None
    return data if isinstance(data, dict) else None


def become(response: Response, other: Response) -> None:
    """Replace ``response`` in place (``save_session`` cannot return a new response)."""
    response.close()
    response.status, response.headers, response.response = other.status, other.headers, other.response
    response.direct_passthrough = other.direct_passthrough


def unavailable_response(exc: SessionBackendUnavailable) -> Response:
    """The error handler: ``503 Service Unavailable`` with ``Retry-After``."""
    degraded = current_app.config.get("SESSIONKIT_DEGRADED", False)
    log.error("%s", unavailable_log(exc, None if degraded else "SESSIONKIT_DEGRADED = True"))
    return Response(UNAVAILABLE_BODY, 503, unavailable_headers(exc))
