"""The stores with the local cache on, against a real server: command counts, read-your-writes across
two stores ("replicas"), the lost-update and read-clobber probes, tracking refused, the docs snippet."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio
from _counting import counting_client, measure

from sessionkit import AsyncRedisStore, CacheConfig, JSONSerializer, OperationEvent, RedisStore

SECRET = "test-secret-0123456789abcdef"
DOCS = Path(__file__).resolve().parents[2] / "docs"
MakeStore = Callable[..., RedisStore]
# The tracking connection PINGs every ping_interval; no PING may land inside a measured window.
QUIET = CacheConfig(ping_interval=3600.0)


@pytest.fixture
def make_store(redis_url: str, key_prefix: str) -> Iterator[MakeStore]:
    stores: list[RedisStore] = []

    def make(**options: object) -> RedisStore:
        options.setdefault("secret_keys", SECRET)
        options.setdefault("key_prefix", key_prefix)
        options.setdefault("local_cache", QUIET)
        store = RedisStore(client=counting_client(redis_url), **options)  # type: ignore[arg-type]
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def new_cookie(store: RedisStore, **data: object) -> str:
    session = store.open(None)
    session.update(data)
    value = store.save(session).value
    assert value
    return value


def read(store: RedisStore, cookie: str, key: str = "n") -> object:
    session = store.open(cookie)
    value = session.get(key)
    store.save(session)
    return value


def test_cache_is_on_by_default_and_off_by_one_setting(make_store: MakeStore, redis_url: str) -> None:
    default = RedisStore(redis_url, secret_keys=SECRET)
    assert default.local_cache is not None and default.local_cache.cache.config == CacheConfig()
    default.close()
    assert make_store(local_cache=False).local_cache is None
    tuned = make_store(local_cache=CacheConfig(max_entries=5))
    assert tuned.local_cache is not None and tuned.local_cache.cache.config.max_entries == 5


def test_warm_cached_read_costs_zero_commands(make_store: MakeStore, redis_client: redis.Redis) -> None:
    store = make_store()
    cookie = new_cookie(store, n=1)
    assert read(store, cookie) == 1  # fills the cache
    with measure(redis_client) as cost:
        for _ in range(10):
            assert read(store, cookie) == 1
    assert cost.commands == {} and cost.round_trips == 0


def test_uncached_store_reads_redis_every_time(make_store: MakeStore, redis_client: redis.Redis) -> None:
    store = make_store(local_cache=False)
    cookie = new_cookie(store, n=1)
    read(store, cookie)
    with measure(redis_client) as cost:
        for _ in range(10):
            read(store, cookie)
    assert cost.commands == {"hgetall": 10}


def test_write_of_a_cached_session_is_one_round_trip(make_store: MakeStore, redis_client: redis.Redis) -> None:
    store = make_store()
    cookie = new_cookie(store, n=1)
    read(store, cookie)
    with measure(redis_client) as cost:
        session = store.open(cookie)
        session["n"] = 2
        store.save(session)
    assert cost.round_trips == 1 and "hgetall" not in cost.commands
    assert read(store, cookie) == 2  # this store's own write is never hidden by its cache


def test_read_your_writes_across_two_stores(make_store: MakeStore) -> None:
    """Alternating: write on replica A, read on replica B at once; B never serves an older value."""
    a, b = make_store(), make_store()
    cookie = new_cookie(a, n=0)
    stale = 0
    for i in range(1, 301):
        writer, reader = (a, b) if i % 2 else (b, a)
        session = writer.open(cookie)
        session["n"] = i
        writer.save(session)
        stale += sum(read(reader, cookie) != i for _ in range(3))
    assert stale == 0
    hits = sum(s.local_cache.cache.stats.hits for s in (a, b) if s.local_cache)
    assert hits >= 300  # the reads in between were served from memory


def test_logout_on_another_store_is_seen_at_once(make_store: MakeStore) -> None:
    a, b = make_store(), make_store()
    cookie = new_cookie(a, user="ann")
    assert read(b, cookie, "user") == "ann"
    session = a.open(cookie)
    session.destroy()
    a.save(session)
    assert read(b, cookie, "user") is None


def _concurrently(calls: list[Callable[[], object]]) -> None:
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


@pytest.mark.parametrize("replicas", [1, 2])
def test_fifty_concurrent_writers_of_different_keys_lose_nothing(make_store: MakeStore, replicas: int) -> None:
    stores = [make_store() for _ in range(replicas)]
    cookie = new_cookie(stores[0], base=1)
    for store in stores:
        read(store, cookie, "base")  # every replica has the session cached

    def write(i: int) -> None:
        store = stores[i % replicas]
        session = store.open(cookie)
        session[f"k{i}"] = i
        store.save(session)

    _concurrently([lambda i=i: write(i) for i in range(50)])
    final = dict(make_store(local_cache=False).open(cookie))
    assert [i for i in range(50) if final.get(f"k{i}") != i] == []
    for store in stores:  # and what each replica serves from memory now is the same
        assert dict(store.open(cookie)) == final


@pytest.mark.parametrize("replicas", [1, 2])
def test_a_write_racing_reads_survives(make_store: MakeStore, replicas: int) -> None:
    stores = [make_store() for _ in range(replicas)]
    survived = 0
    for _ in range(5):
        cookie = new_cookie(stores[0], x="old")
        for store in stores:
            read(store, cookie, "x")

        def write(cookie: str = cookie) -> None:
            session = stores[-1].open(cookie)
            session["x"] = "new"
            stores[-1].save(session)

        calls: list[Callable[[], object]] = [
            lambda i=i, cookie=cookie: read(stores[i % replicas], cookie, "x") for i in range(49)
        ]
        calls.insert(24, write)
        _concurrently(calls)
        survived += all(read(store, cookie, "x") == "new" for store in stores)
    assert survived == 5


def test_hooks_see_cache_events(make_store: MakeStore) -> None:
    events: list[OperationEvent] = []
    store = make_store(hooks=[events.append])
    cookie = new_cookie(store, n=1)
    read(store, cookie)
    read(store, cookie)
    outcomes = [e.outcome for e in events if e.operation == "cache"]
    assert outcomes == ["flush", "miss", "hit"]  # flush: tracking established, cache empty


def test_tracking_refused_turns_the_cache_off_with_one_log_line(
    redis_url: str, redis_client: redis.Redis, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    user, password = f"nocache-{uuid.uuid4().hex[:8]}", "pw-" + uuid.uuid4().hex
    redis_client.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=["*"], channels=["*"],
                             commands=["+@all", "-client|tracking"])
    url = redis_url.replace("redis://", f"redis://{user}:{password}@", 1)
    try:
        with caplog.at_level(logging.WARNING, logger="sessionkit"):
            store = RedisStore(url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=QUIET)
            cookie = new_cookie(store, n=1)
            for _ in range(5):
                assert read(store, cookie) == 1
        assert caplog.text.count("refused CLIENT TRACKING") == 1
        assert store.local_cache is not None and not store.local_cache.active
        with measure(redis_client) as cost:
            read(store, cookie)
        assert cost.commands == {"hgetall": 1}
        store.close()
    finally:
        redis_client.acl_deluser(user)


def test_async_store_warm_read_costs_zero_commands(redis_url: str, key_prefix: str,
                                                   redis_client: redis.Redis) -> None:
    async def scenario() -> tuple[dict[str, int], object, object]:
        a = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=QUIET)
        b = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=QUIET)
        session = await a.open(None)
        session["n"] = 1
        cookie = (await a.save(session)).value
        assert cookie
        assert (await a.open(cookie))["n"] == 1
        with measure(redis_client) as cost:
            for _ in range(10):
                s = await a.open(cookie)
                assert s["n"] == 1
                await a.save(s)
        s = await b.open(cookie)
        s["n"] = 2
        await b.save(s)
        seen_a = (await a.open(cookie))["n"]  # the other store's write, seen at once
        await a.aclose()
        await b.aclose()
        return cost.commands, seen_a, 2

    commands, seen, wanted = asyncio.run(scenario())
    assert commands == {}
    assert seen == wanted


def test_async_store_accepts_an_asyncio_client(redis_url: str, key_prefix: str) -> None:
    async def scenario() -> bool:
        store = AsyncRedisStore(client=redis.asyncio.Redis.from_url(redis_url), secret_keys=SECRET,
                                key_prefix=key_prefix)
        session = await store.open(None)
        session["n"] = 1
        cookie = (await store.save(session)).value
        assert cookie
        await store.open(cookie)
        await store.open(cookie)
        hit = store.local_cache is not None and store.local_cache.cache.stats.hits == 1
        await store.aclose()
        return hit

    assert asyncio.run(scenario())


def test_docs_snippet_runs(redis_url: str, redis_client: redis.Redis, redis_server) -> None:
    if redis_server.process is None:
        pytest.fail("the docs snippet writes under the default key prefix: run it on a server the suite owns")
    (code,) = re.findall(r"```python\n(.*?)```", (DOCS / "cache.md").read_text(), flags=re.S)
    exec(compile(code.replace("redis://127.0.0.1:6379/0", redis_url), "docs/cache.md", "exec"), {})
    keys = list(redis_client.scan_iter(match="sessionkit:s:*"))
    assert len(keys) == 1
    redis_client.delete(*keys)


def test_async_concurrent_misses_of_one_session_share_one_hgetall(redis_url: str, key_prefix: str,
                                                                  redis_client: redis.Redis) -> None:
    """Ten requests for a session this replica has not cached yet, at once: one round trip; after
    a write's invalidation, the next burst reads once more (never the pre-write reply)."""
    async def scenario() -> tuple[dict[str, int], list[object], dict[str, int], list[object]]:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=QUIET)
        writer = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=False)
        session = await writer.open(None)
        session["n"] = 1
        cookie = (await writer.save(session)).value
        assert cookie

        async def read() -> object:
            return (await store.open(cookie))["n"]

        other = await writer.open(None)
        other["n"] = 0
        await store.open((await writer.save(other)).value)  # the tracking connection is up now
        with measure(redis_client) as first:
            seen = list(await asyncio.gather(*(read() for _ in range(10))))
        session = await writer.open(cookie)
        session["n"] = 2
        await writer.save(session)
        with measure(redis_client) as second:
            again = list(await asyncio.gather(*(read() for _ in range(10))))
        await store.aclose()
        await writer.aclose()
        return first.commands, seen, second.commands, again

    first, seen, second, again = asyncio.run(scenario())
    assert first == {"hgetall": 1} and seen == [1] * 10
    assert second == {"hgetall": 1} and again == [2] * 10


