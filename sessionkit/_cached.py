"""What a store holds to serve reads from memory: the cache, its tracking connection, expiry checks.

Both stores call the same few methods around their ``HGETALL`` and their writes:

- ``lookup(key)`` / ``await alookup(key)``: drain pending invalidations, then the cached copy or
  ``None`` (also ``None`` when tracking is down, and for a session past its own expiry);
- on a miss, ``begin(key)`` before the read and ``offer(key, ticket, raw, record)`` after it
  (``StoreCore.settle_read`` and ``read_failed`` do this for both stores);
- ``forget_command(command)`` before every command of this replica that writes, and
  ``after_write()`` once it was acknowledged.

A writing request bases its conditional write on the snapshot it read — from memory when the
cache served it: the write sends only the fields whose bytes changed, conditional on the key still
existing, exactly as after a read from Redis. The cached copy is as fresh as a read from Redis at
that moment (every invalidation Redis had sent is applied first), so the cache adds no window for
lost updates beyond the one between any read and its write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from sessionkit._cache import CacheConfig, CacheOutcome, LocalCache, Ticket
from sessionkit._config import StoreConfig
from sessionkit._observe import Hook, OperationEvent
from sessionkit._plan import deadline
from sessionkit._tracking import ConnectionFactory, Tracker, connection_factory

log = logging.getLogger("sessionkit")


class StoreCache:
    """The replica-local cache of one store (see ``CacheConfig`` for the limits).

    ``clock`` (monotonic) ages entries; ``wall`` (``time.time``) checks each session's own expiry,
    which its metadata holds as wall-clock time. An entry's expiry is read from the hash once, when
    it is stored, and checked on every hit.
    """

    def __init__(
        self,
        config: CacheConfig,
        store: StoreConfig,
        factory: ConnectionFactory,
        emit: Callable[[CacheOutcome], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.cache = LocalCache(config, emit)
        self.tracker = Tracker(factory, store.session_key(""), self.cache)
        self._store = store
        self._clock = clock
        self._wall = wall

    @property
    def active(self) -> bool:
        """False once the server refused tracking (the cache stays off for this store)."""
        return self.tracker.state != "refused"

    def lookup(self, key: str) -> Any:
        """Drain pending invalidations, then what ``offer`` kept for ``key`` if it may be served
        (``None``: not cached, too old, past the session's own expiry, or tracking is down)."""
        if not self.tracker.usable():
            return None
        return self.cache.get(key, self._clock(), self._wall())

    async def alookup(self, key: str) -> Any:
        """``lookup`` for asyncio (a reconnect handshake runs in a worker thread)."""
        ok = self.tracker.usable_now()
        if ok is None:
            ok = await self.tracker.settle()
        return self.cache.get(key, self._clock(), self._wall()) if ok else None

    def begin(self, key: str) -> Ticket | None:
        """Before a Redis read of ``key``; ``None`` when the reply must not be cached."""
        return self.cache.begin(key) if self.tracker.state == "up" else None

    def offer(self, key: str, ticket: Ticket | None, raw: Any, value: Any = None) -> None:
        """After the read (``raw``: the reply, ``None`` if it failed or must not be kept): keep
        ``value`` (default: ``raw``) unless an invalidation or a flush raced the read."""
        if ticket is None:
            return
        if isinstance(raw, dict) and raw:
            self.cache.end(key, ticket, raw, self._clock(), deadline(raw, self._store), value)
        else:
            self.cache.end(key, ticket, None, self._clock())

    def forget_command(self, command: Any) -> None:
        """Before this replica sends a command that writes: drop the copy of the key it changes
        (a read of it in flight is then not kept either; Redis's invalidation follows)."""
        key = getattr(command, "key", None)
        if isinstance(key, str):
            self.cache.invalidate(key)

    def after_write(self) -> None:
        """After a write of this replica was acknowledged: apply the invalidation Redis sent for it
        now (Redis writes it before the reply), so that it does not refuse the reads that begin
        after the write: those were sent after it and may be kept."""
        self.tracker.apply_pending()

    def forget(self, key: str) -> None:
        """This replica writes or deletes ``key``: drop its copy and any read of it in flight."""
        self.cache.invalidate(key)

    def close(self) -> None:
        self.tracker.close()


def make_store_cache(
    setting: bool | CacheConfig,
    store: StoreConfig,
    client: Any,
    hooks: Sequence[Hook] = (),
    tracking_client: Callable[[], Any] | None = None,
) -> StoreCache | None:
    """The cache a store's ``local_cache`` setting asks for, or ``None`` (off, or not available).

    ``tracking_client`` builds a blocking client to take the tracking connection's settings from
    when ``client`` cannot provide them (an asyncio Sentinel client built from a URL).
    """
    if setting is False:
        return None
    config = setting if isinstance(setting, CacheConfig) else CacheConfig()
    if not config.enabled:
        return None
    factory = connection_factory(client)
    if factory is None and tracking_client is not None:
        factory = connection_factory(tracking_client())
    if factory is None:
        log.warning("local session cache off: not available for %s (Redis Cluster, or an asyncio "
                    "client whose settings cannot be reused: pass the URL instead)", type(client).__name__)
        return None
    emit = None
    if hooks:
        def emit(outcome: CacheOutcome) -> None:
            event = OperationEvent("cache", outcome, 0.0)
            for hook in hooks:
                hook(event)
    return StoreCache(config, store, factory, emit)
