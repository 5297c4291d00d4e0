"""The replica-local session cache: a bounded LRU of raw session hashes with a hard maximum age.

No I/O here. ``_tracking`` keeps it exact: every invalidation Redis pushes for a session key removes
that key, and any doubt about the tracking connection flushes everything. A read that was in flight
while its key was invalidated (or the cache flushed) is not stored, so an answer that raced a write
can never outlive the invalidation that followed it.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sessionkit._errors import ConfigurationError

CacheOutcome = Literal["hit", "miss", "evict", "invalidate", "flush"]
Emit = Callable[[CacheOutcome], None]
Ticket = tuple[int, int]  # (flush epoch, invalidations of the key) when a read began
# Rough per-entry and per-field overhead of the Python objects around the payload bytes.
ENTRY_OVERHEAD = 240
FIELD_OVERHEAD = 70


@dataclass(frozen=True)
class CacheConfig:
    """Limits of the replica-local cache.

    Args:
        enabled: ``False`` turns the cache off (every read goes to Redis).
        max_entries: most sessions kept; the least recently used is evicted beyond it.
        max_bytes: most bytes kept (field names + values + a fixed per-entry estimate).
        max_age: seconds an entry may be served at most, whatever Redis says.
        ping_interval: the longest a cached copy is served without an answer from Redis on the
            tracking connection: a ``PING`` goes out after half of it, and a read after a longer
            silence first waits for a ``PING``'s answer.
        ping_timeout: seconds without an answer after which the tracking connection is distrusted
            (the cache is flushed and the connection rebuilt); also the longest a read waits for
            that answer.
    """

    enabled: bool = True
    max_entries: int = 10_000
    max_bytes: int = 64 * 1024 * 1024
    max_age: float = 60.0
    ping_interval: float = 1.0
    ping_timeout: float = 5.0

    def __post_init__(self) -> None:
        for name in ("max_entries", "max_bytes"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"CacheConfig.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("max_age", "ping_interval", "ping_timeout"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(
                    f"CacheConfig.{name} must be > 0 seconds, got {getattr(self, name)!r}"
                )


@dataclass
class CacheStats:
    """Counters since the cache was created."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    invalidations: int = 0
    flushes: int = 0


class _Entry:
    __slots__ = ("expires_at", "size", "stored_at", "value")

    def __init__(self, value: Any, size: int, stored_at: float, expires_at: float) -> None:
        self.value, self.size, self.stored_at, self.expires_at = value, size, stored_at, expires_at


def entry_size(raw: dict[bytes, bytes]) -> int:
    """The bytes an entry counts against ``max_bytes``."""
    return (ENTRY_OVERHEAD + FIELD_OVERHEAD * len(raw) + sum(map(len, raw))
            + sum(map(len, raw.values())))


class LocalCache:
    """``HGETALL`` replies by Redis key, least recently used first. Thread-safe.

    An entry is the raw reply, or what the store made of it (``end(..., value=...)``); its size is
    counted from the raw reply either way.

    Reads go ``begin(key)`` → Redis → ``end(key, ticket, raw, now, expires_at)``; ``end`` stores the
    reply only if neither ``invalidate(key)`` nor ``flush()`` happened in between. Overlapping reads
    of one key are judged one by one: a read begun after an invalidation was applied was sent after
    the write it reports, so it may be kept even while an older read of the key is still in flight
    (under concurrency a key is rarely without a read in flight).

    Two clocks: ``now`` is monotonic seconds (an entry's age, against ``max_age``: a wall clock
    stepped back must not stretch it); ``wall`` and ``expires_at`` are ``time.time()`` seconds (the
    session's own expiry, from the wall-clock timestamps stored with it).
    """

    def __init__(self, config: CacheConfig, emit: Emit | None = None) -> None:
        self.config = config
        self.stats = CacheStats()
        self.bytes = 0
        self._emit = emit
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # key -> [reads in flight, invalidations while any was in flight]: a read is kept only if
        # no invalidation of its key came after it began (reads begun after one still are).
        self._inflight: dict[str, list[int]] = {}
        self._epoch = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def _count(self, outcome: CacheOutcome) -> None:
        if self._emit is not None:
            self._emit(outcome)

    def get(self, key: str, now: float, wall: float) -> Any:
        """The cached hash of ``key`` (do not mutate it), or ``None``; entries past ``max_age``
        (monotonic ``now``) or past the session's own expiry (wall clock ``wall``) go."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry.stored_at < self.config.max_age and wall < entry.expires_at:
                self._entries.move_to_end(key)
                self.stats.hits += 1
                hit = True
            else:
                if entry is not None:
                    self._drop(key)
                self.stats.misses += 1
                hit = False
        self._count("hit" if hit else "miss")
        return entry.value if hit and entry is not None else None

    def begin(self, key: str) -> Ticket:
        """Note a Redis read of ``key`` about to start; returns the ticket ``end`` needs."""
        with self._lock:
            slot = self._inflight.get(key)
            if slot is None:
                slot = self._inflight[key] = [0, 0]
            slot[0] += 1
            return self._epoch, slot[1]

    def end(self, key: str, ticket: Ticket, raw: dict[bytes, bytes] | None, now: float,
            expires_at: float | None = math.inf, value: Any = None) -> bool:
        """Finish a read begun with ``begin``; store ``raw`` unless it may be stale. ``expires_at``
        is when the session itself expires (wall clock; ``None``: unknown, so it is not stored);
        ``value`` is what ``get`` returns (default: ``raw``). True if stored."""
        evicted = 0
        with self._lock:
            slot = self._inflight.get(key)
            # invalidated (or flushed) since this read began: its reply may predate the write
            stale = slot is None or slot[1] != ticket[1] or ticket[0] != self._epoch
            if slot is not None:
                slot[0] -= 1
                if slot[0] <= 0:
                    del self._inflight[key]
            if not raw or stale or expires_at is None:
                return False
            size = entry_size(raw)
            if size > self.config.max_bytes:
                return False
            if key in self._entries:
                self._drop(key)
            self._entries[key] = _Entry(raw if value is None else value, size, now, expires_at)
            self.bytes += size
            while len(self._entries) > self.config.max_entries or self.bytes > self.config.max_bytes:
                oldest = next(iter(self._entries))
                self._drop(oldest)
                evicted += 1
            self.stats.evictions += evicted
        for _ in range(evicted):
            self._count("evict")
        return True

    def invalidate(self, key: str) -> None:
        """Redis says ``key`` changed: forget it, and refuse any read of it still in flight."""
        with self._lock:
            slot = self._inflight.get(key)
            if slot is not None:
                slot[1] += 1
            if key not in self._entries:
                return
            self._drop(key)
            self.stats.invalidations += 1
        self._count("invalidate")

    def flush(self) -> None:
        """Forget everything, including reads in flight (tracking was lost or is in doubt)."""
        with self._lock:
            self._entries.clear()
            self.bytes = 0
            self._epoch += 1  # every read in flight is now stale
            self.stats.flushes += 1
        self._count("flush")

    def _drop(self, key: str) -> None:
        self.bytes -= self._entries.pop(key).size
