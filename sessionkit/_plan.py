"""Sans-IO decisions: turn a Redis hash into a session, and a session into the one write it needs.

Both stores (sync and async) call these and only execute the result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from sessionkit._config import StoreConfig
from sessionkit._errors import SerializationError, SessionTooLarge
from sessionkit._serializers import Serializer
from sessionkit._session import LAZY, META_PREFIX, Record, Session

FORMAT_VERSION = "1"
# All metadata in one field (fewer fields = a cheaper HGETALL reply on every read):
# "<format version>|<created-at>|<last write or refresh>|<bound user, may be empty>".
F_META = META_PREFIX + "m"
_F_META_B = F_META.encode()
# When the key expires (wall clock, seconds), written with the metadata on every write: a per-session
# lifetime (``Session.ttl``, Django's ``set_expiry``) is known to every reader without a PTTL, so
# the local cache never serves a session past it.
F_EXPIRES = META_PREFIX + "e"
_F_EXPIRES_B = F_EXPIRES.encode()
_META_B = META_PREFIX.encode()
# The only field of a regenerated session's old key, for ``regenerate_grace`` seconds.
F_REPLACED = META_PREFIX + "r"
_F_REPLACED_B = F_REPLACED.encode()

security_log = logging.getLogger("sessionkit.security")


def meta_value(session: Session, now: float) -> bytes:
    return f"{FORMAT_VERSION}|{session.created_at!r}|{now!r}|{session.user_id or ''}".encode()


def stamp(fields: dict[str, bytes], session: Session, config: StoreConfig, now: float) -> int:
    """Add the metadata fields a write sends (``F_META``, ``F_EXPIRES``); returns the key's TTL in ms."""
    ttl = ttl_ms(session, config, now)
    fields[F_META] = meta_value(session, now)
    fields[F_EXPIRES] = repr(now + ttl / 1000).encode()
    return ttl


def deadline(raw: dict[bytes, bytes], config: StoreConfig) -> float | None:
    """When the session in an ``HGETALL`` reply expires (wall clock), from its own metadata;
    ``None`` if it has none that can be read (never serve it from memory)."""
    try:
        _, created, touched, _ = raw[_F_META_B].split(b"|", 3)
        expires = raw.get(_F_EXPIRES_B)
        # Written before F_EXPIRES existed: the idle timeout from the last write.
        out = float(expires) if expires is not None else float(touched) + config.idle_timeout
        if config.absolute_timeout is not None:
            out = min(out, float(created) + config.absolute_timeout)
        return out
    except (KeyError, ValueError):
        return None


def meta_user(meta: bytes | None) -> str | None:
    """The bound user in a metadata field (``None``: no session, or no user bound)."""
    return (meta.decode().split("|", 3)[3] or None) if meta else None


def replaced(raw: dict[bytes, bytes]) -> bool:
    """Whether an ``HGETALL`` reply is the marker a regenerate left at the old key."""
    return _F_REPLACED_B in raw and _F_META_B not in raw


def decode_hash(raw: dict[bytes, bytes], serializer: Serializer, key: str) -> Record | None:
    """Decode an ``HGETALL`` reply; ``None`` if missing or unreadable (logged as a security event)."""
    if not raw:
        return None
    try:
        version, created, touched, user = raw[_F_META_B].decode().split("|", 3)
        if version != FORMAT_VERSION:
            raise ValueError(f"unknown format version {version!r}")
        data = {}
        stored = {}
        loads = serializer.loads
        for name_b, value in raw.items():
            if not name_b.startswith(_META_B):
                name = name_b.decode()
                data[name] = loads(value)
                stored[name] = value
        return Record(data, stored, float(created), float(touched), user or None)
    except Exception as exc:  # any undecodable content: never crash the request
        security_log.warning("undecodable session data at %s, serving an empty session: %r", key, exc)
        return None


# Values of these exact types can be shared between a cached record and the sessions served from
# it; anything else is decoded again from its stored bytes for each session (it may be changed in
# place). Exact types: a subclass (Flask's ``Markup``) may carry state of its own.
_SHAREABLE = frozenset({str, int, float, bool, bytes, type(None)})
_AGAIN = LAZY  # "decode from the stored bytes" in a frozen record


def freeze(record: Record) -> Record:
    """The copy of a freshly decoded record that the local cache keeps: shareable values as they
    are, the others marked to be decoded again (``thaw``). Shares ``record.stored`` (read-only)."""
    values = {k: v if type(v) in _SHAREABLE else _AGAIN for k, v in record.data.items()}
    return Record(values, record.stored, record.created_at, record.touched_at, record.user_id)


def thaw(record: Record) -> dict[str, Any]:
    """The data of a frozen record for one session: shared values as they are, the others
    ``LAZY`` (the session decodes its own copy from the stored bytes on first access)."""
    return dict(record.data)


def expired(record: Record, config: StoreConfig, now: float) -> bool:
    return config.absolute_timeout is not None and now - record.created_at >= config.absolute_timeout


PlanKind = Literal["none", "refused", "create", "update", "empty", "delete", "regenerate"]


