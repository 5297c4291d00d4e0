"""Django adapter: ``SESSION_ENGINE = "sessionkit.adapters.django"``.

Add ``"sessionkit.adapters.django"`` to ``INSTALLED_APPS`` for system checks and management
commands, and use ``sessionkit.adapters.django.middleware.SessionMiddleware`` in place of Django's
for ``503 Service Unavailable`` (with ``Retry-After``) when Redis is unreachable.
"""

from __future__ import annotations

from sessionkit.adapters.django._store import SessionStore

__all__ = ["SessionStore"]
