"""The asyncio fast lane (``sessionkit._async_lane``) against real servers: its own packing, hiredis
on the connection's stream, the deadline timer (a hung server), cancellation mid-reply, the pool
bound under concurrency, and a demoted server's READONLY reply."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
import redis
import redis.asyncio
from _counting import measure
from redis.exceptions import DataError

from sessionkit import AsyncRedisStore, SessionBackendUnavailable, _async_lane
from sessionkit._async_lane import AsyncLane, pack
from sessionkit.demo._children import scaled
from sessionkit.demo._servers import ServerProcess

SECRET = "lane-secret-0123456789abcdef"


class Text(str):
    pass


class Number(int):
    pass


@pytest.fixture
def server(own_server: ServerProcess) -> ServerProcess:
    return own_server


def short_timeouts(url: str, timeout: float = 0.3, **pool: object) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, **pool)


async def new_cookie(store: AsyncRedisStore, **data: object) -> str:
    session = await store.open(None)
    session.update(data)
    value = (await store.save(session)).value
    assert value
    return value


@pytest.mark.parametrize("args", [
    ("HGETALL", "sessionkit:s:abc"),
    ("EVALSHA", "0" * 40, 1, "k", "update", 1209600000, 2, "user", b'"ann"', "n", b"-7", "gone"),
    ("SET", "ключ", "ünïcode ✓", b"\r\n\x00\xff", 0, -1, 2**70, 1.5, 0.1, "x" * 300, b"y" * 70_000),
])
@pytest.mark.parametrize("packer", ["hiredis", "python"])
def test_pack_is_byte_for_byte_what_redis_py_sends(args: tuple[object, ...], packer: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if packer == "python":
        monkeypatch.setattr(_async_lane, "_c_pack", None)
    elif _async_lane._c_pack is None:
        pytest.fail("hiredis is not installed: pip install -e '.[all,dev]' (or sessionkit-redis[fast])")
    assert pack(args) == b"".join(redis.connection.Connection().pack_command(*args))


def test_pack_sends_subclasses_as_their_base_types() -> None:
    assert pack(("SET", Text("k"), Number(7), 1.5)) == pack(("SET", "k", 7, 1.5))


@pytest.mark.parametrize("bad", [None, True, object(), ["list"]])
def test_pack_refuses_what_redis_py_refuses(bad: object) -> None:
    with pytest.raises(DataError, match="cannot send"):
        pack(("SET", "k", bad))


def test_reads_and_writes_run_on_the_lane_with_hiredis(redis_url: str, key_prefix: str,
                                                       redis_client: redis.Redis) -> None:
    import hiredis  # noqa: F401  (in the test extras: a missing one fails here, loudly)

    async def scenario() -> tuple[dict[str, int], dict[str, int], int, bool]:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=False)
        cookie = await new_cookie(store, n=1)
        with measure(redis_client) as read:
            assert (await store.open(cookie))["n"] == 1
        with measure(redis_client) as write:
            session = await store.open(cookie)
            session["n"] = 2
            await store.save(session)
        lane = store._lane
        assert lane is not None
        lean = all(slot.reader is not None for slot in lane._slots)
        held = lane.connections
        await store.aclose()
        return read.commands, write.commands, held, lean

    read, write, held, lean = asyncio.run(scenario())
    assert read == {"hgetall": 1}
    assert write == {"hgetall": 1, "evalsha": 1, "hexists": 1, "hset": 1, "pexpire": 1}
    assert held == 1 and lean


def test_a_hung_server_fails_the_read_instead_of_hanging_it(server: ServerProcess, key_prefix: str) -> None:
    async def scenario() -> object:
        store = AsyncRedisStore(client=short_timeouts(server.url), secret_keys=SECRET, key_prefix=key_prefix,
                                local_cache=False)
        cookie = await new_cookie(store, user="ann")
        assert (await store.open(cookie))["user"] == "ann"  # the lane's connection is open
        assert server.pid is not None
        os.kill(server.pid, signal.SIGSTOP)  # accepts bytes, never answers
        try:
            with pytest.raises(SessionBackendUnavailable, match="Timeout"):
                # the guard only stops a hang from hanging the test run; the lane must end it first
                await asyncio.wait_for(store.open(cookie), scaled(60))
        finally:
            os.kill(server.pid, signal.SIGCONT)
        user = (await store.open(cookie))["user"]  # recovered, on a new connection
        await store.aclose()
        return user

    assert asyncio.run(scenario()) == "ann"


def test_a_read_cancelled_mid_reply_never_hands_its_reply_to_the_next_read(
        server: ServerProcess, key_prefix: str) -> None:
    async def scenario() -> tuple[object, object, int]:
        store = AsyncRedisStore(client=short_timeouts(server.url, timeout=30), secret_keys=SECRET,
                                key_prefix=key_prefix, local_cache=False)
        first = await new_cookie(store, who="first")
        second = await new_cookie(store, who="second")
        assert (await store.open(first))["who"] == "first"
        assert server.pid is not None
        os.kill(server.pid, signal.SIGSTOP)
        try:
            pending = asyncio.ensure_future(store.open(first))
            for _ in range(20):  # the request is sent in the task's first step; let it wait on the reply
                await asyncio.sleep(0.01)
            assert not pending.done()
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending
        finally:
            os.kill(server.pid, signal.SIGCONT)  # the server now answers the cancelled read
        await asyncio.sleep(0.1)
        read = (await store.open(second))["who"]
        again = (await store.open(first))["who"]
        held = store._lane.connections if store._lane is not None else -1
        await store.aclose()
        return read, again, held

    read, again, held = asyncio.run(scenario())
    assert (read, again) == ("second", "first")
    assert held == 1  # the cancelled read's connection was closed and reopened, not replaced


def test_concurrent_reads_use_a_few_lane_connections_within_the_pool_bound(
        redis_url: str, key_prefix: str, redis_client: redis.Redis) -> None:
    async def scenario() -> tuple[dict[str, int], int, int, list[object]]:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=False,
                                pool_size=8)
        cookies = [await new_cookie(store, i=i) for i in range(40)]
        with measure(redis_client) as cost:
            sessions = await asyncio.gather(*(store.open(c) for c in cookies))
        pool = store.client.connection_pool
        opened = len(pool._available_connections) + len(pool._in_use_connections)
        assert store._lane is not None
        held = store._lane.connections
        await store.aclose()
        return cost.commands, held, opened, [s["i"] for s in sessions]

    commands, held, opened, values = asyncio.run(scenario())
    assert values == list(range(40))
    assert commands == {"hgetall": 40}  # one round trip each, lane or pool
    assert 1 <= held <= 4  # at most half of the pool's 8
    assert opened <= 8


def test_a_readonly_reply_closes_the_lane_connections_too(server: ServerProcess, redis_client: redis.Redis,
                                                          key_prefix: str) -> None:
    """A plain client pointed at a server that was demoted: the READONLY reply to the write script is
    a 503, and no connection to that server is kept, the lane's included."""
    async def scenario() -> list[object]:
        store = AsyncRedisStore(server.url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=False)
        cookie = await new_cookie(store, a=1)
        admin = redis.Redis.from_url(server.url)
        try:
            admin.replicaof("127.0.0.1", redis_client.connection_pool.connection_kwargs["port"])
            session = await store.open(cookie)  # reads still work on a replica
            session["a"] = 2
            with pytest.raises(SessionBackendUnavailable, match="ReadOnlyError"):
                await store.save(session)
            others = [c for c in admin.client_list() if int(c["id"]) != admin.client_id()]
            admin.replicaof("NO", "ONE")
        finally:
            admin.close()
        await store.aclose()
        return others

    assert asyncio.run(scenario()) == []


