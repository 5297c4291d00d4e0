"""``SESSIONKIT_*`` settings read once per distinct value set, and the stores built from them."""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.core.signing import JSONSerializer
from django.db import DatabaseError, connections, router
from django.utils.module_loading import import_string

from sessionkit import AsyncRedisStore, ConfigurationError, RedisStore, Serializer
from sessionkit import _web as web
from sessionkit._connect import check_url

DB_ENGINE = "django.contrib.sessions.backends.db"
_UNSET = object()
DEFAULTS: dict[str, Any] = {
    "SESSIONKIT_REDIS_URL": None,
    "SESSIONKIT_REDIS_CLIENT": None,
    "SESSIONKIT_DEGRADED": False,
    "SESSIONKIT_USER_KEY": "_auth_user_id",
}
# Store options as SESSIONKIT_<NAME> settings (the idle timeout is Django's SESSION_COOKIE_AGE).
STORE_SETTINGS = {f"SESSIONKIT_{name.upper()}": name for name in web.STORE_OPTIONS
                  if name not in ("serializer", "idle_timeout", "degraded")}  # degraded: the adapter's
STORE_NAMES = {option: name for name, option in STORE_SETTINGS.items()}
KNOWN = sorted({*DEFAULTS, *STORE_SETTINGS, "SESSIONKIT_FALLBACK_ENGINE"})
# What other adapters' SESSIONKIT_* settings are, in Django's own settings.
ELSEWHERE = {"SESSIONKIT_IDLE_TIMEOUT": "SESSION_COOKIE_AGE", "SESSIONKIT_SERIALIZER": "SESSION_SERIALIZER",
             "SESSIONKIT_COOKIE_SECURE": "SESSION_COOKIE_SECURE"}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS.get(name))


class _FastJSON:
    """Django's ``JSONSerializer`` with its encoder built once (``json.dumps`` with options builds
    one per call): the same bytes, for the values a request touches and every save."""

    _encoder = json.JSONEncoder(separators=(",", ":"))

    def dumps(self, obj: Any) -> bytes:
        return self._encoder.encode(obj).encode("latin-1")

    def loads(self, data: bytes) -> Any:
        return json.loads(data.decode("latin-1"))


def serializer() -> Serializer:
    """Django's ``SESSION_SERIALIZER``, used per value; refused unless it writes JSON."""
    path = settings.SESSION_SERIALIZER
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"SESSION_SERIALIZER {path!r} cannot be imported ({exc}). Use "
            "'django.core.signing.JSONSerializer' (the default) or a JSON-based serializer."
        ) from exc
    instance = cls()
    try:
        if "pickle" in f"{cls.__module__}.{cls.__qualname__}".lower():
            raise ValueError("pickle")
        json.loads(instance.dumps({"k": [1, "v", None]}))
    except Exception as exc:
        raise ImproperlyConfigured(
            f"SESSION_SERIALIZER {path!r} does not produce JSON; sessionkit never stores pickle. "
            "Use 'django.core.signing.JSONSerializer' (the default) or a JSON-based serializer."
        ) from exc
    if cls is JSONSerializer:
        return _FastJSON()
    return instance  # type: ignore[no-any-return]


@dataclass(eq=False)
class Conf:
    """Everything a ``SessionStore`` needs, built from the settings that were current."""

    store: RedisStore
    url: str | None
    options: dict[str, Any]
    degraded: bool
    user_key: str
    fallback: str | None  # the previous engine, read through on a Redis miss (zero-logout)
    implicit: bool  # the fallback is Django's default db engine, used only if its table exists
    _async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncRedisStore] = field(
        default_factory=weakref.WeakKeyDictionary)
    _usable: bool | None = None

    def astore(self) -> AsyncRedisStore | None:
        """The asyncio store of the running event loop (asyncio clients are bound to one loop);
        ``None`` when only a sync client object was configured."""
        if self.url is None:
            return None
        loop = asyncio.get_running_loop()
        found = self._async.get(loop)
        if found is None:
            found = self._async[loop] = AsyncRedisStore(self.url, **self.options)
        return found

    def fallback_store(self, session_key: str) -> SessionBase | None:
        """The previous engine's store for ``session_key``; ``None`` without a usable fallback."""
        if self.fallback is None:
            return None
        if self._usable is None:
            self._usable = not self.implicit or db_sessions_table_exists()
        return import_module(self.fallback).SessionStore(session_key) if self._usable else None

    async def afallback_store(self, session_key: str) -> SessionBase | None:
        if self.fallback is not None and self._usable is None:  # the table check queries the db
            return await sync_to_async(self.fallback_store)(session_key)
        return self.fallback_store(session_key)


