"""``INSTALLED_APPS += ["sessionkit.adapters.django"]``: system checks and management commands."""

from __future__ import annotations

from django.apps import AppConfig


class SessionkitConfig(AppConfig):  # type: ignore[misc]
    """Registers sessionkit's system checks (``manage.py check``)."""

    name = "sessionkit.adapters.django"
    label = "sessionkit_django"
    verbose_name = "sessionkit"

    def ready(self) -> None:
        from sessionkit.adapters.django import checks  # noqa: F401  (registers the checks)
