"""The Django store's operations, each written once as a generator of store calls.

An operation yields ``(name, argument)`` steps — ``load``/``save``/``delete``/``exists`` on the
sessionkit store, ``old_load``/``old_delete`` on the previous engine's store — and receives the
replies; ``SessionStore._run`` and ``_arun`` execute them with the sync or the asyncio store.
A failed step is thrown back in as ``SessionBackendUnavailable``.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError

from sessionkit import SaveResult, Session, SessionBackendUnavailable

if TYPE_CHECKING:
    from sessionkit.adapters.django._store import SessionStore

log = logging.getLogger("sessionkit.django")
Op = Generator[tuple[str, Any], Any, Any]
_KEY_CHARS = frozenset(VALID_KEY_CHARS)


def well_formed(session_key: str | None) -> bool:
    """Whether Django could have made this key (32 of ``[a-z0-9]``, as every built-in engine does).

    Other keys (forged, truncated, oversized cookies) are never looked up: they cost no Redis command.
    """
    return session_key is not None and len(session_key) == 32 and _KEY_CHARS.issuperset(session_key)


def call(store: Any, name: str, arg: Any) -> Any:
    """One step on a ``RedisStore`` (a value) or an ``AsyncRedisStore`` (an awaitable)."""
    if name == "save":
        return store.save(arg, destroy_if_empty=False)  # Django keeps emptied sessions
    return getattr(store, name)(arg)


def one(name: str, arg: Any) -> Op:
    return (yield (name, arg))


def outage(s: SessionStore, exc: SessionBackendUnavailable) -> dict[str, Any]:
    """Degraded mode: an empty session that is never written and keeps the user's cookie."""
    if not s._conf.degraded:
        raise exc
    log.warning("Redis unavailable, serving an empty degraded session: %s", exc)
    s.degraded = True
    return {}


def fill(s: SessionStore, record: Session, data: dict[str, Any]) -> Session:
    """Make ``record`` hold ``data``, with Django's expiry as its TTL and its bound user."""
    record.clear()
    record.update(data)
    # expiry= from data: get_expiry_age() alone would re-enter load() during a migration
    record.ttl = float(s.get_expiry_age(expiry=data.get("_session_expiry")))
    user = data.get(s._conf.user_key)
    record.bind_user(None if user is None else str(user))
    return record


def new_record(s: SessionStore, data: dict[str, Any]) -> Session:
    record = Session(id=s.session_key, new=True)  # created under Django's key, or CreateError
    record.accessed = True
    return fill(s, record, data)


def load(s: SessionStore) -> Op:
    record: Session | None = None
    if well_formed(s.session_key):
        try:
            record = yield ("load", s.session_key)
        except SessionBackendUnavailable as exc:
            return outage(s, exc)
        if record is None and s._conf.fallback:  # zero-logout migration: move it on first use
            old = s._conf.fallback_store(s.session_key)
            data = yield ("old_load", old)
            if old.session_key is not None:
                record = new_record(s, data)
                if (yield ("save", record)).conflict:  # a concurrent request moved it first
                    record = yield ("load", s.session_key)
                else:
                    yield ("old_delete", old)
    s._record = record
    if record is None:
        s._session_key = None  # never adopt an unknown key
        return {}
    return dict(record)


def save(s: SessionStore, must_create: bool, data: dict[str, Any]) -> Op:
    if s.degraded:
        return None
    if s.session_key is None:
        raise UpdateError  # loading found no record: nothing to update
    if s.get_expiry_age(expiry=data.get("_session_expiry")) <= 0:
        return (yield from delete(s, None))  # expired on purpose: it must not outlive that
    if must_create:
        record = new_record(s, data)
    else:
        if s._record is None or s._record.id != s.session_key:
            s._record = yield ("load", s.session_key)  # data set without a load: read it first
            if s._record is None:
                raise UpdateError
        record = fill(s, s._record, data)
    try:
        result: SaveResult = yield ("save", record)
    except SessionBackendUnavailable as exc:
        outage(s, exc)
        return None
    if result.conflict:
        raise CreateError if must_create else UpdateError
    s._record = record
    return None


def delete(s: SessionStore, session_key: str | None) -> Op:
    session_key = session_key or s.session_key
    if session_key is not None:
        yield ("delete", session_key)
        if s._record is not None and s._record.id == session_key:
            s._record = None


def changed_in_place(s: SessionStore) -> bool:
    """Whether a value handed out has changed in place since the load (compared as serialized
    bytes, only for the keys whose mutable values were handed out)."""
    record, data = s.__dict__.get("_record"), s.__dict__.get("_session_cache")
    if record is None or data is None or record.id != s.session_key:
        return False
    if data.keys() != record._snapshot.keys():
        return True
    try:
        dumps = s._conf.store.serializer.dumps
        return any(dumps(data[k]) != record._snapshot[k] for k in s._exposed if k in data)
    except Exception:  # unserializable: let save() raise the real error
        return True
