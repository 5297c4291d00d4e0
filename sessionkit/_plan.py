"""Sans-IO decisions: turn a Redis hash into a session, and a session into the one write it needs.

Both stores (sync and async) call these and only execute the result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from sessionkit._config import StoreConfig
from sessionkit._errors import SessionTooLarge
from sessionkit._serializers import Serializer
from sessionkit._session import META_PREFIX, Session

FORMAT_VERSION = "1"
# All metadata in one field (fewer fields = a cheaper HGETALL reply on every read):
# "<format version>|<created-at>|<last write or refresh>|<bound user, may be empty>".
F_META = META_PREFIX + "m"
_F_META_B = F_META.encode()


def meta_value(session: Session, now: float) -> bytes:
    return f"{FORMAT_VERSION}|{session.created_at!r}|{now!r}|{session.user_id or ''}".encode()

security_log = logging.getLogger("sessionkit.security")


@dataclass
class Decoded:
    data: dict[str, Any]
    snapshot: dict[str, bytes]
    created_at: float
    touched_at: float
    user_id: str | None


def decode_hash(raw: dict[bytes, bytes], serializer: Serializer, key: str) -> Decoded | None:
    """Decode an ``HGETALL`` reply; ``None`` if missing or unreadable (logged as a security event)."""
    if not raw:
        return None
    try:
        version, created, touched, user = raw[_F_META_B].decode().split("|", 3)
        if version != FORMAT_VERSION:
            raise ValueError(f"unknown format version {version!r}")
        data: dict[str, Any] = {}
        snapshot: dict[str, bytes] = {}
        for name_b, value in raw.items():
            if name_b != _F_META_B:
                name = name_b.decode()
                data[name] = serializer.loads(value)
                snapshot[name] = value
        return Decoded(data, snapshot, float(created), float(touched), user or None)
    except Exception as exc:  # any undecodable content: never crash the request
        security_log.warning("undecodable session data at %s, serving an empty session: %r", key, exc)
        return None


def expired(decoded: Decoded, config: StoreConfig, now: float) -> bool:
    return config.absolute_timeout is not None and now - decoded.created_at >= config.absolute_timeout


@dataclass
class WritePlan:
    """What to send. ``kind`` selects the script mode; index ops go to other keys (other slots)."""

    kind: Literal["none", "create", "update", "delete", "regenerate"]
    fields: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    ttl_ms: int = 0
    index_add: str | None = None  # user index to add this session to
    index_remove: str | None = None  # user index to remove it from


def ttl_ms(session: Session, config: StoreConfig, now: float) -> int:
    idle = session.ttl if session.ttl is not None else config.idle_timeout
    if config.absolute_timeout is not None and session.created_at:
        idle = min(idle, config.absolute_timeout - (now - session.created_at))
    return max(1, int(idle * 1000))


def plan_save(
    session: Session,
    serializer: Serializer,
    config: StoreConfig,
    now: float,
    *,
    destroy_if_empty: bool = True,
) -> WritePlan:
    """Decide the single write a session needs at the end of a request."""
    if session.degraded or not session.loaded or not session.accessed:
        return WritePlan("none")
    index_old = config.user_index_key(session._loaded_user_id) if session._loaded_user_id else None
    if session.destroyed or (destroy_if_empty and not session._data and not session.new):
        return WritePlan("delete", index_remove=index_old) if not session.new else WritePlan("none")

    # Unchanged keys reuse their loaded bytes: only keys that were assigned, or whose mutable
    # value was handed out, are serialized again (a read-only request serializes nothing).
    snapshot, dirty = session._snapshot, session._dirty
    serialized = {
        k: snapshot[k] if k in snapshot and k not in dirty else serializer.dumps(v)
        for k, v in session._data.items()
    }
    size = sum(len(k) + len(v) for k, v in serialized.items())
    if size > config.max_size:
        raise SessionTooLarge(size, config.max_size)

    user_changed = session.user_changed
    index_new = config.user_index_key(session.user_id) if session.user_id else None
    if session.new or session.regenerating:
        if not serialized and destroy_if_empty:
            return WritePlan("none")  # an empty new session writes nothing and sets no cookie
        if session.new:
            session.created_at = now
        fields = dict(serialized)
        fields[F_META] = meta_value(session, now)
        return WritePlan(
            "create" if session.new else "regenerate",
            fields=fields,
            ttl_ms=ttl_ms(session, config, now),
            index_add=index_new,
            index_remove=index_old,
        )

    changed = {k: v for k, v in serialized.items() if snapshot.get(k) != v}
    deleted = [k for k in snapshot if k not in serialized]
    fresh = now - session.touched_at < config.refresh_interval
    if not changed and not deleted and not user_changed and fresh:
        return WritePlan("none")
    changed[F_META] = meta_value(session, now)
    return WritePlan(
        "update",
        fields=changed,
        deleted=deleted,
        ttl_ms=ttl_ms(session, config, now),
        index_add=index_new if user_changed else None,
        index_remove=index_old if user_changed else None,
    )


def commit(session: Session, plan: WritePlan, now: float) -> None:
    """After a successful write, make the session's snapshot match what Redis now holds."""
    if plan.kind in ("create", "update", "regenerate"):
        for name, value in plan.fields.items():
            if not name.startswith(META_PREFIX):
                session._snapshot[name] = value
        for name in plan.deleted:
            session._snapshot.pop(name, None)
        session._dirty.clear()
        session.touched_at = now
        session.new = False
        session._regenerate = False
        session._loaded_user_id = session.user_id
