"""sessionkit's management commands (``commands/``) and how they report failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

from sessionkit import SessionError


@contextmanager
def reported(what: str) -> Iterator[None]:
    """Turn sessionkit's errors (Redis unreachable, bad settings) into a ``CommandError``, which
    Django prints as one line, without a traceback, and exits 1: ``"<what>: <the reason>"``."""
    try:
        yield
    except (SessionError, ImproperlyConfigured) as exc:
        raise CommandError(f"{what}: {exc}") from exc
