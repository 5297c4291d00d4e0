"""What the sync and async stores share: settings, cookie codec and the sans-IO steps around I/O."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sessionkit._config import Seconds, StoreConfig, seconds
from sessionkit._connect import mask_url
from sessionkit._cookie import CookieCodec, SecretKeys, new_session_id, redis_key_suffix
from sessionkit._errors import ConfigurationError, SessionBackendUnavailable
from sessionkit._observe import Hook
from sessionkit._plan import Decoded, WritePlan, decode_hash, expired
from sessionkit._serializers import JSONSerializer, Serializer
from sessionkit._session import Session

log = logging.getLogger("sessionkit")


@dataclass(frozen=True)
class SaveResult:
    """What the adapter must do with the cookie after ``save``.

    ``cookie``: ``"set"`` (send ``value``: new or regenerated session), ``"delete"`` (the session
    ended) or ``"keep"`` (leave the browser's cookie as it is; ``value`` is still the signed ID of
    a live session, for frameworks that resend it to slide the cookie's expiry).
    ``conflict``: the write was refused — an update of a session deleted meanwhile (a logout won
    the race), a create under a caller-chosen ID that exists, or a regenerate that lost to another.
    """

    cookie: Literal["set", "delete", "keep"]
    value: str | None
    written: bool
    conflict: bool = False


class StoreCore:
    """Server-side sessions in Redis, one hash per session. Use ``RedisStore`` or ``AsyncRedisStore``.

    Args:
        url: ``redis://``, ``rediss://``, ``unix://``, ``redis+sentinel://`` or ``redis+cluster://``.
        client: an existing redis-py client (``Redis``, ``RedisCluster``, a Sentinel master)
            instead of ``url`` — asyncio clients for ``AsyncRedisStore``.
        secret_keys: cookie signing secret, or a list (current first; older ones only verify).
            Only needed for the cookie API (``open``/``cookie_value``).
        serializer: per-value serializer; JSON by default. Never pickle.
        key_prefix: prefix of every Redis key the store writes.
        idle_timeout: sliding expiry (the key's TTL), seconds or ``timedelta``.
        absolute_timeout: hard cap from creation (``None``: no cap).
        refresh_interval: a read-only request refreshes the TTL at most this often.
        max_size: serialized session size limit in bytes (``SessionTooLarge`` above it).
        degraded: serve empty sessions (cookie untouched) instead of failing when Redis is down.
        wait_replicas: after each write, ``WAIT`` for this many replica acknowledgements.
        hooks: callbacks receiving an ``OperationEvent`` per operation.
    """

    client: Any

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        secret_keys: SecretKeys | None = None,
        serializer: Serializer | None = None,
        key_prefix: str = "sessionkit:",
        idle_timeout: Seconds = timedelta(days=14),
        absolute_timeout: Seconds | None = timedelta(days=30),
        refresh_interval: Seconds = 60,
        max_size: int = 64 * 1024,
        degraded: bool = False,
        wait_replicas: int = 0,
        hooks: Sequence[Hook] = (),
    ) -> None:
        if (url is None) == (client is None):
            raise ConfigurationError(
                "pass exactly one of url='redis://host:6379/0' or client=<an existing redis client>"
            )
        self.config = StoreConfig(
            key_prefix=key_prefix,
            idle_timeout=seconds(idle_timeout, "idle_timeout"),
            absolute_timeout=(
                None if absolute_timeout is None else seconds(absolute_timeout, "absolute_timeout")
            ),
            refresh_interval=seconds(refresh_interval, "refresh_interval"),
            max_size=max_size,
            degraded=degraded,
            wait_replicas=wait_replicas,
        )
        self.serializer: Serializer = serializer or JSONSerializer()
        self.codec = CookieCodec(secret_keys) if secret_keys is not None else None
        self.hooks = tuple(hooks)
        self._url = url
        self.client = client if client is not None else self._connect(url or "")
        self._setup()

    def _connect(self, url: str) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        raise NotImplementedError

    def check_acks(self, status: Any, acked: Any) -> Any:
        """Reply of a write followed by ``WAIT``: fail unless enough replicas acknowledged it."""
        if int(acked) < self.config.wait_replicas:
            raise SessionBackendUnavailable(
                f"session write acknowledged by {acked} of {self.config.wait_replicas} replicas "
                f"within {self.config.wait_timeout_ms} ms; check replication or lower wait_replicas"
            )
        return status

    def __repr__(self) -> str:
        where = mask_url(self._url) if self._url else "client"
        return f"<{type(self).__name__} {where} prefix={self.config.key_prefix!r}>"

    # -- cookies ---------------------------------------------------------------------------
    def _require_codec(self) -> CookieCodec:
        if self.codec is None:
            raise ConfigurationError("this store has no secret_keys: pass secret_keys=... to sign cookies")
        return self.codec

    def session_id_from_cookie(self, cookie: str | None) -> str | None:
        """Verify a cookie; ``None`` for anything forged, truncated, oversized or empty."""
        return self._require_codec().unsign(cookie)

    def cookie_value(self, session: Session) -> str | None:
        """The signed cookie value for a live session."""
        return self._require_codec().sign(session.id) if session.id else None

    # -- sans-IO steps ---------------------------------------------------------------------
    def key(self, session_id: str) -> str:
        return self.config.session_key(redis_key_suffix(session_id))

    def fill(self, session: Session, session_id: str, raw: dict[bytes, bytes], now: float) -> bool:
        """Fill ``session`` from an ``HGETALL`` reply. False when missing, unreadable or expired
        (the session is then a fresh empty one: a client-chosen ID is never adopted)."""
        decoded: Decoded | None = decode_hash(raw, self.serializer, session_id[:6] + "…")
        if decoded is None or expired(decoded, self.config, now):
            session._replace(id=None, new=True, data={}, snapshot={}, created_at=0.0,
                             touched_at=0.0, user_id=None)
            return False
        session._replace(id=session_id, new=False, data=decoded.data, snapshot=decoded.snapshot,
                         created_at=decoded.created_at, touched_at=decoded.touched_at,
                         user_id=decoded.user_id)
        return True

    def degrade(self, session: Session, exc: Exception) -> None:
        log.warning("Redis unavailable, serving an empty degraded session: %s", exc)
        session._replace(id=session.id, new=True, data={}, snapshot={}, created_at=0.0,
                         touched_at=0.0, user_id=None, degraded=True)

    def assign_new_id(self, session: Session) -> str:
        """Pick the ID for a create/regenerate plan; returns the new Redis key."""
        session.id = new_session_id()
        return self.key(session.id)

    def result(self, session: Session, plan: WritePlan, applied: bool) -> SaveResult:
        if plan.kind == "delete" or (plan.kind == "update" and not applied):
            session.id = None  # ended here, or by a concurrent logout: never resurrected
            return SaveResult("delete", None, applied, conflict=not applied)
        value = self.cookie_value(session) if self.codec and session.id else None
        if plan.kind in ("create", "regenerate"):
            return SaveResult("set" if applied else "keep", value if applied else None, applied,
                              conflict=not applied)
        return SaveResult("keep", value, applied)

    @staticmethod
    def now() -> float:
        return time.time()