def test_async_read_during_this_replicas_write_waits_and_is_kept(redis_url: str, key_prefix: str,
                                                                 redis_client: redis.Redis) -> None:
    """A read of a session while this replica's write of it is in flight waits for the write, so
    its reply (sent after the write) is kept: the next read costs no command."""
    async def scenario() -> tuple[object, dict[str, int], object]:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=QUIET)
        session = await store.open(None)
        session["n"] = 1
        cookie = (await store.save(session)).value
        assert cookie
        writing = await store.open(cookie)
        writing["n"] = 2

        async def read() -> object:
            return (await store.open(cookie))["n"]

        _, during = await asyncio.gather(store.save(writing), read())
        with measure(redis_client) as after:
            seen = await read()
        await store.aclose()
        return during, after.commands, seen

    during, commands, seen = asyncio.run(scenario())
    assert (during, commands, seen) == (2, {}, 2)


def test_async_concurrent_misses_decode_the_reply_once(redis_url: str, key_prefix: str) -> None:
    serializer = CountingJSON()

    async def scenario() -> tuple[list[object], int]:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=QUIET,
                                serializer=serializer)
        writer = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, local_cache=False)
        session = await writer.open(None)
        session.update(n=1, name="ann")
        cookie = (await writer.save(session)).value
        assert cookie
        other = await writer.open(None)
        other["n"] = 0
        await store.open((await writer.save(other)).value)  # the tracking connection is up now

        async def read() -> object:
            s = await store.open(cookie)
            return (s["n"], s["name"])

        serializer.loads_calls = 0
        seen = list(await asyncio.gather(*(read() for _ in range(10))))
        await store.aclose()
        await writer.aclose()
        return seen, serializer.loads_calls

    seen, decodes = asyncio.run(scenario())
    assert seen == [(1, "ann")] * 10
    assert decodes == 2  # the two values, once, by the request whose HGETALL the others joined


