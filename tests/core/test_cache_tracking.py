"""The tracking connection against a real server: invalidations, drain before serve, flush on doubt."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from _relay import Relay
from _topologies import wait_until

from sessionkit._cache import CacheConfig, LocalCache
from sessionkit._tracking import CLIENT_NAME, Tracker, connection_factory
from sessionkit.demo._servers import ServerProcess

Make = Callable[..., Tracker]


@pytest.fixture
def make_tracker(redis_client: redis.Redis, key_prefix: str) -> Iterator[Make]:
    trackers: list[Tracker] = []

    def make(client: redis.Redis | None = None, clock: Callable[[], float] = time.monotonic,
             **limits: float) -> Tracker:
        factory = connection_factory(client or redis_client)
        assert factory is not None
        tracker = Tracker(factory, key_prefix + "s:", LocalCache(CacheConfig(**limits)), clock=clock)
        trackers.append(tracker)
        return tracker

    yield make
    for tracker in trackers:
        tracker.close()


def cache_read(tracker: Tracker, client: redis.Redis, key: str) -> dict[bytes, bytes] | None:
    """What a store does on a read: drain, try the cache, else read Redis and offer the reply."""
    cache = tracker.cache
    if tracker.usable():
        hit = cache.get(key, time.monotonic(), time.time())
        if hit is not None:
            return hit
        ticket = cache.begin(key)
        raw = client.hgetall(key)
        if tracker.usable():
            cache.end(key, ticket, raw, time.monotonic())
        return raw
    return client.hgetall(key)


def test_write_by_another_client_invalidates(make_tracker: Make, redis_client: redis.Redis,
                                             redis_url: str, key_prefix: str) -> None:
    tracker = make_tracker()
    key = key_prefix + "s:one"
    redis_client.hset(key, "n", "0")
    assert cache_read(tracker, redis_client, key) == {b"n": b"0"}
    assert tracker.usable() and tracker.cache.get(key, time.monotonic(), time.time()) == {b"n": b"0"}
    other = redis.Redis.from_url(redis_url)
    other.hset(key, "n", "1")
    other.close()
    assert tracker.usable()  # no sleep: the invalidation is on the socket before the writer's reply
    assert tracker.cache.get(key, time.monotonic(), time.time()) is None
    assert cache_read(tracker, redis_client, key) == {b"n": b"1"}


def test_drain_before_serve_never_serves_an_older_value(make_tracker: Make, redis_url: str,
                                                        key_prefix: str) -> None:
    """Two replicas, alternating: write on one, read through the other's cache at once; 0 stale."""
    reader, writer = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    tracker = make_tracker(reader)
    key = key_prefix + "s:ryw"
    writer.hset(key, "n", "0")
    stale = hits = 0
    for i in range(1, 501):
        writer.hset(key, "n", str(i))
        for _ in range(3):  # the first read fills the cache, the next two are served from it
            raw = cache_read(tracker, reader, key)
            stale += raw != {b"n": str(i).encode()}
    hits = tracker.cache.stats.hits
    reader.close()
    writer.close()
    assert stale == 0
    assert hits >= 500  # the cache really served reads in between


def test_expiry_in_redis_invalidates(make_tracker: Make, redis_client: redis.Redis, key_prefix: str) -> None:
    tracker = make_tracker()
    key = key_prefix + "s:exp"
    redis_client.hset(key, "n", "0")
    cache_read(tracker, redis_client, key)
    redis_client.pexpire(key, 50)
    wait_until(lambda: not redis_client.exists(key), timeout=10, what="key expiry")
    wait_until(lambda: tracker.usable() and tracker.cache.stats.invalidations == 1, timeout=10,
               what="invalidation of the expired key")
    assert tracker.cache.get(key, time.monotonic(), time.time()) is None


