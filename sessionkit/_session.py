"""The session: a mapping that knows what was loaded, so the store can write only what changed.

No I/O here. A session may be *lazy*: it holds a loader callback and calls it on first access, so
a request that never touches the session costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

META_PREFIX = "\x00"  # metadata field names start with NUL; user keys may not
# Values of these types cannot change in place, so handing one out does not make its key dirty.
IMMUTABLE = (str, int, float, bool, bytes, type(None))


class Session(MutableMapping[str, Any]):
    """A server-side session. Behaves like a ``dict`` of JSON-able values.

    Nested mutation (``session["cart"].append(x)``) needs no ``modified = True``: the store
    compares serialized bytes per key when saving.
    """

    __slots__ = (
        "_data",
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
    ) -> None:
        self.id = id
        self._new = new
        self.accessed = False
        self.degraded = degraded
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
        self._destroy = False
        self._regenerate = False

    # -- loading ---------------------------------------------------------------------------
    def _touch(self) -> dict[str, Any]:
        self.accessed = True
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

    def _replace(
        self,
        *,
        id: str | None,
        new: bool,
        data: dict[str, Any],
        snapshot: dict[str, bytes],
        created_at: float,
        touched_at: float,
        user_id: str | None,
        degraded: bool = False,
    ) -> None:
        """Fill the session from a store read (called by stores and loaders)."""
        self.id, self._new, self.degraded = id, new, degraded
        self._data, self._snapshot = data, snapshot
        self._dirty = set()
        self.created_at, self.touched_at = created_at, touched_at
        self.user_id = self._loaded_user_id = user_id

    # -- mapping protocol ------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        value = self._touch()[key]
        if not isinstance(value, IMMUTABLE):
            self._dirty.add(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or key.startswith(META_PREFIX):
            raise KeyError(f"session keys must be str not starting with NUL, got {key!r}")
        self._touch()[key] = value
        self._dirty.add(key)

    def __delitem__(self, key: str) -> None:
        del self._touch()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._touch())

    def __len__(self) -> int:
        return len(self._touch())

    def __contains__(self, key: object) -> bool:
        return key in self._touch()

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
        return self._regenerate

    @property
    def user_changed(self) -> bool:
        return self.user_id != self._loaded_user_id
