"""The tracking connection across a Sentinel failover: the cache is flushed, tracking follows the
new master."""

from __future__ import annotations

import time

from _topologies import SentinelGroup, wait_until

from sessionkit._cache import CacheConfig, LocalCache
from sessionkit._connect import sync_client
from sessionkit._tracking import Tracker, connection_factory


def test_sentinel_failover_flushes_and_tracks_the_new_master(sentinel_group: SentinelGroup) -> None:
    client = sync_client(sentinel_group.url)
    factory = connection_factory(client)
    assert factory is not None
    tracker = Tracker(factory, "failover:s:", LocalCache(CacheConfig()))
    try:
        key = "failover:s:one"
        client.hset(key, "n", "0")
        assert tracker.usable()
        ticket = tracker.cache.begin(key)
        assert tracker.cache.end(key, ticket, client.hgetall(key), time.monotonic())
        flushes = tracker.cache.stats.flushes
        sentinel_group.kill_master_and_wait_for_failover()
        # The loss is noticed by the next drain, before anything cached could be served.
        wait_until(lambda: not tracker.usable() or tracker.cache.stats.flushes > flushes, timeout=30,
                   what="loss noticed")
        assert tracker.cache.stats.flushes > flushes
        assert len(tracker.cache) == 0
        wait_until(tracker.usable, timeout=30, what="tracking on the new master")
        ticket = tracker.cache.begin(key)
        assert tracker.cache.end(key, ticket, client.hgetall(key), time.monotonic())
        client.hset(key, "n", "1")  # lands on the new master: its invalidation must reach us
        wait_until(lambda: tracker.usable() and len(tracker.cache) == 0, timeout=10,
                   what="invalidation from the new master")
        client.delete(key)
    finally:
        tracker.close()
        client.close()