def test_keys_outside_the_prefix_do_not_invalidate(make_tracker: Make, redis_client: redis.Redis,
                                                   key_prefix: str) -> None:
    tracker = make_tracker()
    key = key_prefix + "s:mine"
    redis_client.hset(key, "n", "0")
    cache_read(tracker, redis_client, key)
    redis_client.sadd(key_prefix + "u:someone", "x")  # the user index is not a session key
    redis_client.set(f"unrelated:{uuid.uuid4().hex}", "1")
    assert tracker.usable() and tracker.cache.get(key, time.monotonic(), time.time()) is not None


def test_flushdb_flushes_the_cache(make_tracker: Make, key_prefix: str) -> None:
    server = ServerProcess()
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        tracker = make_tracker(client)
        key = key_prefix + "s:f"
        client.hset(key, "n", "0")
        cache_read(tracker, client, key)
        client.flushdb()
        wait_until(lambda: tracker.usable() and len(tracker.cache) == 0, timeout=10, what="flush")
        assert tracker.cache.stats.flushes == 2  # one at connect, one for FLUSHDB
        client.close()
    finally:
        server.cleanup()


def test_killed_tracking_connection_flushes_then_reconnects(make_tracker: Make, redis_client: redis.Redis,
                                                            key_prefix: str, caplog) -> None:
    tracker = make_tracker()
    key = key_prefix + "s:k"
    redis_client.hset(key, "n", "0")
    cache_read(tracker, redis_client, key)
    assert len(tracker.cache) == 1
    killed = redis_client.client_kill_filter(_type="pubsub")
    assert killed >= 1
    with caplog.at_level(logging.WARNING, logger="sessionkit"):
        wait_until(lambda: len(tracker.cache) == 0 or not tracker.usable(), timeout=10, what="loss noticed")
    assert len(tracker.cache) == 0
    assert "local session cache flushed" in caplog.text
    wait_until(tracker.usable, timeout=10, what="tracking re-established")
    redis_client.hset(key, "n", "1")  # tracking works again after the reconnect
    assert cache_read(tracker, redis_client, key) == {b"n": b"1"}
    redis_client.hset(key, "n", "2")
    assert cache_read(tracker, redis_client, key) == {b"n": b"2"}


def test_server_restart_flushes(make_tracker: Make, key_prefix: str) -> None:
    server = ServerProcess()
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        tracker = make_tracker(client)
        key = key_prefix + "s:r"
        client.hset(key, "n", "0")
        cache_read(tracker, client, key)
        server.stop()
        wait_until(lambda: not tracker.usable(), timeout=10, what="loss noticed")
        assert len(tracker.cache) == 0
        server.start()
        client.hset(key, "n", "after")
        wait_until(tracker.usable, timeout=15, what="tracking back after restart")
        assert cache_read(tracker, client, key) == {b"n": b"after"}
        client.close()
    finally:
        server.cleanup()


def test_unanswered_ping_means_doubt(make_tracker: Make, redis_client: redis.Redis, key_prefix: str) -> None:
    tracker = make_tracker(ping_interval=0.05, ping_timeout=0.3)
    key = key_prefix + "s:p"
    redis_client.hset(key, "n", "0")
    cache_read(tracker, redis_client, key)
    wait_until(lambda: tracker.usable() and tracker.pongs > 0, timeout=10, interval=0.05,
               what="a PING answered")
    redis_client.client_pause(3000, all=True)  # the server stops answering clients for 3 s
    try:
        wait_until(lambda: not tracker.usable(), timeout=10, interval=0.05, what="unanswered PING noticed")
        assert len(tracker.cache) == 0
    finally:
        redis_client.client_unpause()


def test_tracking_refused_turns_the_cache_off(redis_client: redis.Redis, redis_url: str, key_prefix: str,
                                              caplog) -> None:
    user, password = f"nocache-{uuid.uuid4().hex[:8]}", "pw-" + uuid.uuid4().hex
    redis_client.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=["*"], channels=["*"],
                             commands=["+@all", "-client|tracking"])
    limited = redis.Redis.from_url(redis_url, username=user, password=password)
    try:
        factory = connection_factory(limited)
        assert factory is not None
        tracker = Tracker(factory, key_prefix + "s:", LocalCache(CacheConfig()))
        with caplog.at_level(logging.WARNING, logger="sessionkit"):
            assert not tracker.usable()
            assert not tracker.usable()
        assert tracker.state == "refused"
        assert caplog.text.count("refused CLIENT TRACKING") == 1
        tracker.close()
    finally:
        limited.close()
        redis_client.acl_deluser(user)


