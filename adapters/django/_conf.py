"""``SESSIONKIT_*`` settings read once per distinct value set, and the stores built from them."""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from sessionkit import AsyncRedisStore, ConfigurationError, RedisStore, Serializer

DEFAULTS: dict[str, Any] = {
    "SESSIONKIT_REDIS_URL": None,
    "SESSIONKIT_REDIS_CLIENT": None,
    "SESSIONKIT_KEY_PREFIX": "sessionkit:",
    "SESSIONKIT_DEGRADED": False,
    "SESSIONKIT_MAX_SIZE": 64 * 1024,
    "SESSIONKIT_REFRESH_INTERVAL": 60,
    "SESSIONKIT_ABSOLUTE_TIMEOUT": None,
    "SESSIONKIT_FALLBACK_ENGINE": None,
    "SESSIONKIT_USER_KEY": "_auth_user_id",
    "SESSIONKIT_LOCAL_CACHE": True,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def serializer() -> Serializer:
    """Django's ``SESSION_SERIALIZER``, used per value; refused unless it writes JSON."""
    path = settings.SESSION_SERIALIZER
    cls = import_string(path)
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
    return instance  # type: ignore[no-any-return]


@dataclass(eq=False)
class Conf:
    """Everything a ``SessionStore`` needs, built from the settings that were current."""

    store: RedisStore
    url: str | None
    options: dict[str, Any]
    degraded: bool
    user_key: str
    fallback: str | None
    _async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncRedisStore]

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

    def fallback_store(self, session_key: str | None) -> Any:
        assert self.fallback is not None
        return import_module(self.fallback).SessionStore(session_key)


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


def _lookup() -> Conf:
    names = sorted(DEFAULTS)
    values = tuple(setting(n) for n in names)
    ident = (*(id(v) if n == "SESSIONKIT_REDIS_CLIENT" else v for n, v in zip(names, values)),
             settings.SESSION_COOKIE_AGE, settings.SESSION_SERIALIZER)
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
    options: dict[str, Any] = {
        "serializer": serializer(),
        "key_prefix": setting("SESSIONKIT_KEY_PREFIX"),
        "idle_timeout": settings.SESSION_COOKIE_AGE,
        "absolute_timeout": setting("SESSIONKIT_ABSOLUTE_TIMEOUT"),
        "refresh_interval": setting("SESSIONKIT_REFRESH_INTERVAL"),
        "max_size": setting("SESSIONKIT_MAX_SIZE"),
        "local_cache": setting("SESSIONKIT_LOCAL_CACHE"),
    }
    try:
        store = RedisStore(url, client=client, **options)
    except ConfigurationError as exc:
        raise ImproperlyConfigured(f"sessionkit: {exc}") from exc
    return Conf(store, url, options, bool(setting("SESSIONKIT_DEGRADED")), setting("SESSIONKIT_USER_KEY"),
                setting("SESSIONKIT_FALLBACK_ENGINE"), weakref.WeakKeyDictionary())
