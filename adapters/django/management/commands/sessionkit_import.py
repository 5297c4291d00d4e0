"""``manage.py sessionkit_import --from django.contrib.sessions.backends.db``: bulk-move sessions."""

from __future__ import annotations

import argparse
import os
import tempfile
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessionkit.adapters.django import SessionStore
from sessionkit.adapters.django.management import reported


def _store_class(engine: str) -> Any:
    """The ``SessionStore`` of the engine named by ``--from``."""
    try:
        return import_module(engine).SessionStore
    except ImportError as exc:
        raise CommandError(f"--from {engine!r}: cannot import it ({exc}); give the previous "
                           "SESSION_ENGINE, e.g. django.contrib.sessions.backends.db") from exc
    except AttributeError as exc:
        raise CommandError(f"--from {engine!r} is not a session engine (it has no SessionStore); give "
                           "the previous SESSION_ENGINE, e.g. django.contrib.sessions.backends.db") from exc


def _keys(engine: str, store_cls: Any, explicit: list[str]) -> list[str]:
    """Session keys held by a server-side engine (db/cached_db: the table; file: the directory)."""
    if explicit:
        return explicit
    if hasattr(store_cls, "get_model_class"):  # db, cached_db
        from django.utils import timezone

        model = store_cls.get_model_class()
        live = model.objects.filter(expire_date__gt=timezone.now())
        return list(live.values_list("session_key", flat=True))
    if engine.endswith(".file"):
        prefix = settings.SESSION_COOKIE_NAME
        path = settings.SESSION_FILE_PATH or tempfile.gettempdir()  # where the file engine writes
        return [name[len(prefix):] for name in os.listdir(path) if name.startswith(prefix)]
    raise CommandError(
        f"{engine!r} cannot list its sessions (a cache cannot be enumerated portably): pass the keys "
        "with --key, or rely on SESSIONKIT_FALLBACK_ENGINE, which moves each session on first use."
    )


class Command(BaseCommand):  # type: ignore[misc]
    help = "Copy live sessions of the previous SESSION_ENGINE into Redis, keeping their keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="engine", required=True,
                            help="previous engine, e.g. django.contrib.sessions.backends.db")
        parser.add_argument("--key", action="append", default=[], help="import only this session key")
        parser.add_argument("--keep", action="store_true",
                            help="keep each session in the old engine too (by default it is deleted once "
                                 "in Redis, so a logout can never be undone by reading the old copy)")
        parser.add_argument("--delete", action="store_true", help=argparse.SUPPRESS)  # the default now

    def handle(self, *args: Any, engine: str, key: list[str], keep: bool, **options: Any) -> None:
        old_cls = _store_class(engine)
        moved = skipped = 0
        for session_key in _keys(engine, old_cls, key):
            old = old_cls(session_key)
            data = old.load()
            if old.session_key is None:
                skipped += 1  # expired or gone meanwhile
                continue
            with reported(f"import stopped after moving {moved} session(s) into Redis"):
                imported = SessionStore(session_key).import_session(data)
            if imported:
                moved += 1
            else:  # already in Redis (moved on first use, or imported before)
                skipped += 1
            if not keep:  # a stale copy left behind would bring the session back after a logout
                old.delete()
        self.stdout.write(f"imported {moved} session(s) into Redis, skipped {skipped}")
