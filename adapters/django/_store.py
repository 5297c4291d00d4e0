"""``SessionStore``: Django's ``SessionBase`` contract on top of sessionkit's Redis stores.

Django keeps its own session keys and cookie; Redis holds one hash per session (keyed by a hash
of the session key), one field per session key, each value serialized by ``SESSION_SERIALIZER``.
Saves write only the changed fields, atomically and only if the session still exists.

Each operation is written once, as a generator yielding the store calls it needs (``_ops``);
the sync methods run it with ``RedisStore``, the async ones with ``AsyncRedisStore``.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, SessionBase
from django.utils.crypto import get_random_string

from sessionkit import Session
from sessionkit._ops import adrive, drive
from sessionkit._session import IMMUTABLE
from sessionkit.adapters.django import _conf, _ops


class SessionStore(SessionBase):  # type: ignore[misc]
    """A Redis session backend: ``SESSION_ENGINE = "sessionkit.adapters.django"``."""

    _session_key: str | None  # SessionBase's validating property

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._conf = _conf.current()
        self._record: Session | None = None  # the Redis record behind self.session_key
        self.degraded = False  # Redis was unreachable when loading (SESSIONKIT_DEGRADED)
        self._exposed: set[str] = set()  # keys whose mutable values were handed out

    # -- running the operations of _ops ----------------------------------------------------
    def _run(self, op: _ops.Op) -> Any:
        store = self._conf.store

        def step(call: tuple[str, Any]) -> Any:
            name, arg = call
            if name == "old_load":
                return arg.load()
            return arg.delete() if name == "old_delete" else _ops.call(store, name, arg)

        return drive(op, step)

    async def _arun(self, op: _ops.Op) -> Any:
        store = self._conf.astore()
        if store is None:  # only a sync client object is configured: run it in a thread
            return await sync_to_async(self._run)(op)

        async def step(call: tuple[str, Any]) -> Any:
            name, arg = call
            if name == "old_load":
                return await arg.aload()
            return await (arg.adelete() if name == "old_delete" else _ops.call(store, name, arg))

        return await adrive(op, step)

    def _get_new_session_key(self) -> str:
        # No EXISTS round trip: creating under a taken key fails atomically (CreateError).
        return str(get_random_string(32, VALID_KEY_CHARS))

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()

    # -- Django's change tracking, extended to in-place changes ----------------------------
    # Values handed out that could be changed in place (lists, dicts...) are remembered, so
    # ``modified`` re-serializes only those, not the whole session, at the end of a request.
    def _expose(self, key: str, value: Any) -> Any:
        if not isinstance(value, IMMUTABLE):
            self._exposed.add(key)
        return value

    def __getitem__(self, key: str) -> Any:
        return self._expose(key, super().__getitem__(key))

    def get(self, key: str, default: Any = None) -> Any:
        return self._expose(key, super().get(key, default))

    async def aget(self, key: str, default: Any = None) -> Any:
        return self._expose(key, await super().aget(key, default))

    def setdefault(self, key: str, value: Any) -> Any:
        return self._expose(key, super().setdefault(key, value))

    async def asetdefault(self, key: str, value: Any) -> Any:
        return self._expose(key, await super().asetdefault(key, value))

    def values(self) -> Any:
        self._exposed.update(self._session)
        return super().values()

    async def avalues(self) -> Any:
        self._exposed.update(await self._aget_session())
        return await super().avalues()

    def items(self) -> Any:
        self._exposed.update(self._session)
        return super().items()

    async def aitems(self) -> Any:
        self._exposed.update(await self._aget_session())
        return await super().aitems()

    @property
    def modified(self) -> bool:
        """True when set by Django, or when a value changed in place (``session["cart"].append(x)``)."""
        return self._modified or _ops.changed_in_place(self)

    @modified.setter
    def modified(self, value: bool) -> None:
        self._modified = value

    def is_empty(self) -> bool:
        return not self.degraded and bool(super().is_empty())

    # -- the SessionBase contract: sync and async twins ------------------------------------
    def load(self) -> dict[str, Any]:
        return self._run(_ops.load(self))  # type: ignore[no-any-return]

    async def aload(self) -> dict[str, Any]:
        return await self._arun(_ops.load(self))  # type: ignore[no-any-return]

    def exists(self, session_key: str | None) -> bool:
        return _ops.well_formed(session_key) and bool(self._run(_ops.one("exists", session_key)))

    async def aexists(self, session_key: str | None) -> bool:
        return _ops.well_formed(session_key) and bool(await self._arun(_ops.one("exists", session_key)))

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    async def acreate(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                await self.asave(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        self._run(_ops.save(self, must_create, data))
        return None

    async def asave(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return await self.acreate()
        data = await self._aget_session(no_load=must_create)
        await self._arun(_ops.save(self, must_create, data))
        return None

    def delete(self, session_key: str | None = None) -> None:
        self._run(_ops.delete(self, session_key))

    async def adelete(self, session_key: str | None = None) -> None:
        await self._arun(_ops.delete(self, session_key))

    def cycle_key(self) -> None:
        data, key = self._session, self.session_key
        if not self.degraded:
            self.create()
            self._cycled(data, key)
            if key and not self.degraded:
                self.delete(key)

    async def acycle_key(self) -> None:
        data, key = await self._aget_session(), self.session_key
        if not self.degraded:
            await self.acreate()
            self._cycled(data, key)
            if key and not self.degraded:
                await self.adelete(key)

    def _cycled(self, data: dict[str, Any], old_key: str | None) -> None:
        if self.degraded:  # the create failed in degraded mode: keep the user's key and cookie
            self._session_key = old_key
        self._session_cache = data

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions by TTL (``clearsessions`` is a no-op)."""

    @classmethod
    async def aclear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions by TTL."""
