"""``SessionStore``: Django's ``SessionBase`` contract on top of sessionkit's Redis stores.

Django keeps its own session keys and cookie; Redis holds one hash per session (keyed by a hash
of the session key), one field per session key, each value serialized by ``SESSION_SERIALIZER``.
Saves write only the changed fields, atomically and only if the session still exists.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, SessionBase, UpdateError
from django.utils.crypto import get_random_string
from sessionkit.adapters.django import _conf

from sessionkit import SaveResult, Session, SessionBackendUnavailable

log = logging.getLogger("sessionkit.django")


class SessionStore(SessionBase):  # type: ignore[misc]
    """A Redis session backend: ``SESSION_ENGINE = "sessionkit.adapters.django"``."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._conf = _conf.current()
        self._record: Session | None = None  # the Redis record behind self.session_key
        self.degraded = False  # Redis was unreachable when loading (SESSIONKIT_DEGRADED)

    # -- sans-IO helpers shared by the sync and async methods ------------------------------
    def _get_new_session_key(self) -> str:
        # No EXISTS round trip: creating under a taken key fails atomically (CreateError).
        return get_random_string(32, VALID_KEY_CHARS)

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()

    def _outage(self, exc: SessionBackendUnavailable) -> dict[str, Any]:
        if not self._conf.degraded:
            raise exc
        log.warning("Redis unavailable, serving an empty degraded session: %s", exc)
        self.degraded = True
        return {}

    def _adopt(self, record: Session | None) -> dict[str, Any]:
        self._record = record
        if record is None:
            self._session_key = None  # never adopt an unknown key
            return {}
        return dict(record)

    def _new_record(self, data: dict[str, Any]) -> Session:
        record = Session(id=self.session_key, new=True)
        record.accessed = True
        return self._prepare(record, data)

    def _prepare(self, record: Session, data: dict[str, Any]) -> Session:
        record.clear()
        record.update(data)
        # expiry= from ``data``: get_expiry_age() alone would re-enter load() during a migration
        record.ttl = float(self.get_expiry_age(expiry=data.get("_session_expiry")))
        user = data.get(self._conf.user_key)
        record.bind_user(None if user is None else str(user))
        return record

    def _record_for(self, must_create: bool, data: dict[str, Any]) -> Session | None:
        """The record to save, or ``None`` when it has to be read first."""
        if self.session_key is None:
            raise UpdateError
        if must_create:
            return self._new_record(data)
        if self._record is not None and self._record.id == self.session_key:
            return self._prepare(self._record, data)
        return None

    def _finish(self, record: Session, result: SaveResult | None, must_create: bool) -> None:
        if result is None:  # degraded: nothing written, the user's cookie stays as it is
            return
        if result.conflict:
            raise CreateError if must_create else UpdateError
        self._record = record

    @property
    def modified(self) -> bool:
        """True when set by Django, or when a value changed in place (``session["cart"].append(x)``)."""
        return self._modified or self._changed_in_place()

    @modified.setter
    def modified(self, value: bool) -> None:
        self._modified = value

    def _changed_in_place(self) -> bool:
        record, data = getattr(self, "_record", None), self.__dict__.get("_session_cache")
        if record is None or data is None or record.id != self.session_key:
            return False
        try:
            dumps = self._conf.store.serializer.dumps
            return {k: dumps(v) for k, v in data.items()} != record._snapshot
        except Exception:  # unserializable: let save() raise the real error
            return True

    def is_empty(self) -> bool:
        return not self.degraded and bool(super().is_empty())

    # -- sync ------------------------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        if self.session_key is None:
            return self._adopt(None)
        try:
            record = self._conf.store.load(self.session_key)
        except SessionBackendUnavailable as exc:
            return self._outage(exc)
        if record is None and self._conf.fallback:
            record = self._migrate()
        return self._adopt(record)

    def _migrate(self) -> Session | None:
        old = self._conf.fallback_store(self.session_key)
        data = old.load()
        if old.session_key is None:
            return None
        record = self._new_record(data)
        if self._conf.store.save(record, destroy_if_empty=False).conflict:
            return self._conf.store.load(self.session_key)  # a concurrent request moved it
        old.delete()
        return record

    def exists(self, session_key: str | None) -> bool:
        return bool(session_key) and self._conf.store.exists(session_key)

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
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
        if self.get_expiry_age() <= 0:  # expired on purpose: the record must not outlive it
            return self.delete()
        record = self._record_for(must_create, data)
        if record is None:
            self._record = self._conf.store.load(self.session_key)
            record = self._record_for(False, data) if self._record else None
            if record is None:
                raise UpdateError
        self._finish(record, self._write(record), must_create)
        return None

    def _write(self, record: Session) -> SaveResult | None:
        try:
            return self._conf.store.save(record, destroy_if_empty=False)
        except SessionBackendUnavailable as exc:
            self._outage(exc)
            return None

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is None:
            return
        self._conf.store.delete(session_key)
        if self._record is not None and self._record.id == session_key:
            self._record = None

    def cycle_key(self) -> None:
        data = self._session
        key = self.session_key
        if self.degraded:
            return
        self.create()
        if self.degraded:  # the write failed in degraded mode: keep the user's cookie
            self._session_key = key
            return
        self._session_cache = data
        if key:
            self.delete(key)

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions by TTL."""

    @classmethod
    async def aclear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions by TTL."""

    # -- async (native asyncio client; sync one in a thread if only a client object is set) --
    async def aload(self) -> dict[str, Any]:
        store = self._conf.astore()
        if store is None:
            return await sync_to_async(self.load)()  # type: ignore[no-any-return]
        if self.session_key is None:
            return self._adopt(None)
        try:
            record = await store.load(self.session_key)
        except SessionBackendUnavailable as exc:
            return self._outage(exc)
        if record is None and self._conf.fallback:
            old = self._conf.fallback_store(self.session_key)
            data = await old.aload()
            if old.session_key is not None:
                record = self._new_record(data)
                if (await store.save(record, destroy_if_empty=False)).conflict:
                    record = await store.load(self.session_key)
                else:
                    await old.adelete()
        return self._adopt(record)

    async def aexists(self, session_key: str | None) -> bool:
        store = self._conf.astore()
        if store is None:
            return await sync_to_async(self.exists)(session_key)  # type: ignore[no-any-return]
        return bool(session_key) and await store.exists(session_key)

    async def acreate(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                await self.asave(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    async def asave(self, must_create: bool = False) -> None:
        store = self._conf.astore()
        if store is None:
            return await sync_to_async(self.save)(must_create)  # type: ignore[no-any-return]
        if self.session_key is None:
            return await self.acreate()
        data = await self._aget_session(no_load=must_create)
        if self.degraded:
            return None
        if await self.aget_expiry_age() <= 0:
            return await self.adelete()
        record = self._record_for(must_create, data)
        if record is None:
            self._record = await store.load(self.session_key)
            record = self._record_for(False, data) if self._record else None
            if record is None:
                raise UpdateError
        try:
            result: SaveResult | None = await store.save(record, destroy_if_empty=False)
        except SessionBackendUnavailable as exc:
            result = None
            self._outage(exc)
        self._finish(record, result, must_create)
        return None

    async def adelete(self, session_key: str | None = None) -> None:
        store = self._conf.astore()
        if store is None:
            return await sync_to_async(self.delete)(session_key)  # type: ignore[no-any-return]
        session_key = session_key or self.session_key
        if session_key is None:
            return None
        await store.delete(session_key)
        if self._record is not None and self._record.id == session_key:
            self._record = None
        return None

    async def acycle_key(self) -> None:
        data = await self._aget_session()
        key = self.session_key
        if self.degraded:
            return
        await self.acreate()
        if self.degraded:
            self._session_key = key
            return
        self._session_cache = data
        if key:
            await self.adelete(key)