def fallback_engine() -> tuple[str | None, bool]:
    """``SESSIONKIT_FALLBACK_ENGINE``, or when unset the engine Django would have used: the db
    engine if ``django.contrib.sessions`` is installed (second item: True when implicit)."""
    value = getattr(settings, "SESSIONKIT_FALLBACK_ENGINE", _UNSET)
    if value is None or isinstance(value, str):
        return value, False
    if value is not _UNSET:
        raise ImproperlyConfigured(f"SESSIONKIT_FALLBACK_ENGINE must be an engine's module path or None, "
                                   f"not {value!r}")
    return (DB_ENGINE, True) if apps.is_installed("django.contrib.sessions") else (None, False)


def db_sessions_table_exists() -> bool:
    """Whether ``django.contrib.sessions``' table exists (checked once per settings)."""
    from django.contrib.sessions.models import Session as DbSession

    try:
        connection = connections[router.db_for_read(DbSession)]
        return DbSession._meta.db_table in connection.introspection.table_names()
    except (DatabaseError, ImproperlyConfigured):  # no table, or no database configured at all
        return False


_CACHE: dict[tuple[Any, ...], Conf] = {}
_LOCK = threading.Lock()


_CURRENT: list[Conf] = []  # the Conf of the settings in effect, until a setting changes


def _forget(**kwargs: Any) -> None:
    _CURRENT.clear()


setting_changed.connect(_forget)  # sent by override_settings and settings changes in tests


def current() -> Conf:
    """The ``Conf`` for the settings in effect now (``override_settings`` gives another one).

    Looked up once and then reused on every request until Django reports a setting change.
    """
    if _CURRENT:
        return _CURRENT[0]
    conf = _lookup()
    _CURRENT[:] = [conf]
    return conf


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:  # hooks lists, client objects...: the same object means the same settings
        return id(value)
    return id(value) if hasattr(value, "connection_pool") else value


def _lookup() -> Conf:
    ident = (*(_hashable(getattr(settings, name, None)) for name in KNOWN),
             settings.SESSION_COOKIE_AGE, settings.SESSION_SERIALIZER, fallback_engine())
    with _LOCK:
        conf = _CACHE.get(ident)
        if conf is None:
            conf = _CACHE[ident] = _build()
        return conf


def _build() -> Conf:
    url, client = setting("SESSIONKIT_REDIS_URL"), setting("SESSIONKIT_REDIS_CLIENT")
    if (url is None) == (client is None):
        raise ImproperlyConfigured(
            "set SESSIONKIT_REDIS_URL = 'redis://host:6379/0' (or SESSIONKIT_REDIS_CLIENT = an "
            "existing redis-py client) to use SESSION_ENGINE = 'sessionkit.adapters.django'"
        )
    given = {option: getattr(settings, name) for name, option in STORE_SETTINGS.items()
             if hasattr(settings, name)}
    given.setdefault("absolute_timeout", None)  # Django has no absolute lifetime
    given["idle_timeout"] = settings.SESSION_COOKIE_AGE
    try:
        options = web.store_options(given, lambda option: STORE_NAMES.get(option, "SESSION_COOKIE_AGE"))
        options["serializer"] = serializer()
        degraded = web.flag(setting("SESSIONKIT_DEGRADED"), "SESSIONKIT_DEGRADED")
        if url is not None:
            check_url(url, "SESSIONKIT_REDIS_URL")
        store = RedisStore(url, client=client, **options)
    except ConfigurationError as exc:
        raise ImproperlyConfigured(f"sessionkit: {exc}") from exc
    return Conf(store, url, options, degraded, setting("SESSIONKIT_USER_KEY"), *fallback_engine())