def test_asyncio_client_gets_a_tracking_connection_too(redis_url: str, redis_client: redis.Redis,
                                                       key_prefix: str) -> None:
    import asyncio

    import redis.asyncio

    async def scenario() -> tuple[bool, int, bool]:
        client = redis.asyncio.Redis.from_url(redis_url)
        factory = connection_factory(client)
        assert factory is not None
        tracker = Tracker(factory, key_prefix + "s:", LocalCache(CacheConfig()))
        key = key_prefix + "s:a"
        await client.hset(key, "n", "0")
        up = await tracker.ausable()
        ticket = tracker.cache.begin(key)
        tracker.cache.end(key, ticket, await client.hgetall(key), time.monotonic())
        await client.hset(key, "n", "1")
        still_up = await tracker.ausable()
        left = len(tracker.cache)
        tracker.close()
        await client.aclose()
        return up, left, still_up

    up, left, still_up = asyncio.run(scenario())
    assert up and still_up and left == 0


def test_store_cache_checks_expiry_from_the_session_metadata(redis_client: redis.Redis,
                                                             key_prefix: str) -> None:
    from sessionkit._cached import StoreCache
    from sessionkit._config import StoreConfig

    clock = [1_000_000.0]
    config = StoreConfig(key_prefix=key_prefix, idle_timeout=100.0, absolute_timeout=1000.0)
    factory = connection_factory(redis_client)
    assert factory is not None
    cached = StoreCache(CacheConfig(max_age=10_000.0), config, factory, clock=lambda: clock[0],
                        wall=lambda: clock[0])
    key = config.session_key("meta")
    # created 950 s ago, last written 50 s ago
    redis_client.hset(key, mapping={"user": '"ann"', "\x00m": f"1|{clock[0] - 950}|{clock[0] - 50}|"})
    try:
        assert cached.lookup(key) is None
        ticket = cached.begin(key)
        cached.offer(key, ticket, redis_client.hgetall(key))
        assert cached.lookup(key) is not None
        clock[0] += 49.9
        assert cached.lookup(key) is not None
        clock[0] += 0.1  # idle for 100 s: expired, whatever the cache's own max_age says
        assert cached.lookup(key) is None and len(cached.cache) == 0
        redis_client.hset(key, "\x00m", f"1|{clock[0] - 999.5}|{clock[0]}|")
        assert cached.lookup(key) is None  # a store reads through lookup (drain) before begin
        cached.offer(key, cached.begin(key), redis_client.hgetall(key))
        assert cached.lookup(key) is not None
        clock[0] += 0.5  # 1000 s since creation: the absolute lifetime is over
        assert cached.lookup(key) is None
        cached.offer(key, cached.begin(key), {b"x": b"1"})  # no metadata: never served
        assert cached.lookup(key) is None
    finally:
        cached.close()


def test_a_forked_child_builds_its_own_tracking_connection(make_tracker: Make, redis_client: redis.Redis,
                                                           key_prefix: str) -> None:
    import os

    tracker = make_tracker()
    key = key_prefix + "s:fork"
    redis_client.hset(key, "n", "0")
    cache_read(tracker, redis_client, key)
    url = redis_client.connection_pool.connection_kwargs

    def trackers() -> int:
        admin = redis.Redis(host=url["host"], port=url["port"])
        return sum(c["name"] == CLIENT_NAME for c in admin.client_list())

    before = trackers()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery here, only the verdict through the pipe
        ok = len(tracker.cache) == 0 and tracker.state == "down" and tracker.usable()
        ok = ok and trackers() == before + 1  # its own, beside the parent's
        os.write(write_end, b"1" if ok else b"0")
        os._exit(0)
    os.close(write_end)
    verdict = os.read(read_end, 1)
    os.waitpid(pid, 0)
    os.close(read_end)
    assert verdict == b"1"
    redis_client.hset(key, "n", "1")  # the parent's connection still works after the child's exit
    assert tracker.usable() and tracker.cache.get(key, time.monotonic(), time.time()) is None


