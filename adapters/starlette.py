"""Starlette / FastAPI: a drop-in, pure-ASGI ``SessionMiddleware`` keeping ``request.session`` in Redis."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from functools import partial
from typing import Any, Literal, cast

from starlette.datastructures import Secret
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessionkit import AsyncRedisStore, ConfigurationError, Session, SessionBackendUnavailable
from sessionkit import _web as web
from sessionkit.adapters import _asgi

__all__ = ["SessionMiddleware", "get_session", "get_store", "load_session", "regenerate"]

log = logging.getLogger("sessionkit.starlette")
STORE_SCOPE_KEY = "sessionkit.store"
_LOAD, _MIGRATED = "sessionkit.load", "sessionkit.migrated"


class SessionMiddleware:
    """Server-side sessions for Starlette/FastAPI, with the arguments of Starlette's own middleware.

    ``secret_key`` signs the session-ID cookie (a list rotates: the first signs, all verify). The
    cookie arguments mean what they mean in Starlette (``https_only=None``: Secure except on
    plain-http localhost); ``max_age`` is also the default idle timeout. Sessions live at
    ``redis_url``, on ``redis_client`` (``**store_options`` are ``AsyncRedisStore``'s options) or
    in ``store=``. ``migrate_starlette_cookies`` moves Starlette cookie sessions into Redis.
    ``exclude_paths`` get no session at all; with ``lazy=True`` only ``await load_session(request)``
    reads it, so endpoints that never call it cost no Redis command.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Secret | Sequence[str | Secret],
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: Literal["lax", "strict", "none", "Lax", "Strict", "None"] = "lax",
        https_only: bool | None = None,
        domain: str | None = None,
        partitioned: bool = False,
        *,
        redis_url: str | None = None,
        redis_client: Any = None,
        store: AsyncRedisStore | None = None,
        migrate_starlette_cookies: bool = True,
        exclude_paths: Sequence[str] = (),
        lazy: bool = False,
        **store_options: Any,
    ) -> None:
        self.app, self.lazy, self._excluded = app, lazy, _asgi.path_matcher(exclude_paths)
        secrets = _asgi.secret_list(secret_key)
        secure = None if https_only is None else web.flag(https_only, "SessionMiddleware(https_only=...)")
        self.cookie = web.CookieSettings(
            name=session_cookie, path=path, domain=domain, secure=secure, partitioned=partitioned,
            same_site=web.same_site(same_site, "SessionMiddleware(same_site=...)"), max_age=max_age)
        self._plain_http = web.PlainHttpWarning(secure, "SessionMiddleware(https_only=True)")
        if max_age and store is None:
            store_options.setdefault("idle_timeout", max_age)
        self._shared, self._stores = _asgi.stores(secrets, redis_url, redis_client, store, store_options)
        self._legacy = _asgi.StarletteCookie(secrets, max_age) if migrate_starlette_cookies else None
        self._local: dict[tuple[str, str | None], bool] = {}
        self._read_cookie = _asgi.CookieReader(session_cookie)

    def store(self) -> AsyncRedisStore:
        """The store serving the running event loop."""
        return self._shared or self._stores.get()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if (kind != "http" and kind != "websocket") or (self._excluded and self._excluded(scope["path"])):
            await self.app(scope, receive, self._stores.closing(send) if kind == "lifespan" else send)
            return
        store = self._shared or self._stores.get()
        cookie = self._read_cookie(scope)
        scope[STORE_SCOPE_KEY] = store
        if self.lazy and (session_id := store.session_id_from_cookie(cookie)) is not None:
            scope["session"] = Session(id=session_id, new=False, loader=_asgi.not_loaded)
            scope[_LOAD] = partial(self._install, scope, store, cookie)
        else:
            try:
                await self._install(scope, store, cookie)
            except SessionBackendUnavailable as exc:
                if kind == "websocket":
                    await receive()  # the handshake's websocket.connect, answered by the denial
                await _asgi.error_reply(scope, send, exc, store.config.degraded)
                return
        replied = started = False  # replied: a 503 replaced the app's response, drop the rest

        async def send_wrapper(message: Message) -> None:
            nonlocal replied, started
            if replied:
                return
            if message["type"] in ("http.response.start", "websocket.accept"):
                started = True
                session = scope["session"]
                try:
                    set_cookie = await self._commit(scope, store, session)
                except (SessionBackendUnavailable, _asgi.LostWrite) as exc:
                    replied = True
                    await _asgi.error_reply(scope, send, exc, store.config.degraded)
                    return
                if session.accessed or set_cookie:
                    headers = _asgi.response_headers(message)
                    if session.accessed:
                        _asgi.add_vary_cookie(headers)
                    if set_cookie:
                        headers.append((b"set-cookie", set_cookie.encode("latin-1")))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except SessionBackendUnavailable as exc:  # from the endpoint: revoke_user(), load_session()
            if started:
                raise
            await _asgi.error_reply(scope, send, exc, store.config.degraded)
            return
        session = scope["session"]
        if kind == "websocket" and session.loaded and not session.new and not replied:
            try:  # changes made after the handshake; no cookie can be sent any more
                await store.save(session)
            except SessionBackendUnavailable as exc:
                log.warning("session changes of a websocket were not saved: %s", exc)

    async def _install(self, scope: Scope, store: AsyncRedisStore, cookie: str | None) -> Session:
        """Read the request's session into the scope (imported from a Starlette cookie if it is one)."""
        session = await store.open(cookie)  # verifies the signature once; no I/O if it fails
        migrated = False
        if cookie and self._legacy and session.id is None:
            data = self._legacy.data(cookie)  # not ours: maybe Starlette's own (same secret, max_age)
            if data is not None:
                session, migrated = web.migrated_session(data), True
        scope["session"], scope[_MIGRATED] = session, migrated
        scope.pop(_LOAD, None)
        return session

    def _local_http(self, scheme: str, host: str | None) -> bool:
        """``web.local_http``, remembered per scheme and host (a few distinct ones, in practice)."""
        try:
            return self._local[scheme, host]
        except KeyError:
            if len(self._local) >= 256:  # the Host header is the client's: keep the memo bounded
                self._local.clear()
            local = self._local[scheme, host] = web.local_http(scheme, host)
            return local

    async def _commit(self, scope: Scope, store: AsyncRedisStore, session: Session) -> str | None:
        """Save the session; return the ``Set-Cookie`` value to send, if any."""
        if not session.loaded:
            return None  # lazy and never loaded: nothing to save, the cookie stays
        try:
            result = await store.save(session)
        except SessionBackendUnavailable as exc:
            if not store.config.degraded:
                raise
            log.warning("session not saved, cookie left untouched (degraded mode): %s", exc)
            return None
        if web.lost_write(result):
            raise _asgi.LostWrite
        slide = self.cookie.max_age is not None
        action = web.cookie_action(result, migrated=scope.get(_MIGRATED, False), slide=slide)
        if action == "leave":
            return None
        local = self._local_http(scope.get("scheme", "http"), _asgi.header(scope["headers"], b"host"))
        left = web.remaining_lifetime(store.config.absolute_timeout, session.created_at, time.time())
        header = web.set_cookie_header(action, result, self.cookie, local_http=local, max_age=left)
        if header:  # a write also slides the Max-Age
            self._plain_http.check(local)
        return header


def get_session(conn: HTTPConnection) -> Session:
    """``request.session`` typed as sessionkit's ``Session`` (``regenerate``, ``destroy``, ...)."""
    session = conn.scope.get("session")
    if not isinstance(session, Session):
        raise ConfigurationError("no sessionkit session: add sessionkit.adapters.starlette.SessionMiddleware "
                                 "(and keep this path out of its exclude_paths)")
    return session


async def load_session(conn: HTTPConnection) -> Session:
    """The request's session, read from Redis now if the middleware is ``lazy`` (else already read).

    Raises ``SessionBackendUnavailable`` (answered with 503) when Redis is unreachable.
    """
    load = conn.scope.get(_LOAD)
    return cast(Session, await load()) if load is not None else get_session(conn)


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
