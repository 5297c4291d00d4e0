"""What ``SessionStore``'s sync and async twins share: the decisions around the I/O, none of it.

Also in-place changes (``session["cart"].append(x)``) count as modifications, as sessionkit
promises: Django only notices assignments, so the keys of mutable values handed out are
remembered, and ``modified`` compares only those with the bytes the record holds in Redis.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, SessionBase, UpdateError
from django.utils.crypto import get_random_string

from sessionkit import SaveResult, Session, SessionBackendUnavailable
from sessionkit.adapters.django import _conf
from sessionkit.adapters.django._records import IMMUTABLE, changed_in_place, fill, new_record

log = logging.getLogger("sessionkit.django")


class RecordBase(SessionBase):  # type: ignore[misc]
    """``SessionBase`` over a sessionkit record, whose ``modified`` also sees in-place changes."""

    _session_key: str | None  # SessionBase's validating property

    def __init__(self, session_key: str | None = None) -> None:
        self._handed: set[str] = set()  # keys whose mutable values were handed out
        super().__init__(session_key)
        self._conf = _conf.current()
        self._record: Session | None = None  # the Redis record behind self.session_key
        self._previous: Session | None = None  # the record a cycle_key replaced
        self.degraded = False  # Redis was unreachable when loading (SESSIONKIT_DEGRADED)

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
        self._handed = set()

    def _expired(self, data: Any) -> bool:  # expired on purpose: it must not outlive that
        return bool(self.get_expiry_age(expiry=data.get("_session_expiry")) <= 0)

    def _doomed(self, session_key: str) -> Session | None:
        """The loaded record of ``session_key``, marked for deletion, if this store read it."""
        for record in (self._record, self._previous):
            if record is not None and record.id == session_key:
                record.destroy()  # deleting through the record also leaves its user's index
                return record
        return None

    def _cycled(self, data: Any, old_key: str | None) -> None:
        if self.degraded:  # the create failed in degraded mode: keep the user's key and cookie
            self._session_key, self._session_cache = old_key, data

    # -- in-place changes ------------------------------------------------------------------
    def _expose(self, key: str, value: Any) -> Any:
        if not isinstance(value, IMMUTABLE):
            self._handed.add(key)
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

