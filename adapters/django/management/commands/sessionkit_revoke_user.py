"""``manage.py sessionkit_revoke_user USER_ID``: end every session of a user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sessionkit.adapters.django import _conf
from sessionkit.adapters.django.management import reported


class Command(BaseCommand):  # type: ignore[misc]
    help = "Log a user out everywhere: delete every Redis session bound to USER_ID."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", help="the user's primary key (as in request.user.pk)")

    def handle(self, *args: Any, user_id: str, **options: Any) -> None:
        with reported(f"cannot end the sessions of user {user_id}"):
            ended = _conf.current().store.revoke_user(user_id)
        self.stdout.write(f"ended {ended} session(s) of user {user_id}")
