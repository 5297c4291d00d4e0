"""An expired session is never served from the local cache, whatever Redis has reclaimed yet.

The server here runs with active expiry off (``DEBUG SET-ACTIVE-EXPIRE 0``), so a key whose TTL has
run out stays in memory until something touches it: Redis sends no invalidation for it. That is the
worst case of a busy server whose background expiry lags. A per-session lifetime shorter than the
idle timeout (``Session.ttl``, Django's ``set_expiry``) must still end on time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from drivers import django_settings

from sessionkit import AsyncRedisStore, CacheConfig, RedisStore
from sessionkit._cache import LocalCache
from sessionkit.demo._servers import ServerProcess

SECRET = "test-secret-0123456789abcdef"
LIFETIME = 1.0  # seconds: the per-session lifetime under test
QUIET = CacheConfig(ping_interval=3600.0)


@pytest.fixture(scope="module")
def lazy_expiry_url() -> Iterator[str]:
    server = ServerProcess(extra_config=["enable-debug-command local"])
    try:
        server.start()
        admin = redis.Redis.from_url(server.url)
        admin.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        admin.close()
        yield server.url
    finally:
        server.cleanup()


def wait_past(deadline: float) -> None:
    """Until the wall clock is past ``deadline`` (the session's own expiry)."""
    while time.time() <= deadline:
        time.sleep(0.05)


def still_in_memory(url: str) -> int:
    """Keys the server still holds (DBSIZE does not touch them, so it expires none)."""
    admin = redis.Redis.from_url(url)
    try:
        return int(admin.dbsize())
    finally:
        admin.close()


def test_sync_store_never_serves_a_session_past_its_own_lifetime(lazy_expiry_url: str) -> None:
    store = RedisStore(lazy_expiry_url, secret_keys=SECRET, key_prefix=f"exp{uuid.uuid4().hex[:8]}:",
                       local_cache=QUIET)
    try:
        session = store.open(None)
        session["user"] = "ann"
        session.ttl = LIFETIME  # shorter than the idle timeout (14 days)
        cookie = store.save(session).value
        deadline = time.time() + LIFETIME
        assert store.open(cookie)["user"] == "ann"  # read from Redis, kept
        assert store.open(cookie)["user"] == "ann"  # from memory
        assert store.local_cache is not None and store.local_cache.cache.stats.hits >= 1
        wait_past(deadline)
        assert still_in_memory(lazy_expiry_url) >= 1  # Redis has not expired it: no invalidation
        expired = store.open(cookie)
        assert "user" not in expired and expired.new
    finally:
        store.close()


def test_async_store_never_serves_a_session_past_its_own_lifetime(lazy_expiry_url: str) -> None:
    async def scenario() -> tuple[bool, bool, int]:
        store = AsyncRedisStore(lazy_expiry_url, secret_keys=SECRET,
                                key_prefix=f"aexp{uuid.uuid4().hex[:8]}:", local_cache=QUIET)
        try:
            session = await store.open(None)
            session["user"] = "ann"
            session.ttl = LIFETIME
            cookie = (await store.save(session)).value
            deadline = time.time() + LIFETIME
            await store.open(cookie)
            cached = (await store.open(cookie))["user"] == "ann"
            assert store.local_cache is not None and store.local_cache.cache.stats.hits >= 1
            await asyncio.to_thread(wait_past, deadline)
            held = still_in_memory(lazy_expiry_url)
            expired = await store.open(cookie)
            return cached, "user" not in expired and expired.new, held
        finally:
            await store.aclose()

    cached, gone, held = asyncio.run(scenario())
    assert cached and held >= 1
    assert gone


def test_django_set_expiry_shorter_than_the_cookie_age_ends_on_time(lazy_expiry_url: str) -> None:
    django_settings.configure()
    from django.test import override_settings

    from sessionkit.adapters.django import SessionStore

    prefix = f"dexp{uuid.uuid4().hex[:8]}:"
    with override_settings(SESSIONKIT_REDIS_URL=lazy_expiry_url, SESSIONKIT_KEY_PREFIX=prefix,
                           SESSIONKIT_LOCAL_CACHE=QUIET):
        s = SessionStore()
        s["user"] = "ann"
        s.set_expiry(int(LIFETIME))
        s.save()
        deadline = time.time() + LIFETIME
        assert SessionStore(s.session_key)["user"] == "ann"
        assert SessionStore(s.session_key)["user"] == "ann"  # from memory
        wait_past(deadline)
        assert still_in_memory(lazy_expiry_url) >= 1
        assert "user" not in SessionStore(s.session_key)


def test_max_age_counts_on_the_monotonic_clock() -> None:
    """A wall clock stepped back (NTP, a VM resumed) must not keep an entry past ``max_age``."""
    mono, wall = [100.0], [1_000_000.0]
    cache = LocalCache(CacheConfig(max_age=10.0))
    raw = {b"user": b'"ann"'}
    cache.end("k", cache.begin("k"), raw, mono[0], expires_at=wall[0] + 3600)
    wall[0] -= 3600  # the wall clock steps back an hour
    mono[0] += 9.9
    assert cache.get("k", mono[0], wall[0]) == raw
    mono[0] += 0.1
    assert cache.get("k", mono[0], wall[0]) is None
