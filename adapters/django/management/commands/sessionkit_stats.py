"""``manage.py sessionkit_stats``: how many sessions Redis holds, and where."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sessionkit._connect import translate_errors
from sessionkit.adapters.django import _conf
from sessionkit.adapters.django.management import reported


class Command(BaseCommand):  # type: ignore[misc]
    help = "Count the live sessions and bound users under SESSIONKIT_KEY_PREFIX."

    def handle(self, *args: Any, **options: Any) -> None:
        with reported("cannot count the sessions"):
            store = _conf.current().store
            config, client = store.config, store.client
            with translate_errors("scan"):
                sessions = sum(1 for _ in client.scan_iter(match=config.session_pattern, count=1000))
                users = sum(1 for _ in client.scan_iter(match=config.user_index_key("*"), count=1000))
        self.stdout.write(f"store: {store!r}\nsessions: {sessions}\nusers with bound sessions: {users}")
