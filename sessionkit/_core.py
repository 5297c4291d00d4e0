"""What the sync and async stores share: settings, the cookie codec, the operations' context."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sessionkit._cache import CacheConfig, Ticket
from sessionkit._cached import StoreCache, make_store_cache
from sessionkit._commands import Delete
from sessionkit._config import Seconds, StoreConfig, seconds
from sessionkit._connect import is_cluster, mask_url, sync_client
from sessionkit._cookie import CookieCodec, SecretKeys, new_session_id
from sessionkit._errors import ConfigurationError, SessionNotReplicated
from sessionkit._observe import Hook
from sessionkit._ops import ConflictKind, Context, SaveResult, key_of, read_record
from sessionkit._plan import freeze, thaw
from sessionkit._serializers import JSONSerializer, Serializer
from sessionkit._session import Record, Session

__all__ = ["ConflictKind", "SaveResult", "StoreCore"]



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
        wait_replicas: after each write — deletes included — ``WAIT`` for this many replica
            acknowledgements; fewer raise ``SessionNotReplicated`` (applied, not replicated).
        regenerate_grace: how long (seconds) the old ID of a regenerated session is remembered
            as "replaced", so a request still carrying it is told apart from one after a logout.
        pool_size: connections per process (a blocking pool, URL only; Cluster: per node).
        pool_timeout: seconds to wait for a free connection before ``PoolExhausted``.
        hooks: callbacks receiving an ``OperationEvent`` per operation.
        local_cache: serve repeated reads from a replica-local cache kept exact by Redis
            (``CLIENT TRACKING``; see docs/cache.md): ``True`` (default limits), a ``CacheConfig``,
            or ``False`` (off).
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
        regenerate_grace: Seconds = 10,
        pool_size: int = 50,
        pool_timeout: Seconds = 5,
        hooks: Sequence[Hook] = (),
        local_cache: bool | CacheConfig = True,
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
            regenerate_grace=seconds(regenerate_grace, "regenerate_grace"),
            pool_size=pool_size,
            pool_timeout=seconds(pool_timeout, "pool_timeout"),
        )
        self.serializer: Serializer = serializer or JSONSerializer()
        self._loads = self.serializer.loads
        self.codec = CookieCodec(secret_keys) if secret_keys is not None else None
        self.hooks = tuple(hooks)
        self._url = url
        self.client = client if client is not None else self._connect(url or "")
        self.ctx = Context(self.config, self.serializer, time.time, new_session_id,
                           self.codec.sign_cached if self.codec is not None else None, self.sharded)
        self._setup()
        self.local_cache: StoreCache | None = make_store_cache(
            local_cache, self.config, self.client, self.hooks,
            (lambda: sync_client(url)) if url is not None else None,
        )

    def _connect(self, url: str) -> Any:
        raise NotImplementedError

    def distrust_cache(self) -> None:
        """The server may have changed role (READONLY, a failed WAIT): flush the local cache and
        rebuild its tracking connection on the next read."""
        if self.local_cache is not None:
            self.local_cache.tracker.reset("the server may have failed over")

    def _setup(self) -> None:
        raise NotImplementedError

    def check_acks(self, status: Any, acked: Any) -> Any:
        """Reply of a write followed by ``WAIT``: fail unless enough replicas acknowledged it.

        Too few acknowledgements mean the server we wrote to may no longer be the master (a
        failover in progress): the store then drops its pooled connections.
        """
        if int(acked) < self.config.wait_replicas:
            raise SessionNotReplicated(
                f"session write applied but not replicated: acknowledged by {acked} of "
                f"{self.config.wait_replicas} replicas within {self.config.wait_timeout_ms} ms, so "
                "a failover may roll it back. Check replication (or lower wait_replicas); "
                "requests get 503 until replicas acknowledge again."
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

    # -- the read around the I/O, shared by both twins --------------------------------------
    def served(self, session: Session, session_id: str, hit: Record) -> None:
        """Fill ``session`` from the local cache's copy (``lookup`` answered): no round trip."""
        session.restore(session_id, hit, thaw(hit), self._loads)

    def settle_read(self, session: Session, session_id: str, key: str, ticket: Ticket | None,
                    raw: dict[bytes, bytes]) -> tuple[str, Delete | None, Record | None]:
        """Fill ``session`` from the ``HGETALL`` reply (see ``_ops.after_read``) and offer a live
        session to the local cache when the read began with a ``ticket``; returns the outcome,
        the clean-up to run and what was offered (``None``: nothing), which ``served`` takes."""
        outcome, cleanup, record = read_record(self.ctx, session, session_id, raw)
        if ticket is None or self.local_cache is None:
            return outcome, cleanup, None
        if record is None:
            self.local_cache.offer(key, ticket, None)
            return outcome, cleanup, None
        frozen = freeze(record)
        self.local_cache.offer(key, ticket, raw, frozen)
        return outcome, cleanup, frozen

    def read_failed(self, key: str, ticket: Ticket | None) -> None:
        """The ``HGETALL`` of a read begun with ``ticket`` failed: nothing to keep."""
        if ticket is not None and self.local_cache is not None:
            self.local_cache.offer(key, ticket, None)

    # -- sans-IO steps ---------------------------------------------------------------------
    def key(self, session_id: str) -> str:
        """The Redis key of a session ID."""
        return key_of(self.config, session_id)

    @property
    def sharded(self) -> bool:
        """Whether the client is a Redis Cluster client (keys live on different shards)."""
        return is_cluster(self.client)
