"""Starlette / FastAPI: a drop-in, pure-ASGI ``SessionMiddleware`` keeping ``request.session`` in Redis."""

from __future__ import annotations

import asyncio
import binascii
import json
import logging
import threading
import weakref
from base64 import b64decode
from collections.abc import Sequence
from functools import partial
from typing import Any, Literal, cast

import itsdangerous
from starlette.datastructures import MutableHeaders, Secret
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessionkit import AsyncRedisStore, ConfigurationError, Session, SessionBackendUnavailable
from sessionkit._web import (
    UNAVAILABLE_BODY,
    CookieSettings,
    cookie_action,
    migrated_session,
    set_cookie_header,
    unavailable_headers,
)

__all__ = ["SessionMiddleware", "get_session", "get_store", "regenerate"]

log = logging.getLogger("sessionkit.starlette")
STORE_SCOPE_KEY = "sessionkit.store"


class SessionMiddleware:
    """Server-side sessions for Starlette/FastAPI, with the arguments of Starlette's own middleware.

    ``secret_key`` signs the session-ID cookie (a list rotates: the first signs, all verify) and
    verifies old Starlette cookies. The cookie arguments mean what they mean in Starlette;
    ``max_age`` is also the default Redis idle timeout. Sessions live at ``redis_url`` (any URL
    ``AsyncRedisStore`` takes; ``**store_options`` are its options) or in ``store=``, an
    ``AsyncRedisStore`` built with ``secret_keys``. ``migrate_starlette_cookies`` moves a valid
    Starlette cookie session into Redis on first contact.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Secret | Sequence[str | Secret],
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
        partitioned: bool = False,
        *,
        redis_url: str | None = None,
        store: AsyncRedisStore | None = None,
        migrate_starlette_cookies: bool = True,
        **store_options: Any,
    ) -> None:
        self.app = app
        keys = [secret_key] if isinstance(secret_key, (str, Secret)) else list(secret_key)
        self._secrets = [str(k) for k in keys]
        if not self._secrets or not all(self._secrets):
            raise ConfigurationError("secret_key must be a non-empty secret, the same on every replica")
        self.cookie = CookieSettings(name=session_cookie, path=path, domain=domain, secure=https_only,
                                     same_site=same_site, partitioned=partitioned, max_age=max_age)
        self.max_age = max_age
        if (redis_url is None) == (store is None):
            raise ConfigurationError("pass exactly one of redis_url='redis://host:6379/0' or store=...")
        if store is not None and (store_options or store.codec is None):
            raise ConfigurationError("with store=, configure it yourself: AsyncRedisStore(url, "
                                     "secret_keys=..., idle_timeout=...); pass no store options here")
        if max_age:
            store_options.setdefault("idle_timeout", max_age)
        self._shared, self._make = store, partial(AsyncRedisStore, redis_url, secret_keys=self._secrets,
                                                  **store_options)
        # redis.asyncio connections belong to one event loop: a URL-built store is made per loop.
        self._stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncRedisStore]
        self._stores, self._lock = weakref.WeakKeyDictionary(), threading.Lock()
        if store is None:
            self._make()  # fail at startup on a bad URL or option
        # Starlette's own cookies, to migrate (itsdangerous signs with the last key: the current one).
        self._legacy = migrate_starlette_cookies and itsdangerous.TimestampSigner(self._secrets[::-1])

    def store(self) -> AsyncRedisStore:
        """The store serving the running event loop."""
        if self._shared is not None:
            return self._shared
        loop = asyncio.get_running_loop()
        with self._lock:
            if (store := self._stores.get(loop)) is None:
                store = self._stores[loop] = self._make()
        return store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, self._closing(send) if scope["type"] == "lifespan" else send)
            return
        store = self.store()
        cookie = HTTPConnection(scope).cookies.get(self.cookie.name)
        try:
            session, migrated = await self._open(store, cookie)
        except SessionBackendUnavailable as exc:
            if scope["type"] == "websocket":
                await receive()  # the handshake's websocket.connect, answered by the denial
            await _unavailable(scope, send, exc)
            return
        scope["session"], scope[STORE_SCOPE_KEY] = session, store
        replied = started = False  # replied: a 503 replaced the app's response, drop the rest

        async def send_wrapper(message: Message) -> None:
            nonlocal replied, started
            if replied:
                return
            if message["type"] in ("http.response.start", "websocket.accept"):
                started = True
                try:
                    set_cookie = await self._commit(store, session, migrated)
                except SessionBackendUnavailable as exc:
                    replied = True
                    await _unavailable(scope, send, exc)
                    return
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                if session.accessed:
                    headers.add_vary_header("Cookie")
                if set_cookie:
                    headers.append("set-cookie", set_cookie)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except SessionBackendUnavailable as exc:  # from the endpoint, e.g. revoke_user()
            if started:
                raise
            await _unavailable(scope, send, exc)
            return
        if scope["type"] == "websocket" and not session.new and not replied:
            try:  # changes made after the handshake; no cookie can be sent any more
                await store.save(session)
            except SessionBackendUnavailable as exc:
                log.warning("session changes of a websocket were not saved: %s", exc)

    async def _open(self, store: AsyncRedisStore, cookie: str | None) -> tuple[Session, bool]:
        """The request's session, and whether it was imported from a Starlette cookie session."""
        session = await store.open(cookie)  # verifies the signature once; no I/O if it fails
        if cookie and self._legacy and session.id is None:
            try:  # not ours: maybe Starlette's own (same secret, still within max_age)
                data = json.loads(b64decode(self._legacy.unsign(cookie, max_age=self.max_age)))
            except (itsdangerous.BadSignature, binascii.Error, ValueError):
                data = None
            if data and isinstance(data, dict):
                return migrated_session(data), True
        return session, False

    async def _commit(self, store: AsyncRedisStore, session: Session, migrated: bool) -> str | None:
        """Save the session; return the ``Set-Cookie`` value to send, if any."""
        try:
            result = await store.save(session)
        except SessionBackendUnavailable as exc:
            if not store.config.degraded:
                raise
            log.warning("session not saved, cookie left untouched (degraded mode): %s", exc)
            return None
        action = cookie_action(result, migrated=migrated, slide=self.cookie.max_age is not None)
        return set_cookie_header(action, result, self.cookie)  # a write also slides the Max-Age

    def _closing(self, send: Send) -> Send:
        async def closing_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                with self._lock:
                    store = self._stores.pop(asyncio.get_running_loop(), None)
                if store is not None:
                    await store.aclose()
            await send(message)

        return closing_send


