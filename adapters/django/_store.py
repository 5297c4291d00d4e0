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
from django.contrib.sessions.backends.base import CreateError, SessionBase

from sessionkit import AsyncRedisStore, Session, SessionBackendUnavailable
from sessionkit.adapters.django._base import RecordBase
from sessionkit.adapters.django._records import well_formed

log = logging.getLogger("sessionkit.django")


class SessionStore(RecordBase):
    """A Redis session backend: ``SESSION_ENGINE = "sessionkit.adapters.django"``."""

    _session_key: str | None  # SessionBase's validating property

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
                record = await self._amove(store, await old.aload(), old)
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

    async def _amove(self, store: AsyncRedisStore, data: dict[str, Any], old: SessionBase) -> Session | None:
        if old.session_key is None:
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

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions by TTL (``clearsessions`` is a no-op)."""

    @classmethod
    async def aclear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions by TTL."""
