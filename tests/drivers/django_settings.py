"""Process-wide Django settings for the test suite, configured once (Django settings are global).

Tests vary them with ``django.test.override_settings`` (Redis URL, key prefix, ...). The database
is a SQLite file in a temporary directory so that the ``db`` engine (a migration source) works
from any thread.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import django
from django.conf import settings

_TMP = Path(tempfile.mkdtemp(prefix="sessionkit-django-"))

BASE: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "django-driver-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": ["*"],
    "USE_TZ": True,
    "INSTALLED_APPS": [
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
        "django.contrib.messages",
        "sessionkit.adapters.django",
    ],
    "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_TMP / "db.sqlite3")}},
    "MIDDLEWARE": ["sessionkit.adapters.django.middleware.SessionMiddleware"],
    "SESSION_ENGINE": "sessionkit.adapters.django",
    "SESSION_FILE_PATH": str(_TMP),
    "SESSIONKIT_REDIS_URL": "redis://127.0.0.1:1/0",  # tests override it with the fixture's server
    "ROOT_URLCONF": "drivers.django_app",
    "LOGGING_CONFIG": None,
}


class PickleSerializer:
    """What Django <5 shipped as ``PickleSerializer``; sessionkit must refuse it."""

    def dumps(self, obj: Any) -> bytes:
        import pickle

        return pickle.dumps(obj)

    def loads(self, data: bytes) -> Any:
        raise NotImplementedError("never unpickle session data")


class CountingSerializer:
    """Django's JSON serializer, counting ``dumps`` calls (how many values a save serializes)."""

    dumps_calls = 0

    def dumps(self, obj: Any) -> bytes:
        type(self).dumps_calls += 1
        from django.core.signing import JSONSerializer

        return JSONSerializer().dumps(obj)

    def loads(self, data: bytes) -> Any:
        from django.core.signing import JSONSerializer

        return JSONSerializer().loads(data)


def configure() -> None:
    """Configure Django once per process; a no-op when already configured."""
    if not settings.configured:
        settings.configure(**BASE)
        django.setup()


def migrate() -> None:
    """Create the tables of the ``db`` session engine (idempotent)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
