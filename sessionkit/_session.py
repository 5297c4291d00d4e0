"""The session: a mapping that knows what was loaded, so the store can write only what changed.

No I/O here. A session may be *lazy*: it holds a loader callback and calls it on first access, so
a request that never touches the session costs nothing. Its change tracking is its own: stores
and adapters use ``restore``/``reset`` (fill it from a read), ``changes`` (what to write) and
``mark_saved`` (after the write), never its private attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

META_PREFIX = "\x00"  # metadata field names start with NUL; user keys may not
# Values of these types cannot change in place, so handing one out does not make its key dirty.
IMMUTABLE = (str, int, float, bool, bytes, type(None))


class _Lazy:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<not decoded yet>"


# In a session's data: "decode me from the stored bytes on first access" (see ``Session.restore``).
LAZY: Any = _Lazy()


@dataclass(frozen=True)
class Record:
    """A session as read from the store: decoded values, their stored bytes, and metadata."""

    data: dict[str, Any]
    stored: dict[str, bytes]
    created_at: float
    touched_at: float
    user_id: str | None


@dataclass(frozen=True)
class Changes:
    """What a save must send: every field's bytes, the changed ones and the removed keys."""

    serialized: dict[str, bytes]
    changed: dict[str, bytes]
    deleted: list[str]