async def _unavailable(scope: Scope, send: Send, exc: SessionBackendUnavailable) -> None:
    """503 + Retry-After; a websocket gets it as a denial response where the server allows."""
    log.error("%s", exc)
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1013, "reason": "Try Again Later"})
        return
    kind = "websocket.http" if scope["type"] == "websocket" else "http"
    headers = [(k.lower().encode(), v.encode()) for k, v in unavailable_headers(exc).items()]
    await send({"type": f"{kind}.response.start", "status": 503, "headers": headers})
    await send({"type": f"{kind}.response.body", "body": UNAVAILABLE_BODY.encode()})


def get_session(conn: HTTPConnection) -> Session:
    """``request.session`` typed as sessionkit's ``Session`` (``regenerate``, ``destroy``, ...)."""
    session = conn.scope.get("session")
    if not isinstance(session, Session):
        raise ConfigurationError("no sessionkit session: add sessionkit.adapters.starlette.SessionMiddleware")
    return session


def get_store(conn: HTTPConnection) -> AsyncRedisStore:
    """The store behind the request's session (e.g. ``await get_store(request).revoke_user(id)``)."""
    get_session(conn)
    return cast(AsyncRedisStore, conn.scope[STORE_SCOPE_KEY])


def regenerate(conn: HTTPConnection, user_id: str | int | None = None) -> Session:
    """Call on login: a new session ID (fixation protection), same data; binds ``user_id`` if given
    so that ``revoke_user`` can end all of that user's sessions."""
    session = get_session(conn)
    session.regenerate()
    if user_id is not None:
        session.bind_user(user_id)
    return session
