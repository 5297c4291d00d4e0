"""The two tiny WSGI shops ``sessionkit demo`` runs: plain WSGI, so they work from a wheel install.

``before_app`` keeps sessions in a module-level dict (what breaks behind a load balancer);
``after_app`` keeps them in Redis with ``RedisStore``. Same endpoints as ``examples/``:
``POST /login`` (``user``), ``GET /me``, ``POST /cart/add`` (``item``), ``GET /cart``,
``POST /logout``, ``GET /health``. Environment: ``REDIS_URL``, ``SECRET_KEY``,
``SESSIONKIT_DEMO_PREFIX`` (Redis key prefix).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any, Protocol
from urllib.parse import parse_qs

from sessionkit._errors import SessionBackendUnavailable
from sessionkit._session import Session
from sessionkit._store import RedisStore
from sessionkit._web import (
    UNAVAILABLE_BODY,
    CookieSettings,
    cookie_action,
    set_cookie_header,
    unavailable_headers,
)

COOKIE = CookieSettings(name="shop_session", secure=False)  # plain HTTP on loopback
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Reply = tuple[int, dict[str, Any] | None]


class Backend(Protocol):
    def open(self, cookie: str | None) -> Any: ...
    def save(self, session: Any) -> str | None: ...  # a Set-Cookie header value, or None


class InProcess:
    """Sessions in this process's memory: every replica has its own, unknown to the others."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}

    def open(self, cookie: str | None) -> dict[str, Any]:
        data = dict(self.sessions.get(cookie or "", {}))
        data["_id"] = cookie if cookie in self.sessions else None
        return data

    def save(self, session: dict[str, Any]) -> str | None:
        sid = session.pop("_id")
        if not session:
            self.sessions.pop(sid or "", None)
            return COOKIE.header("", delete=True) if sid else None
        if sid is None:
            sid = secrets.token_urlsafe(32)
            self.sessions[sid] = session
            return COOKIE.header(sid)
        self.sessions[sid] = session
        return None


class InRedis:
    """Sessions in Redis through ``RedisStore``: lazy reads, diffed writes."""

    def __init__(self) -> None:
        self.store = RedisStore(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                                secret_keys=os.environ.get("SECRET_KEY") or "sessionkit-demo-secret",
                                key_prefix=os.environ.get("SESSIONKIT_DEMO_PREFIX", "sessionkit-demo:"))

    def open(self, cookie: str | None) -> Session:
        return self.store.open(cookie)

    def save(self, session: Session) -> str | None:
        result = self.store.save(session)  # the adapters' one Set-Cookie rule
        return set_cookie_header(cookie_action(result, migrated=False, slide=False), result, COOKIE)


def handle(method: str, path: str, form: dict[str, str], session: Any) -> Reply:
    if path == "/health":
        return 200, {"status": "ok", "pid": os.getpid()}
    if (method, path) == ("POST", "/login"):
        if not form.get("user"):
            return 400, {"error": "field 'user' is required"}
        if isinstance(session, Session):
            session.regenerate()  # fixation protection: new ID on login
        session["user"] = form["user"]
        return 200, {"user": form["user"]}
    if (method, path) == ("POST", "/logout"):
        session.clear()
        return 200, {"user": None}
    user = session.get("user")
    if path not in ("/me", "/cart", "/cart/add"):
        return 404, {"error": "not found"}
    if not user:
        return 401, {"error": "login required"}
    if (method, path) == ("POST", "/cart/add"):
        session["cart"] = [*session.get("cart", []), form.get("item", "")]
    if path == "/me":
        return 200, {"user": user}
    return 200, {"items": session.get("cart", [])}


def make_app(backend: Backend) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        form = {k: v[0] for k, v in parse_qs(body).items()}
        jar: SimpleCookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        cookie = jar[COOKIE.name].value if COOKIE.name in jar else None
        headers = [("Content-Type", "application/json")]
        try:
            if path == "/health":  # never touches the session
                status, payload = handle(method, path, form, {})
            else:
                session = backend.open(cookie)
                status, payload = handle(method, path, form, session)
                set_cookie = backend.save(session)
                if set_cookie:
                    headers.append(("Set-Cookie", set_cookie))
        except SessionBackendUnavailable as exc:
            start_response("503 Service Unavailable", list(unavailable_headers(exc).items()))
            return [UNAVAILABLE_BODY.encode()]
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}[status]
        start_response(f"{status} {reason}", headers)
        return [json.dumps(payload).encode()]

    return app


def before_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """In-process sessions (created on first request, so each worker has its own dict)."""
    global _before
    if _before is None:
        _before = make_app(InProcess())
    return _before(environ, start_response)


def after_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Sessions in Redis (the store is created on first request, after the worker forked)."""
    global _after
    if _after is None:
        _after = make_app(InRedis())
    return _after(environ, start_response)


_before: Callable[[dict[str, Any], StartResponse], Iterable[bytes]] | None = None
_after: Callable[[dict[str, Any], StartResponse], Iterable[bytes]] | None = None