class Session(MutableMapping[str, Any]):
    """A server-side session. Behaves like a ``dict`` of JSON-able values.

    Nested mutation (``session["cart"].append(x)``) needs no ``modified = True``: the store
    compares serialized bytes per key when saving.

    Args:
        rotate_on_clear: a session emptied (``clear()``, or its last key removed) that is filled
            again in the same request gets a new ID on save, like ``regenerate()`` (hand-rolled logins are
            ``session.clear(); session["user"] = ...``: this closes session fixation for them).
            Default: on, except for a new session created under a caller-chosen ``id``
            (frameworks with their own keys, like Django, rotate with ``regenerate``).
    """

    __slots__ = (
        "_cleared",
        "_data",
        "_decode",
        "_destroy",
        "_dirty",
        "_loaded_user_id",
        "_loader",
        "_new",
        "_regenerate",
        "_snapshot",
        "accessed",
        "created_at",
        "degraded",
        "id",
        "replaced",
        "rotate_on_clear",
        "touched_at",
        "ttl",
        "user_id",
    )

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        id: str | None = None,
        new: bool = True,
        snapshot: dict[str, bytes] | None = None,
        created_at: float = 0.0,
        touched_at: float = 0.0,
        user_id: str | None = None,
        loader: Callable[[Session], None] | None = None,
        degraded: bool = False,
        rotate_on_clear: bool | None = None,
    ) -> None:
        self.id = id
        self._new = new
        self.accessed = False
        self.degraded = degraded
        self.replaced = False  # the cookie's session was just replaced by a regenerate elsewhere
        self.rotate_on_clear = not (new and id is not None) if rotate_on_clear is None else rotate_on_clear
        self.created_at = created_at
        self.touched_at = touched_at
        self.user_id = user_id
        self.ttl: float | None = None  # per-session idle timeout override (seconds)
        self._data: dict[str, Any] = data if data is not None else {}
        self._snapshot: dict[str, bytes] = snapshot if snapshot is not None else {}
        # Keys that may differ from the snapshot: assigned, or a mutable value was handed out
        # (it may have been changed in place). Only these are serialized again on save.
        self._dirty: set[str] = set()
        self._loaded_user_id = user_id
        self._loader = loader
        self._decode: Callable[[bytes], Any] | None = None
        self._destroy = False
        self._regenerate = False
        self._cleared = False

    # -- loading ---------------------------------------------------------------------------
    def _touch(self) -> dict[str, Any]:
        self.accessed = True
        if self._loader is not None:
            self._load()
        return self._data

    def _load(self) -> None:
        if self._loader is not None:
            loader, self._loader = self._loader, None
            try:
                loader(self)
            except BaseException:
                self._loader = loader  # a failed read is not an empty session: save must not DEL it
                raise

    @property
    def new(self) -> bool:
        """True if the session does not exist in the store (yet). Reading it loads a lazy session."""
        self._load()
        return self._new

    @new.setter
    def new(self, value: bool) -> None:
        self._new = value

    @property
    def loaded(self) -> bool:
        """False while a lazy session has not been read from the store yet."""
        return self._loader is None

    def restore(self, session_id: str, record: Record, data: dict[str, Any] | None = None,
                decode: Callable[[bytes], Any] | None = None) -> None:
        """Fill the session from a store read of ``session_id`` (``data``: the values to use
        instead of ``record.data``, which the session then does not take over). A value that is
        ``LAZY`` is decoded from its stored bytes by ``decode`` when first read, so a request
        pays only for the values it uses."""
        self.id, self._new, self.degraded, self.replaced = session_id, False, False, False
        self._data = record.data if data is None else data
        self._decode = decode
        self._snapshot, self._dirty = dict(record.stored), set()
        self.created_at, self.touched_at = record.created_at, record.touched_at
        self.user_id = self._loaded_user_id = record.user_id

    def reset(self, *, degraded: bool = False, replaced: bool = False) -> None:
        """Make it a new empty session (nothing found, unreadable, expired, or Redis down).

        ``degraded``: Redis was unreachable — it keeps its ID so the cookie is left alone, and
        nothing is written. ``replaced``: the ID was replaced by a regenerate moments ago.
        """
        self.id = self.id if degraded else None
        self._new, self.degraded, self.replaced = True, degraded, replaced
        self._data, self._snapshot, self._dirty = {}, {}, set()
        self.created_at = self.touched_at = 0.0
        self.user_id = self._loaded_user_id = None

    # -- change tracking -------------------------------------------------------------------
    def changes(self, dumps: Callable[[Any], bytes], fresh: dict[str, bytes] | None = None) -> Changes:
        """Serialize what may have changed: unchanged keys reuse their loaded bytes, so a
        read-only request serializes nothing (``fresh``: bytes ``unchanged`` computed already)."""
        snapshot, dirty, fresh = self._snapshot, self._dirty, fresh or {}
        serialized = {
            k: snapshot[k] if k in snapshot and k not in dirty else fresh[k] if k in fresh else dumps(v)
            for k, v in self._data.items()
        }
        changed = {k: v for k, v in serialized.items() if snapshot.get(k) != v}
        return Changes(serialized, changed, [k for k in snapshot if k not in serialized])

    def mark_saved(self, session_id: str, written: dict[str, bytes], deleted: list[str],
                   now: float) -> None:
        """After a successful write: the session is now stored under ``session_id`` as written."""
        for name, value in written.items():
            if not name.startswith(META_PREFIX):
                self._snapshot[name] = value
        for name in deleted:
            self._snapshot.pop(name, None)
        self._dirty.clear()
        self.id, self._new, self.touched_at = session_id, False, now
        self._regenerate = self._cleared = False
        self._loaded_user_id = self.user_id

    @property
    def clean(self) -> bool:
        """An existing session holding data, and nothing changed since its load or last save: no key
        assigned, removed or handed out mutable, not cleared, destroyed, regenerated or rebound."""
        return not (self._dirty or self._cleared or self._destroy or self._regenerate or self._new) \
            and self.user_id == self._loaded_user_id and 0 < len(self._data) == len(self._snapshot)

    def unchanged(self, dumps: Callable[[Any], bytes], fresh: dict[str, bytes]) -> bool:
        """``clean``, or only mutable values were handed out and each still serializes to its
        stored bytes: a save has no data to write. The one check a read-only request that read a
        list or dict needs; the bytes it serialized go into ``fresh``, for ``changes``."""
        snapshot = self._snapshot
        if (self._cleared or self._destroy or self._regenerate or self._new
                or self.user_id != self._loaded_user_id or not 0 < len(self._data) == len(snapshot)):
            return False
        data = self._data
        for key in self._dirty:
            if key not in data:
                return False
            value = fresh[key] = dumps(data[key])
            if value != snapshot.get(key):
                return False
        return True

    def stored(self, key: str) -> bytes | None:
        """The bytes ``key`` had when loaded or last saved (``None``: not stored)."""
        return self._snapshot.get(key)

    @property
    def stored_keys(self) -> frozenset[str]:
        """The keys the store holds for this session, as of the load or the last save."""
        return frozenset(self._snapshot)

    # -- mapping protocol ------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        value = self._touch()[key]
        if value is LAZY:
            value = self._data[key] = self._decode(self._snapshot[key])  # type: ignore[misc]
        if not isinstance(value, IMMUTABLE):
            self._dirty.add(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or key.startswith(META_PREFIX):
            raise KeyError(f"session keys must be str not starting with NUL, got {key!r}")
        self._touch()[key] = value
        self._dirty.add(key)

    def __delitem__(self, key: str) -> None:
        data = self._touch()
        del data[key]
        if not data:  # emptied key by key (MutableMapping.clear, pop): the same as clear()
            self._cleared = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._touch())

    def __len__(self) -> int:
        return len(self._touch())

    def __contains__(self, key: object) -> bool:
        return key in self._touch()

    def clear(self) -> None:
        """Remove every key. Filled again in the same request, the session gets a new ID on save
        (unless ``rotate_on_clear`` is off)."""
        self._touch().clear()
        self._cleared = True

    def __repr__(self) -> str:
        state = "new" if self._new else "existing"
        return f"<Session {state} keys={sorted(self._data) if self.loaded else '(not loaded)'}>"

    # -- security operations ---------------------------------------------------------------
    def regenerate(self) -> None:
        """Give the session a new ID on save, keeping its data; the old ID stops working.

        Call it on login (and on any privilege change) to prevent session fixation.
        """
        self._touch()
        self._regenerate = True

    def destroy(self) -> None:
        """End the session: its data is deleted from the store and the cookie removed on save."""
        self._touch()
        self._data.clear()
        self._destroy = True

    def bind_user(self, user_id: str | int | None) -> None:
        """Record which user owns the session, so ``revoke_user`` can end all of their sessions."""
        self._touch()
        self.user_id = None if user_id is None else str(user_id)

    @property
    def destroyed(self) -> bool:
        return self._destroy

    @property
    def regenerating(self) -> bool:
        """True if the save gives a new ID: ``regenerate()``, or refilled after ``clear()``."""
        return self._regenerate or (
            self._cleared and self.rotate_on_clear and bool(self._data) and not self._new
        )

    @property
    def loaded_user_id(self) -> str | None:
        """The user bound to the session as stored (before this request's ``bind_user``)."""
        return self._loaded_user_id

    @property
    def user_changed(self) -> bool:
        return self.user_id != self._loaded_user_id
