"""LocalCache on its own (no I/O in it): LRU bounds, maximum age, reads racing invalidations."""

from __future__ import annotations

import pytest

from sessionkit import ConfigurationError
from sessionkit._cache import CacheConfig, LocalCache, entry_size

RAW = {b"user": b'"ann"', b"\x00m": b"1|1.0|1.0|"}


def stored(cache: LocalCache, key: str, raw: dict[bytes, bytes] = RAW, now: float = 0.0) -> bool:
    return cache.end(key, cache.begin(key), raw, now)


def test_hit_after_store_and_counters() -> None:
    seen: list[str] = []
    cache = LocalCache(CacheConfig(), emit=seen.append)
    assert cache.get("k", 0.0, 0.0) is None
    assert stored(cache, "k")
    assert cache.get("k", 1.0, 0.0) == RAW
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)
    assert seen == ["miss", "hit"]


def test_lru_by_entries_evicts_least_recently_used() -> None:
    seen: list[str] = []
    cache = LocalCache(CacheConfig(max_entries=2), emit=seen.append)
    stored(cache, "a")
    stored(cache, "b")
    assert cache.get("a", 0.0, 0.0) is not None  # a is now the most recently used
    stored(cache, "c")
    assert cache.get("b", 0.0, 0.0) is None
    assert cache.get("a", 0.0, 0.0) is not None and cache.get("c", 0.0, 0.0) is not None
    assert len(cache) == 2 and cache.stats.evictions == 1 and seen.count("evict") == 1


def test_lru_by_bytes() -> None:
    size = entry_size(RAW)
    cache = LocalCache(CacheConfig(max_bytes=2 * size + size // 2))
    for key in "abc":
        stored(cache, key)
    assert len(cache) == 2 and cache.bytes == 2 * size
    assert cache.get("a", 0.0, 0.0) is None


def test_entry_larger_than_the_budget_is_not_stored() -> None:
    cache = LocalCache(CacheConfig(max_bytes=entry_size(RAW) - 1))
    assert not stored(cache, "a")
    assert len(cache) == 0 and cache.bytes == 0


def test_replacing_an_entry_keeps_the_byte_count_exact() -> None:
    cache = LocalCache(CacheConfig())
    stored(cache, "a")
    stored(cache, "a", {b"x": b"1" * 100})
    assert cache.bytes == entry_size({b"x": b"1" * 100})


def test_max_age_is_a_hard_limit() -> None:
    cache = LocalCache(CacheConfig(max_age=5.0))
    stored(cache, "a", now=100.0)
    assert cache.get("a", 104.9, 0.0) is not None
    assert cache.get("a", 105.0, 0.0) is None
    assert len(cache) == 0 and cache.bytes == 0


def test_invalidate_removes_the_entry() -> None:
    cache = LocalCache(CacheConfig())
    stored(cache, "a")
    cache.invalidate("a")
    cache.invalidate("never-cached")
    assert cache.get("a", 0.0, 0.0) is None and cache.stats.invalidations == 1


def test_a_read_racing_an_invalidation_is_not_stored() -> None:
    cache = LocalCache(CacheConfig())
    ticket = cache.begin("a")
    cache.invalidate("a")  # a write landed while the read was in flight
    assert not cache.end("a", ticket, RAW, 0.0)
    assert cache.get("a", 0.0, 0.0) is None
    assert stored(cache, "a")  # the next read, begun after the invalidation, is stored


def test_a_read_racing_a_flush_is_not_stored() -> None:
    cache = LocalCache(CacheConfig())
    ticket = cache.begin("a")
    cache.flush()
    assert not cache.end("a", ticket, RAW, 0.0)
    assert len(cache) == 0 and cache.stats.flushes == 1


def test_overlapping_reads_are_judged_each_by_when_it_began() -> None:
    """Under concurrency a busy key always has a read in flight: one begun after the invalidation
    (so sent after the write) is kept, one begun before it never is, whatever the order they end in."""
    cache = LocalCache(CacheConfig())
    first = cache.begin("a")
    cache.invalidate("a")
    second = cache.begin("a")
    third = cache.begin("a")
    assert cache.end("a", second, RAW, 0.0)
    assert not cache.end("a", first, {b"old": b"1"}, 0.0)  # ends last, still not kept
    assert cache.get("a", 0.0, 0.0) == RAW
    cache.invalidate("a")
    assert not cache.end("a", third, RAW, 0.0)  # in flight across the second invalidation
    assert cache.get("a", 0.0, 0.0) is None
    assert stored(cache, "a")


def test_empty_reply_is_not_cached() -> None:
    cache = LocalCache(CacheConfig())
    assert not stored(cache, "a", {})
    assert not cache.end("b", cache.begin("b"), None, 0.0)  # a failed read
    assert len(cache) == 0


def test_flush_forgets_everything() -> None:
    cache = LocalCache(CacheConfig())
    stored(cache, "a")
    stored(cache, "b")
    cache.flush()
    assert len(cache) == 0 and cache.bytes == 0 and cache.get("a", 0.0, 0.0) is None


@pytest.mark.parametrize(
    ("option", "value"),
    [("max_entries", 0), ("max_bytes", -1), ("max_age", 0), ("ping_interval", -1.0), ("ping_timeout", 0)],
)
def test_bad_limits_are_configuration_errors(option: str, value: float) -> None:
    with pytest.raises(ConfigurationError, match=f"CacheConfig.{option}"):
        CacheConfig(**{option: value})  # type: ignore[arg-type]
