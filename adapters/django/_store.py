"""``SessionStore``: Django's ``SessionBase`` contract on top of sessionkit's Redis stores.

Django keeps its own session keys and cookie; Redis holds one hash per session (keyed by a hash
of the session key), one field per session key, each value serialized by ``SESSION_SERIALIZER``.
Saves write only the changed fields, atomically and only if the session still exists. Each method
has its async twin, as in ``django.contrib.sessions.backends.cache``.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, SessionBase, UpdateError
from django.utils.crypto import get_random_string
from sessionkit.adapters.django import _conf
from sessionkit.adapters.django._records import IMMUTABLE, changed_in_place, fill, new_record, well_formed

from sessionkit import SaveResult, Session, SessionBackendUnavailable

log = logging.getLogger("sessionkit.django")


class SessionStore(SessionBase):  # type: ignore[misc]
    """A Redis session backend: ``SESSION_ENGINE = "sessionkit.adapters.django"``."""

    _session_key: str | None  # SessionBase's validating property

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._conf = _conf.current()
        self._record: Session | None = None  # the Redis record behind self.session_key
        self._previous: Session | None = None  # the record a cycle_key replaced
        self.degraded = False  # Redis was unreachable when loading (SESSIONKIT_DEGRADED)
        self._handed: dict[str, bytes] = {}  # mutable values handed out, as serialized then

    # -- in-place changes (``session["cart"].append(x)``) count as modifications ------------
    def _expose(self, key: str, value: Any) -> Any:
        if not isinstance(value, IMMUTABLE) and key not in self._handed:
            self._handed[key] = self._conf.store.serializer.dumps(value)
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

    def items(self) -> Any:
        return [(k, self._expose(k, v)) for k, v in super().items()]

    async def aitems(self) -> Any:
        return [(k, self._expose(k, v)) for k, v in await super().aitems()]

    def values(self) -> Any:
        return [v for _, v in self.items()]

    async def avalues(self) -> Any:
        return [v for _, v in await self.aitems()]

    @property
    def modified(self) -> bool:
        """True when set by Django, or when a value changed in place."""
        data = getattr(self, "_session_cache", None)
        return self._modified or (data is not None and changed_in_place(
            self._handed, data, self._conf.store.serializer.dumps))

    @modified.setter
    def modified(self, value: bool) -> None:
        self._modified = value

    def is_empty(self) -> bool:
        return not self.degraded and bool(super().is_empty())

    def _get_new_session_key(self) -> str:
        # No EXISTS round trip: creating under a taken key fails atomically (CreateError).
        return str(get_random_string(32, VALID_KEY_CHARS))

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()

    # -- decisions shared by the twins (no I/O) ---------------------------------------------
    def _loaded(self, record: Session | None) -> Session | dict[str, Any]:
        self._record = record
        if record is None:
            self._session_key = None  # never adopt an unknown key
            return {}
        return record

    def _outage(self, exc: SessionBackendUnavailable) -> dict[str, Any]:
        """Degraded mode: an empty session that is never written and keeps the user's cookie."""
        if not self._conf.degraded:
            raise exc
        log.warning("Redis unavailable, serving an empty degraded session: %s", exc)
        self.degraded = True
        return {}

    def _must_read(self, must_create: bool) -> bool:
        """An update of data set without a load reads the record first."""
        return not must_create and (self._record is None or self._record.id != self.session_key)

    def _to_write(self, data: Any, must_create: bool) -> Session:
        key = self.session_key
        if not must_create and self._record is None:
            raise UpdateError  # gone: nothing to update
        record = new_record(key, data) if must_create or self._record is None else self._record
        ttl = float(self.get_expiry_age(expiry=data.get("_session_expiry")))
        return fill(record, data, ttl, data.get(self._conf.user_key))

    def _saved(self, record: Session, result: SaveResult, must_create: bool) -> None:
        if result.conflict:
            raise CreateError if must_create else UpdateError
        if must_create:
            self._previous = self._record  # cycle_key deletes it next
        self._record = self._session_cache = record
        self._handed = {}

    def _expired(self, data: Any) -> bool:  # expired on purpose: it must not outlive that
        return bool(self.get_expiry_age(expiry=data.get("_session_expiry")) <= 0)

    # -- the SessionBase contract: sync and async twins ------------------------------------
    def load(self) -> Session | dict[str, Any]:
        try:
            key = self.session_key
            record = self._conf.store.load(key) if well_formed(key) else None
            if record is None and well_formed(key) and (old := self._conf.fallback_store(key)):
                record = self._move(old.load(), old)
        except SessionBackendUnavailable as exc:
            return self._outage(exc)
        return self._loaded(record)

    async def aload(self) -> Session | dict[str, Any]:
        if (store := self._conf.astore()) is None:
            return await sync_to_async(self.load)()
        try:
            key = self.session_key
            record = await store.load(key) if well_formed(key) else None
            if record is None and well_formed(key) and (old := await self._conf.afallback_store(key)):
                record = await self._amove(await old.aload(), old)
        except SessionBackendUnavailable as exc:
            return self._outage(exc)
        return self._loaded(record)

    def _move(self, data: dict[str, Any], old: SessionBase) -> Session | None:
        """Zero-logout migration: the old engine's session moves into Redis under its key."""
        if old.session_key is None:
            return None
        record = self._to_write(data, must_create=True)
        if self._conf.store.save(record, destroy_if_empty=False).conflict:
            return self._conf.store.load(old.session_key)  # a concurrent request moved it first
        old.delete()  # never read through again: a logout in Redis must not be undone
        return record

    async def _amove(self, data: dict[str, Any], old: SessionBase) -> Session | None:
        store = self._conf.astore()
        if old.session_key is None or store is None:
            return None
        record = self._to_write(data, must_create=True)
        if (await store.save(record, destroy_if_empty=False)).conflict:
            return await store.load(old.session_key)
        await old.adelete()
        return record

    def import_session(self, data: dict[str, Any]) -> bool:
        """Create this key's session in Redis holding ``data``; False if it is there already."""
        record = self._to_write(data, must_create=True)
        return not self._conf.store.save(record, destroy_if_empty=False).conflict

    def exists(self, session_key: str | None) -> bool:
        return well_formed(session_key) and self._conf.store.exists(session_key)

    async def aexists(self, session_key: str | None) -> bool:
        if (store := self._conf.astore()) is None:
            return await sync_to_async(self.exists)(session_key)
        return well_formed(session_key) and await store.exists(session_key)

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
        if self.degraded:
            return None
        if self._expired(data):
            return self.delete()
        try:
            if self._must_read(must_create):
                self._record = self._conf.store.load(self.session_key)
            record = self._to_write(data, must_create)
            result = self._conf.store.save(record, destroy_if_empty=False)  # Django keeps emptied ones
        except SessionBackendUnavailable as exc:
            self._outage(exc)
            return None
        return self._saved(record, result, must_create)

    async def asave(self, must_create: bool = False) -> None:
        if (store := self._conf.astore()) is None:
            return await sync_to_async(self.save)(must_create)
        if self.session_key is None:
            return await self.acreate()
        data = await self._aget_session(no_load=must_create)
        if self.degraded:
            return None
        if self._expired(data):
            return await self.adelete()
        try:
            if self._must_read(must_create):
                self._record = await store.load(self.session_key)
            record = self._to_write(data, must_create)
            result = await store.save(record, destroy_if_empty=False)
        except SessionBackendUnavailable as exc:
            self._outage(exc)
            return None
        return self._saved(record, result, must_create)

    def _doomed(self, session_key: str) -> Session | None:
        """The loaded record of ``session_key``, marked for deletion, if this store read it."""
        for record in (self._record, self._previous):
            if record is not None and record.id == session_key:
                record.destroy()  # deleting through the record also leaves its user's index
                return record
        return None

    def delete(self, session_key: str | None = None) -> None:
        if (key := session_key or self.session_key) is None:
            return
        if (record := self._doomed(key)) is not None:
            self._conf.store.save(record)
        else:
            self._conf.store.delete(key)
            if old := self._conf.fallback_store(key):  # never moved: it must not come back
                old.delete()

    async def adelete(self, session_key: str | None = None) -> None:
        if (store := self._conf.astore()) is None:
            return await sync_to_async(self.delete)(session_key)
        if (key := session_key or self.session_key) is None:
            return None
        if (record := self._doomed(key)) is not None:
            await store.save(record)
        else:
            await store.delete(key)
            if old := await self._conf.afallback_store(key):
                await old.adelete()
        return None

    def cycle_key(self) -> None:
        data, key = self._session, self.session_key
        if not self.degraded:
            self.create()  # the new record becomes the session's data
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

    def _cycled(self, data: Any, old_key: str | None) -> None:
        if self.degraded:  # the create failed in degraded mode: keep the user's key and cookie
            self._session_key, self._session_cache = old_key, data

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions by TTL (``clearsessions`` is a no-op)."""

    @classmethod
    async def aclear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions by TTL."""
