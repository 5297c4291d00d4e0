"""Pure helpers of the Django store: which keys are looked up, and the record a save writes.

The record is a sessionkit ``Session``; ``SessionStore`` keeps it as Django's ``_session_cache``,
so Django's reads and writes go straight to it and its own change tracking decides what a save
serializes (only the keys that were assigned or whose mutable value was handed out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard

from django.contrib.sessions.backends.base import VALID_KEY_CHARS

from sessionkit import Session
from sessionkit._session import IMMUTABLE

__all__ = ["IMMUTABLE", "changed_in_place", "fill", "new_record", "well_formed"]

_KEY_CHARS = frozenset(VALID_KEY_CHARS)


def well_formed(session_key: str | None) -> TypeGuard[str]:
    """Whether Django could have made this key (32 of ``[a-z0-9]``, as every built-in engine does).

    Other keys (forged, truncated, oversized cookies) are never looked up: they cost no Redis command.
    """
    return session_key is not None and len(session_key) == 32 and _KEY_CHARS.issuperset(session_key)


def new_record(session_key: str, data: Mapping[str, Any]) -> Session:
    """A record to create under Django's own key (the save fails with a conflict if it is taken)."""
    record = Session(dict(data), id=session_key, new=True)
    record.accessed = True
    return record


def fill(record: Session, data: Mapping[str, Any], ttl: float, user: Any) -> Session:
    """Make ``record`` hold ``data`` (a no-op when ``data`` is the record), with Django's expiry
    as its TTL and the user it is bound to (``revoke_user`` finds it by that user)."""
    if data is not record:  # Django replaced its dict (clear(), or data set without a load)
        for key in [k for k in record if k not in data]:
            del record[key]
        record.update(data)
    record.ttl = ttl
    bound = None if user is None else str(user)
    if bound != record.user_id:
        record.bind_user(bound)
    return record


def changed_in_place(handed: Iterable[str], data: Mapping[str, Any], dumps: Callable[[Any], bytes]) -> bool:
    """Whether a mutable value handed out (its key in ``handed``) differs from its stored bytes.

    Only a record has stored bytes; a plain dict is a new or cleared session, which Django
    already counts as modified when it is filled.
    """
    if not isinstance(data, Session):
        return False
    try:
        return any(key not in data or dumps(data[key]) != data.stored(key) for key in handed)
    except Exception:  # unserializable: let save() raise the real error
        return True
