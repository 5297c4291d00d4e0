"""ASGI plumbing of the Starlette adapter: its stores (validated options, one per event loop),
the 503 reply, the Starlette cookie format it migrates from, and which paths it leaves alone."""

from __future__ import annotations

import asyncio
import binascii
import json
import logging
import threading
import weakref
from base64 import b64decode
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import itsdangerous
from starlette.datastructures import Secret
from starlette.requests import cookie_parser
from starlette.types import Message, Scope, Send

from sessionkit import AsyncRedisStore, ConfigurationError, SessionBackendUnavailable
from sessionkit import _web as web
from sessionkit._connect import check_url

log = logging.getLogger("sessionkit.starlette")


class LoopStores:
    """``redis.asyncio`` connections belong to one event loop: a URL-built store is made per loop."""

    def __init__(self, make: Callable[[], AsyncRedisStore]) -> None:
        self._make, self._lock = make, threading.Lock()
        self._stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncRedisStore]
        self._stores = weakref.WeakKeyDictionary()
        self._last: tuple[Any, AsyncRedisStore | None] = (None, None)  # the loop served last: no lock

    def get(self) -> AsyncRedisStore:
        loop = asyncio.get_running_loop()
        last_loop, store = self._last
        if last_loop is loop and store is not None:
            return store
        with self._lock:
            if (store := self._stores.get(loop)) is None:
                store = self._stores[loop] = self._make()
            self._last = (loop, store)
        return store

    def closing(self, send: Send) -> Send:
        """Wrap the lifespan ``send``: close this loop's store on shutdown."""
        async def closing_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                with self._lock:
                    store = self._stores.pop(asyncio.get_running_loop(), None)
                    self._last = (None, None)
                if store is not None:
                    await store.aclose()
            await send(message)

        return closing_send


def not_loaded(session: Any) -> None:
    """The loader of a lazy middleware's session: using it before ``load_session`` is a bug."""
    raise ConfigurationError("SessionMiddleware(lazy=True): call `await load_session(request)` before "
                             "using request.session")


def secret_list(secret_key: Any) -> list[str]:
    """``secret_key`` as Starlette takes it (a ``str``, a ``Secret`` or a list of them)."""
    keys = [secret_key] if isinstance(secret_key, (str, Secret)) else list(secret_key)
    secrets = [str(k) for k in keys]
    if not secrets or not all(secrets):
        raise ConfigurationError("secret_key must be a non-empty secret, the same on every replica")
    return secrets


def stores(secrets: list[str], redis_url: str | None, redis_client: Any, store: AsyncRedisStore | None,
           options: dict[str, Any]) -> tuple[AsyncRedisStore | None, LoopStores]:
    """The middleware's store: one given (``store``, or one around ``redis_client``), else one per
    event loop from ``redis_url``. Options are validated, errors naming ``SessionMiddleware``."""
    if unknown := web.unknown_names(options, web.STORE_OPTIONS):
        raise ConfigurationError(f"SessionMiddleware() got unexpected keyword arguments: "
                                 f"{', '.join(unknown)}")
    if sum(x is not None for x in (redis_url, redis_client, store)) != 1:
        raise ConfigurationError("pass exactly one of redis_url='redis://host:6379/0', redis_client=<an "
                                 "asyncio redis client> or store=AsyncRedisStore(...)")
    if store is not None and (options or store.codec is None):
        raise ConfigurationError("with store=, configure it yourself: AsyncRedisStore(url, "
                                 "secret_keys=..., idle_timeout=...); pass no store options here")
    valid = web.store_options(options, lambda name: f"SessionMiddleware({name}=...)")
    if redis_url is not None:
        check_url(redis_url, "SessionMiddleware(redis_url=...)")
    make = partial(AsyncRedisStore, redis_url, client=redis_client, secret_keys=secrets, **valid)
    if redis_client is not None:  # the app's own client: one store, on the client's loop
        store = make()
    elif store is None:
        make()  # fail at startup on a bad URL or option
    return store, LoopStores(make)


