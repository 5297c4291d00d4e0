"""The contract every framework's conformance app implements (see tests/adapters/test_conformance.py).

Each ``tests/drivers/<framework>_app.py`` exposes ``make_driver(redis_url, key_prefix, **options)``
returning a ``Driver``. ``options`` may hold ``degraded=True``, ``idle_timeout=<seconds>``,
``absolute_timeout=<seconds>``, ``refresh_interval=<seconds>``, ``max_size=<bytes>``.

Endpoints (all reply JSON; every one except /untouched and /whoami may write the session):
- POST /login/<user>        session["user"] = user; regenerate the ID; bind the session to user
- GET  /whoami              {"user": session.get("user")}                          (read only)
- POST /set/<key>/<value>   session[key] = value (a str)
- POST /append/<key>/<value> session.setdefault(key, []).append(value)  (nested mutation)
- GET  /get/<key>           {"value": session.get(key)}                            (read only)
- POST /logout              end the session (destroy/flush), cookie deleted
- GET  /untouched           {"ok": true}, never touches the session
Errors: Redis down → 503 with Retry-After (unless degraded=True).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Reply:
    status: int
    json: Any
    headers: dict[str, str]
    # Set-Cookie for the session cookie, parsed: None if not set; value "" when deleted.
    cookie: str | None = None
    cookie_attrs: dict[str, str] = field(default_factory=dict)


class Driver(Protocol):
    framework: str
    cookie_name: str

    def request(self, method: str, path: str, cookie: str | None = None) -> Reply:
        """One request carrying ``cookie`` (the session cookie's value) or no cookie at all.

        Must be safe to call from several threads at once (each call its own client).
        """
        ...

    def legacy_cookie(self, data: dict[str, Any]) -> str:
        """A cookie value of the framework's own previous session mechanism holding ``data``
        (Flask/Starlette signed cookie with the same secret; Django: a session key stored in the
        fallback engine). Used by the zero-logout migration scenario."""
        ...

    def close(self) -> None: ...


def parse_set_cookie(values: list[str], name: str) -> tuple[str | None, dict[str, str]]:
    """The value and lower-cased attributes (flags map to "") of the ``name`` cookie, if set."""
    for header in values:
        first, *attrs = (part.strip() for part in header.split(";"))
        cookie_name, _, value = first.partition("=")
        if cookie_name == name:
            parsed = {}
            for attr in attrs:
                key, _, attr_value = attr.partition("=")
                parsed[key.lower()] = attr_value
            return value.strip('"'), parsed
    return None, {}


class Headers(dict[str, str]):
    """Response headers (lower-cased keys) looked up case-insensitively, like every framework's own."""

    def __init__(self, items: Any) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)