def test_a_pool_of_one_runs_without_a_lane(redis_url: str) -> None:
    pool = redis.asyncio.BlockingConnectionPool.from_url(redis_url, max_connections=1)
    lane = AsyncLane(pool)

    async def scenario() -> object:
        reply = await lane.run(pack(("PING",)))
        await lane.aclose()
        await pool.aclose()
        return reply

    assert asyncio.run(scenario()) in (b"PONG", True, "PONG")
    assert lane.connections == 0


@pytest.mark.sentinel
def test_a_sentinel_master_connection_is_told_apart_for_readonly_replies(sentinel_group, redis_url: str) -> None:
    """A READONLY reply on a Sentinel master connection means the master was demoted: the lane
    retries after reconnecting (Sentinel names the new master), as redis-py's own connection does.
    This pins the redis-py attribute the lane reads to tell such connections apart."""
    from sessionkit._connect import async_client

    async def scenario() -> tuple[bool, bool]:
        sentinel, plain = async_client(sentinel_group.url, 2), async_client(redis_url, 2)
        try:
            a = await sentinel.connection_pool.get_connection()
            b = await plain.connection_pool.get_connection()
            found = _async_lane._follows_master(a), _async_lane._follows_master(b)
            await sentinel.connection_pool.release(a)
            await plain.connection_pool.release(b)
            return found
        finally:
            await sentinel.aclose()
            await plain.aclose()

    assert asyncio.run(scenario()) == (True, False)


@pytest.mark.sentinel
def test_the_lane_follows_a_sentinel_failover(sentinel_group) -> None:
    """The lane's connections to a killed master are closed; the same store reads and writes on the
    promoted replica (the reconnect asks the sentinels)."""
    async def scenario() -> tuple[list[object], object, int]:
        acked = AsyncRedisStore(sentinel_group.url, secret_keys=SECRET, key_prefix="alane:", wait_replicas=1,
                                local_cache=False)
        store = AsyncRedisStore(sentinel_group.url, secret_keys=SECRET, key_prefix="alane:", local_cache=False)
        cookies = [await new_cookie(acked, n=i) for i in range(5)]  # acknowledged by the replica
        assert [(await store.open(c))["n"] for c in cookies] == list(range(5))  # on the lane
        await asyncio.to_thread(sentinel_group.kill_master_and_wait_for_failover)
        after = [(await store.open(c))["n"] for c in cookies]
        session = await store.open(cookies[0])
        session["n"] = "written"
        await store.save(session)
        written = (await store.open(cookies[0]))["n"]
        held = store._lane.connections if store._lane is not None else 0
        await store.aclose()
        await acked.aclose()
        return after, written, held

    after, written, held = asyncio.run(scenario())
    assert after == list(range(5)) and written == "written"
    assert held == 1