@dataclass
class WritePlan:
    """What to send. ``kind`` selects the script mode; index ops go to other keys (other slots).
    ``none``: nothing to send; ``refused``: nothing may be sent (see ``plan_save``).

    ``data_changed``: the request changed data (not only the TTL refresh or metadata), so losing
    the write to a concurrent regenerate is a conflict the adapter must report.
    """

    kind: PlanKind
    fields: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    ttl_ms: int = 0
    index_add: str | None = None  # user index to add this session to
    index_remove: str | None = None  # user index to remove it from
    data_changed: bool = False


NOTHING = WritePlan("none")
REFUSED = WritePlan("refused")


def ttl_ms(session: Session, config: StoreConfig, now: float) -> int:
    idle = session.ttl if session.ttl is not None else config.idle_timeout
    if config.absolute_timeout is not None and session.created_at:
        idle = min(idle, config.absolute_timeout - (now - session.created_at))
    return max(1, int(idle * 1000))


def _naming_the_key(exc: SerializationError, session: Session, serializer: Serializer) -> SerializationError:
    """``exc`` with the session key whose value the serializer refused (found again by trying
    each value: this runs only on the error path)."""
    for key, value in session.items():
        try:
            serializer.dumps(value)
        except Exception:
            return SerializationError(f"session key {key!r}: {exc}")
    return exc


def plan_save(
    session: Session,
    serializer: Serializer,
    config: StoreConfig,
    now: float,
    *,
    destroy_if_empty: bool = True,
) -> WritePlan:
    """Decide the single write a session needs at the end of a request.

    A new session created from a cookie whose session was just regenerated elsewhere is
    ``refused``: creating it would replace the login's new cookie.
    """
    if session.degraded or not session.loaded or not session.accessed:
        return NOTHING
    dumped: dict[str, bytes] = {}  # values ``unchanged`` serialized: ``changes`` reuses them
    try:
        if now - session.touched_at < config.refresh_interval and session.unchanged(serializer.dumps, dumped):
            return NOTHING  # a read-only request: at most the mutable values it read are serialized
        old_user = session.loaded_user_id
        index_old = config.user_index_key(old_user) if old_user else None
        if session.destroyed:
            return NOTHING if session.new else WritePlan("delete", index_remove=index_old)
        changes = session.changes(serializer.dumps, dumped)
    except SerializationError as exc:
        raise _naming_the_key(exc, session, serializer) from exc
    if destroy_if_empty and not changes.serialized:
        if session.new:
            return NOTHING  # an empty new session writes nothing and sets no cookie
        # Emptied here: the script deletes the hash only if no other request added a key.
        meta: dict[str, bytes] = {}
        ttl = stamp(meta, session, config, now)
        return WritePlan("empty", fields=meta, deleted=changes.deleted, ttl_ms=ttl,
                         index_remove=index_old, data_changed=True)
    size = sum(len(k) + len(v) for k, v in changes.serialized.items())
    if size > config.max_size:
        raise SessionTooLarge(size, config.max_size)

    index_new = config.user_index_key(session.user_id) if session.user_id else None
    if session.new or session.regenerating:
        if session.new and session.replaced:
            return REFUSED  # the cookie's ID was just replaced by a login: no new session here
        if session.new:
            session.created_at = now
        fields = dict(changes.serialized)
        ttl = stamp(fields, session, config, now)
        return WritePlan("create" if session.new else "regenerate", fields=fields,
                         ttl_ms=ttl, index_add=index_new,
                         index_remove=index_old, data_changed=True)

    changed, deleted = changes.changed, changes.deleted
    user_changed = session.user_changed
    fresh = now - session.touched_at < config.refresh_interval
    if not changed and not deleted and not user_changed and fresh:
        return NOTHING
    data_changed = bool(changed or deleted or user_changed)
    ttl = stamp(changed, session, config, now)
    touch_index = user_changed or (index_new is not None and _index_due(session, config, now))
    return WritePlan("update", fields=changed, deleted=deleted, ttl_ms=ttl,
                     index_add=index_new if touch_index else None,
                     index_remove=index_old if user_changed else None, data_changed=data_changed)


def _index_due(session: Session, config: StoreConfig, now: float) -> bool:
    """Whether this write must extend the user index's TTL.

    With an absolute lifetime, the TTL set on adding a member covers every member's whole life.
    Without one, a bound session lives as long as it is used. The index then gets twice the idle
    timeout whenever a write is the session's first in a new half-idle-timeout window, which
    keeps it alive at least as long as its longest-lived member (and lets it expire after the last).
    """
    if config.absolute_timeout is not None:
        return False
    if session.ttl is not None and session.ttl > config.idle_timeout:
        return True
    half = config.idle_timeout / 2
    return now // half != session.touched_at // half


def index_ttl_ms(plan: WritePlan, config: StoreConfig) -> int:
    """The TTL an index must have at least (see ``_index_due``)."""
    if config.absolute_timeout is not None:
        return int((config.absolute_timeout + 60) * 1000)
    return max(plan.ttl_ms, int(config.idle_timeout * 1000)) * 2 + 60_000