class CountingJSON(JSONSerializer):
    """JSON that counts its decodes."""

    def __init__(self) -> None:
        super().__init__()
        self.loads_calls = 0

    def loads(self, data: bytes) -> object:
        self.loads_calls += 1
        return super().loads(data)


def test_a_cached_read_decodes_only_the_values_it_uses(make_store: MakeStore) -> None:
    serializer = CountingJSON()
    store = make_store(serializer=serializer)
    cookie = new_cookie(store, user="ann", cart=["a"], prefs={"theme": "dark"}, tags=["x", "y"])
    assert read(store, cookie, "user") == "ann"  # the miss: every field decoded once, then kept
    serializer.loads_calls = 0
    assert read(store, cookie, "user") == "ann"  # a str is shared by the cached copy: no decode
    assert serializer.loads_calls == 0
    assert read(store, cookie, "cart") == ["a"]  # one list, decoded for this session only
    assert serializer.loads_calls == 1
    session = store.open(cookie)
    assert dict(session) == {"user": "ann", "cart": ["a"], "prefs": {"theme": "dark"}, "tags": ["x", "y"]}
    assert serializer.loads_calls == 4


def test_values_decoded_late_keep_change_tracking_exact(make_store: MakeStore) -> None:
    store = make_store()
    cookie = new_cookie(store, user="ann", cart=["a"], prefs={"theme": "dark"})
    read(store, cookie)  # cached from here on
    session = store.open(cookie)
    session["cart"].append("b")  # nested change of a value decoded from the cached bytes
    session["n"] = 1
    assert store.save(session).written
    fresh = make_store(local_cache=False).open(cookie)
    assert dict(fresh) == {"user": "ann", "cart": ["a", "b"], "prefs": {"theme": "dark"}, "n": 1}
    cached = store.open(cookie)  # the cached copy never saw the in-place change of another session
    assert cached["prefs"] == {"theme": "dark"} and cached["cart"] == ["a", "b"]
    assert repr(store.open(cookie)) == "<Session existing keys=(not loaded)>"
