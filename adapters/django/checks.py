"""System checks (``manage.py check``): Redis reachable, JSON serializer, no process-local sessions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from sessionkit import SessionError
from sessionkit.adapters.django import _conf

ENGINE = "sessionkit.adapters.django"
_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
_CACHE_ENGINES = ("django.contrib.sessions.backends.cache", "django.contrib.sessions.backends.cached_db")


def check_sessions(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Report configurations that lose sessions across replicas or cannot reach Redis."""
    engine = settings.SESSION_ENGINE
    if engine in _CACHE_ENGINES:
        alias = getattr(settings, "SESSION_CACHE_ALIAS", "default")
        backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
        if backend in _LOCAL_CACHES:
            return [Error(
                f"SESSION_ENGINE {engine!r} uses the process-local cache {backend!r}: every replica "
                "has its own sessions, so users are logged out when a request lands on another one.",
                hint=f"Set SESSION_ENGINE = {ENGINE!r} and SESSIONKIT_REDIS_URL.", id="sessionkit.E003")]
    if engine != ENGINE:
        return []
    if _conf.setting("SESSIONKIT_REDIS_URL") is None and _conf.setting("SESSIONKIT_REDIS_CLIENT") is None:
        return [Error("SESSIONKIT_REDIS_URL is not set.", hint="Set SESSIONKIT_REDIS_URL = "
                      "'redis://host:6379/0' (or SESSIONKIT_REDIS_CLIENT to a redis-py client).",
                      id="sessionkit.E001")]
    try:
        conf = _conf.current()
    except ImproperlyConfigured as exc:
        code = "sessionkit.E002" if "SESSION_SERIALIZER" in str(exc) else "sessionkit.E004"
        return [Error(str(exc), id=code)]
    problems: list[Any] = []
    try:
        conf.store.client.ping()
    except Exception as exc:
        message = str(exc) if isinstance(exc, SessionError) else f"{type(exc).__name__}: {exc}"
        problems.append(Error(f"Redis at {conf.store!r} is unreachable: {message}",
                              hint="Check SESSIONKIT_REDIS_URL and that the server is running.",
                              id="sessionkit.E005"))
    if "django.contrib.sessions.middleware.SessionMiddleware" in settings.MIDDLEWARE:
        problems.append(Warning(
            "Django's SessionMiddleware answers 500 when Redis is unreachable.",
            hint="Use 'sessionkit.adapters.django.middleware.SessionMiddleware' instead (503 + Retry-After).",
            id="sessionkit.W001"))
    return problems


register(check_sessions, "sessionkit")
