"""System checks (``manage.py check``): JSON serializer, no process-local sessions, no stranded logins.

Reaching Redis is a deployment check (``manage.py check --deploy``), as Django does for checks
that depend on the environment, so ``createsuperuser`` or ``migrate`` work while Redis is down.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.utils import timezone
from redis.exceptions import RedisError

from sessionkit import SessionError, check_server_policy
from sessionkit._web import unknown_names
from sessionkit.adapters.django import _conf

ENGINE = "sessionkit.adapters.django"
_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
_CACHE_ENGINES = ("django.contrib.sessions.backends.cache", "django.contrib.sessions.backends.cached_db")


def check_sessions(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Report configurations that lose sessions across replicas or on the switch to Redis."""
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
    problems: list[Any] = _configuration_errors()  # errors do not hide the warnings below
    given = [n for n in dir(settings) if n.startswith("SESSIONKIT_")]
    problems += [Warning(f"unknown setting {name}", hint="Known settings: docs/django.md.",
                         id="sessionkit.W004") for name in unknown_names(given, _conf.KNOWN, _conf.ELSEWHERE)]
    if "django.contrib.sessions.middleware.SessionMiddleware" in settings.MIDDLEWARE:
        problems.append(Warning(
            "Django's SessionMiddleware answers 500 when Redis is unreachable.",
            hint="Use 'sessionkit.adapters.django.middleware.SessionMiddleware' instead (503 + Retry-After).",
            id="sessionkit.W001"))
    stranded = _stranded_db_sessions()
    if stranded:
        problems.append(Warning(
            f"{stranded} live session(s) remain in django.contrib.sessions' table, and "
            "SESSIONKIT_FALLBACK_ENGINE = None: those users are logged out.",
            hint="Remove SESSIONKIT_FALLBACK_ENGINE (the db engine is then read through and each "
                 "session moved on first contact), or run manage.py sessionkit_import "
                 "--from django.contrib.sessions.backends.db.", id="sessionkit.W002"))
    return problems


def _configuration_errors() -> list[Any]:
    """E001 (no Redis), E002 (serializer), E004 (any other bad setting), each on its own."""
    errors: list[Any] = []
    if _conf.setting("SESSIONKIT_REDIS_URL") is None and _conf.setting("SESSIONKIT_REDIS_CLIENT") is None:
        errors.append(Error("SESSIONKIT_REDIS_URL is not set.", hint="Set SESSIONKIT_REDIS_URL = "
                            "'redis://host:6379/0' (or SESSIONKIT_REDIS_CLIENT to a redis-py client).",
                            id="sessionkit.E001"))
    try:
        _conf.serializer()
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="sessionkit.E002"))
    if not errors:
        try:
            _conf.current()
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), id="sessionkit.E004"))
    return errors


def _stranded_db_sessions() -> int:
    """Live rows of the db engine when the fallback was switched off (0 if none or unknowable)."""
    try:
        fallback = _conf.fallback_engine()[0]
    except ImproperlyConfigured:  # a bad SESSIONKIT_FALLBACK_ENGINE: reported as E004
        return 0
    if fallback is not None or not apps.is_installed("django.contrib.sessions"):
        return 0
    if not _conf.db_sessions_table_exists():
        return 0
    from django.contrib.sessions.models import Session as DbSession

    try:
        return int(DbSession.objects.filter(expire_date__gt=timezone.now()).count())
    except DatabaseError:
        return 0


def check_redis(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Deployment checks: the configured Redis answers, and its eviction and persistence settings
    keep sessions (``sessionkit.check_server_policy``)."""
    if settings.SESSION_ENGINE != ENGINE:
        return []
    try:
        conf = _conf.current()
    except ImproperlyConfigured:
        return []  # reported by check_sessions
    try:
        conf.store.client.ping()
    except Exception as exc:
        message = str(exc) if isinstance(exc, SessionError) else f"{type(exc).__name__}: {exc}"
        return [Error(f"Redis at {conf.store!r} is unreachable: {message}",
                      hint="Check SESSIONKIT_REDIS_URL and that the server is running.",
                      id="sessionkit.E005")]
    try:
        problems = check_server_policy(conf.store.client)
    except RedisError:  # CONFIG refused (managed Redis, ACL): nothing to say about it
        return []
    return [Warning(f"Redis at {conf.store!r}: {problem}", id="sessionkit.W003") for problem in problems]


register(check_sessions, "sessionkit")
register(check_redis, "sessionkit", deploy=True)
