"""ASGI plumbing of the Starlette adapter: a store per event loop, the 503 reply, the Starlette
cookie format it migrates from, and which paths the middleware leaves alone."""

from __future__ import annotations

import asyncio
import binascii
import json
import logging
import threading
import weakref
from base64 import b64decode
from collections.abc import Callable, Sequence
from typing import Any

import itsdangerous
from starlette.types import Message, Scope, Send

from sessionkit import AsyncRedisStore, ConfigurationError, SessionBackendUnavailable
from sessionkit._web import UNAVAILABLE_BODY, unavailable_headers

log = logging.getLogger("sessionkit.starlette")


class LoopStores:
    """``redis.asyncio`` connections belong to one event loop: a URL-built store is made per loop."""

    def __init__(self, make: Callable[[], AsyncRedisStore]) -> None:
        self._make, self._lock = make, threading.Lock()
        self._stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncRedisStore]
        self._stores = weakref.WeakKeyDictionary()

    def get(self) -> AsyncRedisStore:
        loop = asyncio.get_running_loop()
        with self._lock:
            if (store := self._stores.get(loop)) is None:
                store = self._stores[loop] = self._make()
        return store

    def closing(self, send: Send) -> Send:
        """Wrap the lifespan ``send``: close this loop's store on shutdown."""
        async def closing_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                with self._lock:
                    store = self._stores.pop(asyncio.get_running_loop(), None)
                if store is not None:
                    await store.aclose()
            await send(message)

        return closing_send


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


def path_matcher(prefixes: Sequence[str]) -> Callable[[str], bool]:
    """``exclude_paths``: ``"/health"`` matches ``/health`` and everything below it."""
    bad = [p for p in prefixes if not isinstance(p, str) or not p.startswith("/")]
    if bad or isinstance(prefixes, str):
        raise ConfigurationError(f"SessionMiddleware(exclude_paths=...) takes a list of paths starting "
                                 f"with '/', e.g. ['/health', '/static'], not {prefixes!r}")
    exact = frozenset(p.rstrip("/") or "/" for p in prefixes)
    below = tuple(p.rstrip("/") + "/" for p in prefixes)
    return lambda path: path in exact or path.startswith(below)


async def unavailable(scope: Scope, send: Send, exc: SessionBackendUnavailable) -> None:
    """503 + Retry-After; a websocket gets it as a denial response where the server allows."""
    log.error("%s", exc)
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1013, "reason": "Try Again Later"})
        return
    kind = "websocket.http" if scope["type"] == "websocket" else "http"
    headers = [(k.lower().encode(), v.encode()) for k, v in unavailable_headers(exc).items()]
    await send({"type": f"{kind}.response.start", "status": 503, "headers": headers})
    await send({"type": f"{kind}.response.body", "body": UNAVAILABLE_BODY.encode()})