@pytest.mark.parametrize("hiredis_reader", [True, False], ids=["own-hiredis-reader", "redis-py-reads"])
def test_both_ways_of_reading_the_tracking_connection_apply_every_message(
        make_tracker: Make, redis_client: redis.Redis, key_prefix: str, hiredis_reader: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With hiredis the tracker reads its socket itself; without it (or over TLS) redis-py does."""
    import sessionkit._tracking as tracking

    if not hiredis_reader:
        monkeypatch.setattr(tracking, "hiredis", None)
    elif tracking.hiredis is None:
        pytest.fail("hiredis is a dev requirement: pip install -e '.[all,dev]'")
    tracker = make_tracker(ping_interval=0.05)
    keys = [f"{key_prefix}s:both{i}" for i in range(300)]
    for key in keys:
        redis_client.hset(key, "n", "0")
        cache_read(tracker, redis_client, key)
    assert len(tracker.cache) == 300 and tracker.reads_socket == hiredis_reader
    pipe = redis_client.pipeline(transaction=False)
    for key in keys:  # 300 invalidations at once: more than one recv's worth is not needed, but
        pipe.hset(key, "n", "1")  # every one must be applied before anything is served
    pipe.execute()
    assert tracker.usable() and len(tracker.cache) == 0
    assert tracker.cache.stats.invalidations == 300
    wait_until(lambda: tracker.usable() and tracker.pongs > 0, timeout=10, interval=0.05,
               what="a PONG on the tracking connection")
    assert tracker.up


def test_noloop_does_not_cover_script_writes(redis_client: redis.Redis, key_prefix: str) -> None:
    """Why a write leaves no warm copy behind (docs/cache.md, "Writes"): in broadcast mode only
    NOLOOP could tell this process's own change of a key from a foreign one merged into the same
    message, and Redis still reports a change made by a Lua script (every sessionkit write is one)."""
    import hiredis  # in the test extras (sessionkit-redis[fast]): a missing one fails here, loudly
    pool = redis_client.connection_pool
    sock = socket.create_connection((pool.connection_kwargs["host"], pool.connection_kwargs["port"]))
    reader = hiredis.Reader()

    def receive(out: list[object], done: Callable[[], bool]) -> None:
        sock.settimeout(10)
        while not done():
            reader.feed(sock.recv(65536))
            while (message := reader.gets()) is not False:
                out.append(message)

    def until_pong(*command: object) -> list[object]:
        """Send ``command``, wait for its reply, then PING: everything received before the PONG
        (a push caused by the command is sent in the event-loop pass that ran it, and the PING,
        sent after the reply came, runs in a later pass)."""
        out: list[object] = []
        sock.sendall(hiredis.pack_command(command))
        receive(out, lambda: any(not isinstance(m, hiredis.PushNotification) for m in out))
        sock.sendall(hiredis.pack_command(("PING",)))
        receive(out, lambda: bool(out) and out[-1] == b"PONG")
        return out[:-1]

    key = f"{key_prefix}s:noloop"
    try:
        assert until_pong("HELLO", "3")
        assert until_pong("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", f"{key_prefix}s:", "NOLOOP") == [b"OK"]
        assert until_pong("HSET", key, "a", "1") == [1]  # its own plain write: not reported back
        pushed = until_pong("EVAL", "return redis.call('HSET', KEYS[1], 'a', ARGV[1])", 1, key, "2")
        assert pushed == [0, [b"invalidate", [key.encode()]]]  # a script's write: reported
    finally:
        sock.close()


@pytest.mark.parametrize("hiredis_reader", [True, False], ids=["own-hiredis-reader", "redis-py-reads"])
def test_a_close_queued_behind_a_pong_is_still_noticed(make_tracker: Make, redis_client: redis.Redis,
                                                       key_prefix: str, hiredis_reader: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis answers a PING, then drops the connection, then a write lands: the next drain reads
    the PONG *and* the end of the stream, so nothing older than the write is served.

    (A drain that stopped after the PONG's short read served the cached copy once: a stale read
    after the tracking connection was killed.)"""
    import sessionkit._tracking as tracking

    if not hiredis_reader:
        monkeypatch.setattr(tracking, "hiredis", None)
    now = [0.0]
    tracker = make_tracker(clock=lambda: now[0], ping_interval=1.0, ping_timeout=60)
    key = key_prefix + "s:pong"
    redis_client.hset(key, "n", "0")
    assert cache_read(tracker, redis_client, key) == {b"n": b"0"}
    assert tracker.reads_socket == hiredis_reader
    now[0] += 0.6  # past half the interval: this drain sends a PING and does not wait for it
    assert tracker.usable() and tracker.barriers == 0

    def tracking_client() -> dict:
        (entry,) = [c for c in redis_client.client_list() if c.get("name") == CLIENT_NAME]
        return entry

    def pong_written() -> bool:  # Redis ran the PING and its reply left the output buffer
        entry = tracking_client()
        return entry["cmd"] == "ping" and entry["obl"] == "0" and entry["oll"] == "0"

    wait_until(pong_written, timeout=10, interval=0.01, what="the PONG sent to the tracker")
    redis_client.execute_command("CLIENT", "KILL", "ID", tracking_client()["id"])
    redis_client.hset(key, "n", "1")  # no invalidation can reach the killed connection
    served = tracker.cache.get(key, now[0], time.time()) if tracker.usable() else None
    assert served is None
    assert len(tracker.cache) == 0 and not tracker.up
    assert cache_read(tracker, redis_client, key) == {b"n": b"1"}


def _port_of(client: redis.Redis) -> int:
    port = client.connection_pool.connection_kwargs.get("port")
    assert isinstance(port, int), "these tests need the server on a loopback TCP port"
    return port


def _through(relay: Relay, redis_client: redis.Redis) -> redis.Redis:
    """A client whose connections (and so its tracking connection) go through ``relay``."""
    kwargs = redis_client.connection_pool.connection_kwargs
    return redis.Redis(host="127.0.0.1", port=relay.port, db=kwargs.get("db", 0))


def _other_writes(client: redis.Redis, key_prefix: str, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.hset(f"{key_prefix}s:other{i}", "n", "1")
    pipe.execute()


@pytest.mark.parametrize("flavour", ["sync", "asyncio"])
def test_a_backlogged_stream_is_read_to_a_barrier_before_serving(make_tracker: Make, redis_client: redis.Redis,
                                                                 key_prefix: str, flavour: str) -> None:
    """An idle process's tracking stream falls behind (other sessions were written meanwhile, and
    the link only delivers part of it); then its session is written and the write acknowledged.
    The next read must not serve the older copy: after a drain that applied many invalidations,
    the store waits for a PING's answer, which Redis queues behind every invalidation before it."""
    import asyncio

    with Relay(_port_of(redis_client)) as relay, _through(relay, redis_client) as via:
        tracker = make_tracker(via, ping_interval=60, ping_timeout=60)
        key = key_prefix + "s:mine"
        redis_client.hset(key, "n", "0")
        assert cache_read(tracker, redis_client, key) == {b"n": b"0"}
        relay.pace(16384, 0.05)  # ~320 KB/s: the backlog below takes seconds to arrive
        before = relay.to_client
        _other_writes(redis_client, key_prefix, 10_000)  # ~1 MB of invalidations
        redis_client.hset(key, "n", "1")  # acknowledged: its invalidation is last in the queue
        wait_until(lambda: relay.to_client - before >= 16384, timeout=30, interval=0.01,
                   what="the first part of the backlog")
        usable = tracker.usable() if flavour == "sync" else asyncio.run(tracker.ausable())
        served = tracker.cache.get(key, time.monotonic(), time.time()) if usable else None
        assert served is None  # not {b"n": b"0"}
        assert tracker.barriers == 1 and tracker.up
        relay.thaw()
        assert cache_read(tracker, redis_client, key) == {b"n": b"1"}
        tracker.close()  # before the relay goes


def test_a_silent_connection_is_not_trusted_past_the_ping_interval(make_tracker: Make, redis_client: redis.Redis,
                                                                  key_prefix: str) -> None:
    """The link stops delivering without closing (a partition, a hung proxy) and a write lands: once
    the last answer from Redis is ``ping_interval`` old, a read first waits for a PING's answer
    (``ping_timeout`` at most), gets none, and flushes instead of serving what it holds."""
    now = [0.0]
    with Relay(_port_of(redis_client)) as relay, _through(relay, redis_client) as via:
        tracker = make_tracker(via, clock=lambda: now[0], ping_interval=1.0, ping_timeout=0.5)
        key = key_prefix + "s:quiet"
        redis_client.hset(key, "n", "0")
        assert cache_read(tracker, redis_client, key) == {b"n": b"0"}
        relay.freeze()
        redis_client.hset(key, "n", "1")  # its invalidation waits in the frozen link
        now[0] += 0.9  # recent enough: served (at most ping_interval after the last answer)
        assert tracker.usable()
        now[0] += 0.2
        served = tracker.cache.get(key, now[0], time.time()) if tracker.usable() else None
        assert served is None  # not {b"n": b"0"}
        assert len(tracker.cache) == 0 and not tracker.up


def test_a_busy_process_never_waits_for_a_ping(make_tracker: Make) -> None:
    """Reads more often than every half ``ping_interval``: each PING goes out after half the
    interval and is answered before the interval is over, so no read waits for a barrier."""
    now = [0.0]
    tracker = make_tracker(clock=lambda: now[0], ping_interval=1.0)
    assert tracker.usable()
    for step in range(1, 11):
        now[0] += 0.3  # every second step is half an interval after the last answer: a PING
        assert tracker.usable()
        wait_until(lambda: tracker.usable() and tracker.pongs >= step // 2, timeout=10, interval=0.01,
                   what=f"the PONG of step {step}")
    assert tracker.pongs == 5 and tracker.barriers == 0


def test_a_client_with_health_checks_keeps_its_tracking_connection(make_tracker: Make, redis_url: str,
                                                                   redis_client: redis.Redis, key_prefix: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``health_check_interval`` on the app's client is not carried over: redis-py's own PING on
    the subscribed connection would read the tracker's PONG as a bad answer and reconnect it."""
    import sessionkit._tracking as tracking

    monkeypatch.setattr(tracking, "hiredis", None)  # redis-py reads the connection (as over TLS)
    with redis.Redis.from_url(redis_url, health_check_interval=1) as checked:
        tracker = make_tracker(checked, ping_interval=0.5)
        key = key_prefix + "s:hc"
        redis_client.hset(key, "n", "0")
        assert cache_read(tracker, redis_client, key) == {b"n": b"0"}
        time.sleep(1.2)  # idle past the health-check interval: the next PING would trigger one
        assert tracker.usable()
        assert tracker.pongs >= 1 and tracker.cache.stats.flushes == 1  # the flush at connect only
        redis_client.hset(key, "n", "1")
        assert tracker.usable() and tracker.cache.get(key, time.monotonic(), time.time()) is None


def test_a_closed_tracker_does_not_reconnect(make_tracker: Make, redis_client: redis.Redis) -> None:
    """``close()`` while a reconnect is about to run in a worker thread: it opens nothing."""
    tracker = make_tracker()
    assert tracker.usable()
    tracker.close()
    tracker.connect()
    assert tracker.state == "down" and not tracker.usable()
    assert not [c for c in redis_client.client_list() if c.get("name") == CLIENT_NAME]
