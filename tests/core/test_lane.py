"""The stores' fast lane for HGETALL and the write script, against a real server: one connection,
one round trip per command, the reconnect-and-retry, outages, and asyncio event loops."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis
from _counting import counting_client, measure

from sessionkit import AsyncRedisStore, CacheConfig, RedisStore, SessionBackendUnavailable

SECRET = "test-secret-0123456789abcdef"
QUIET = CacheConfig(ping_interval=3600.0)
WRITE = {"evalsha": 1, "hexists": 1, "hset": 1, "pexpire": 1}  # the one conditional write


def kill_store_connections(admin: redis.Redis) -> int:
    """Drop every normal connection but the admin's (a restarted proxy, an idle-timeout reaper)."""
    return int(admin.client_kill_filter(_type="normal", skipme=True))


@pytest.fixture
def sync_store(redis_url: str, key_prefix: str) -> Iterator[RedisStore]:
    store = RedisStore(client=counting_client(redis_url), secret_keys=SECRET, key_prefix=key_prefix,
                       local_cache=False)
    yield store
    store.close()


def new_cookie(store: RedisStore, **data: object) -> str:
    session = store.open(None)
    session.update(data)
    value = store.save(session).value
    assert value
    return value


def test_sync_reads_and_writes_run_on_one_connection_one_round_trip_each(
        sync_store: RedisStore, redis_client: redis.Redis) -> None:
    cookie = new_cookie(sync_store, n=0)
    for _ in range(20):
        session = sync_store.open(cookie)
        session["n"] = session["n"] + 1
        sync_store.save(session)
    with measure(redis_client) as read:
        assert sync_store.open(cookie)["n"] == 20
    with measure(redis_client) as write:
        session = sync_store.open(cookie)
        session["n"] = 21
        sync_store.save(session)
    assert (read.commands, read.round_trips) == ({"hgetall": 1}, 1)
    assert (write.commands, write.round_trips) == ({"hgetall": 1, **WRITE}, 2)


def test_sync_lane_reconnects_and_retries_once_after_a_dropped_connection(
        sync_store: RedisStore, redis_client: redis.Redis) -> None:
    cookie = new_cookie(sync_store, user="ann")
    assert sync_store.open(cookie)["user"] == "ann"
    assert kill_store_connections(redis_client) >= 1
    with measure(redis_client) as cost:
        assert sync_store.open(cookie)["user"] == "ann"  # no error reaches the request
    assert cost.commands == {"hgetall": 1}
    assert kill_store_connections(redis_client) >= 1
    session = sync_store.open(cookie)
    session["user"] = "bob"
    sync_store.save(session)
    assert sync_store.open(cookie)["user"] == "bob"


def test_async_reads_and_writes_are_one_command_each(redis_url: str, key_prefix: str,
                                                     redis_client: redis.Redis) -> None:
    async def scenario() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=QUIET)
        session = await store.open(None)
        session["n"] = 1
        cookie = (await store.save(session)).value
        with measure(redis_client) as miss:
            assert (await store.open(cookie))["n"] == 1
        with measure(redis_client) as write:  # its data is cached: the write alone
            session = await store.open(cookie)
            session["n"] = 2
            await store.save(session)
        uncached = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=False)
        with measure(redis_client) as read:
            assert (await uncached.open(cookie))["n"] == 2
        await store.aclose()
        await uncached.aclose()
        return miss.commands, write.commands, read.commands

    miss, write, read = asyncio.run(scenario())
    assert miss == {"hgetall": 1} and read == {"hgetall": 1}
    assert write == WRITE


def test_async_lane_reconnects_and_retries_once_after_a_dropped_connection(
        redis_url: str, key_prefix: str, redis_client: redis.Redis) -> None:
    async def scenario() -> tuple[object, dict[str, int], object]:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=False)
        session = await store.open(None)
        session["user"] = "ann"
        cookie = (await store.save(session)).value
        await store.open(cookie)
        kill_store_connections(redis_client)
        with measure(redis_client) as cost:
            after_read_kill = (await store.open(cookie))["user"]
        kill_store_connections(redis_client)
        session = await store.open(cookie)  # the read reconnects; the write then runs on it
        session["user"] = "bob"
        await store.save(session)
        kill_store_connections(redis_client)
        session = await store.open(cookie)
        written = session["user"]
        await store.aclose()
        return after_read_kill, cost.commands, written

    user, commands, written = asyncio.run(scenario())
    assert user == "ann" and commands == {"hgetall": 1}
    assert written == "bob"


def test_async_lane_outage_is_backend_unavailable_and_recovers(redis_url: str, key_prefix: str,
                                                               redis_server) -> None:
    store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=False)

    async def write(value: str, cookie: str | None = None) -> str:
        session = await store.open(cookie)
        session["user"] = value
        result = await store.save(session)
        return result.value or cookie or ""

    async def scenario() -> tuple[bool, bool, str]:
        cookie = await write("ann")
        redis_server.stop()
        try:
            await store.open(cookie)
            read_failed = False
        except SessionBackendUnavailable:
            read_failed = True
        redis_server.start()  # empty: the server keeps nothing on disk here
        cookie = await write("bob")
        user = (await store.open(cookie))["user"]
        write_ok = bool(cookie)
        await store.aclose()
        return read_failed, write_ok, user

    read_failed, write_ok, user = asyncio.run(scenario())
    assert read_failed and write_ok and user == "bob"


def test_one_async_store_serves_successive_event_loops(redis_url: str, key_prefix: str) -> None:
    """A store created once and used from several event loops (tests, ``asyncio.run`` per job)."""
    store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=False)

    async def create() -> str:
        session = await store.open(None)
        session["n"] = 1
        return (await store.save(session)).value or ""

    async def read(cookie: str) -> object:
        return (await store.open(cookie))["n"]

    cookie = asyncio.run(create())
    assert asyncio.run(read(cookie)) == 1
    assert asyncio.run(read(cookie)) == 1
    asyncio.run(store.aclose())