class StarletteCookie:
    """Starlette's own signed cookie session (itsdangerous signs with the last key: the current)."""

    def __init__(self, secrets: Sequence[str], max_age: int | None) -> None:
        self._signer, self._max_age = itsdangerous.TimestampSigner(list(secrets)[::-1]), max_age

    def data(self, cookie: str) -> dict[str, Any] | None:
        try:
            data = json.loads(b64decode(self._signer.unsign(cookie, max_age=self._max_age)))
        except (itsdangerous.BadSignature, binascii.Error, ValueError):
            return None
        return data if data and isinstance(data, dict) else None


def path_matcher(prefixes: Sequence[str]) -> Callable[[str], bool] | None:
    """``exclude_paths``: ``"/health"`` matches ``/health`` and everything below it (``None``: no
    path is excluded)."""
    bad = [p for p in prefixes if not isinstance(p, str) or not p.startswith("/")]
    if bad or isinstance(prefixes, str):
        raise ConfigurationError(f"SessionMiddleware(exclude_paths=...) takes a list of paths starting "
                                 f"with '/', e.g. ['/health', '/static'], not {prefixes!r}")
    if not prefixes:
        return None
    exact = frozenset(p.rstrip("/") or "/" for p in prefixes)
    below = tuple(p.rstrip("/") + "/" for p in prefixes)
    return lambda path: path in exact or path.startswith(below)


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first ``name`` header (lower case) of an ASGI header list, as Starlette's ``Headers.get``."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


class CookieReader:
    """Cookie ``name`` of a request, as Starlette's ``request.cookies`` reads it (its parser; of
    several ``Cookie`` headers, the last that has it), without building the request's header and
    cookie mappings: only a header that holds the name is parsed, and what a header held is
    remembered (a client sends the same header on every request; the last 1,024 are kept)."""

    _MAX = 1024

    def __init__(self, name: str) -> None:
        self.name, self._name_b = name, name.encode("latin-1")
        self._seen: dict[bytes, str | None] = {}

    def __call__(self, scope: Scope) -> str | None:
        found = None
        for key, raw in scope["headers"]:
            if key == b"cookie" and self._name_b in raw:
                try:
                    value = self._seen[raw]
                except KeyError:
                    value = cookie_parser(raw.decode("latin-1")).get(self.name)
                    if len(self._seen) >= self._MAX:
                        self._seen.clear()
                    self._seen[raw] = value
                if value is not None:
                    found = value
        return found


def response_headers(message: Message) -> list[tuple[bytes, bytes]]:
    """The header list of a response-start message, made a list that can take more headers."""
    headers = message.get("headers")
    if type(headers) is not list:
        headers = message["headers"] = list(headers or ())
    return headers


def add_vary_cookie(headers: list[tuple[bytes, bytes]]) -> None:
    """Add ``Cookie`` to a response's ``Vary`` as Starlette's ``add_vary_header`` does (one
    ``Vary`` header listing every value)."""
    found = [i for i, (key, _) in enumerate(headers) if key == b"vary"]
    if not found:
        headers.append((b"vary", b"Cookie"))
        return
    value = b", ".join([headers[i][1] for i in found] + [b"Cookie"])
    for i in reversed(found[1:]):
        del headers[i]
    headers[found[0]] = (b"vary", value)


class LostWrite(Exception):
    """The request's changes lost to a concurrent regenerate: answered ``409 Conflict``."""


async def error_reply(scope: Scope, send: Send, exc: SessionBackendUnavailable | LostWrite,
                      degraded: bool = False) -> None:
    """503 + Retry-After (409 for a lost write); a websocket gets it as a denial response where
    the server allows. ``degraded``: the store's degraded mode is on (the log gives no hint then)."""
    if isinstance(exc, SessionBackendUnavailable):
        log.error("%s", web.unavailable_log(exc, None if degraded else "SessionMiddleware(degraded=True)"))
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1013, "reason": "Try Again Later"})
        return
    kind = "websocket.http" if scope["type"] == "websocket" else "http"
    status, fields, body = ((409, web.CONFLICT_HEADERS, web.CONFLICT_BODY) if isinstance(exc, LostWrite)
                            else (503, web.unavailable_headers(exc), web.UNAVAILABLE_BODY))
    headers = [(k.lower().encode(), v.encode()) for k, v in fields.items()]
    await send({"type": f"{kind}.response.start", "status": status, "headers": headers})
    await send({"type": f"{kind}.response.body", "body": body.encode()})
