"""Promises under faults and races, against real servers: emptied sessions, racing regenerates,
hand-rolled logins, user index lifetime, pool exhaustion, a full Redis, unreplicated writes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import redis

from sessionkit import AsyncRedisStore, RedisStore, SessionBackendUnavailable
from sessionkit._errors import PoolExhausted, SessionNotReplicated, SessionStorageFull
from sessionkit.demo._children import scaled
from sessionkit.demo._servers import ServerProcess

SECRET = "faults-secret-0123456789abcdef"


@pytest.fixture
def make_store(redis_url: str, key_prefix: str) -> Iterator:
    stores: list[RedisStore] = []

    def make(url: str = redis_url, **options) -> RedisStore:
        options.setdefault("secret_keys", SECRET)
        options.setdefault("key_prefix", key_prefix)
        store = RedisStore(url, **options)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def new_cookie(store: RedisStore, **data) -> str:
    s = store.open(None)
    s.update(data)
    result = store.save(s)
    assert result.cookie == "set" and result.value
    return result.value


def session_id(cookie: str) -> str:
    return cookie.split(".")[0]


# -- 15.5: emptying a session never wipes another request's keys ------------------------------
def test_popping_the_last_key_keeps_a_concurrent_requests_key(make_store) -> None:
    store = make_store()
    cookie = new_cookie(store, flash="saved!")
    popper = store.open(cookie)
    assert popper.pop("flash") == "saved!"  # read before the other request's write lands
    writer = store.open(cookie)
    writer["cart"] = ["apple"]
    assert store.save(writer).written
    result = store.save(popper)  # this request's session is empty now, Redis's is not
    assert (result.cookie, result.written, result.conflict) == ("keep", True, None)
    assert dict(store.open(cookie)) == {"cart": ["apple"]}


def test_concurrent_flash_pop_and_write_never_lose_the_write_silently(make_store) -> None:
    """Writer first: the pop removes only its key. Pop first (nothing else left): the session is
    deleted and the write is refused as a conflict, never reported as written."""
    store = make_store()
    for _ in range(20):
        cookie = new_cookie(store, flash="hi")
        barrier = threading.Barrier(2)
        results = {}

        def pop() -> None:
            s = store.open(cookie)
            s.get("flash")
            barrier.wait()
            s.pop("flash", None)
            results["pop"] = store.save(s)

        def write() -> None:
            s = store.open(cookie)
            s.get("flash")
            barrier.wait()
            s["cart"] = [1]
            results["write"] = store.save(s)

        threads = [threading.Thread(target=pop), threading.Thread(target=write)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stored = dict(store.open(cookie))
        if results["write"].written:
            assert stored == {"cart": [1]} and results["pop"].cookie == "keep"
        else:
            assert results["write"].conflict == "deleted" and stored == {}


def test_emptying_with_nothing_else_left_still_deletes_the_session(make_store) -> None:
    store = make_store()
    cookie = new_cookie(store, flash="hi")
    s = store.open(cookie)
    s.pop("flash")
    assert store.save(s).cookie == "delete"
    assert not store.exists(session_id(cookie))


# -- 15.4: "replaced by a regenerate" is not "deleted by a logout" ----------------------------
def test_a_write_racing_a_regenerate_is_reported_and_leaves_the_cookie_alone(make_store) -> None:
    store = make_store()
    cookie = new_cookie(store, user="anon")
    racing = store.open(cookie)
    racing.get("user")  # loaded before the login
    login = store.open(cookie)
    login.regenerate()
    assert store.save(login).cookie == "set"
    racing["cart"] = ["late"]
    result = store.save(racing)
    assert (result.cookie, result.written, result.conflict) == ("keep", False, "regenerated")
    assert result.value is None


def test_requests_with_the_replaced_cookie_neither_delete_nor_replace_the_cookie(make_store) -> None:
    store = make_store(refresh_interval=0)
    cookie = new_cookie(store, user="anon")
    reader = store.open(cookie)
    reader.get("user")
    login = store.open(cookie)
    login.regenerate()
    new = store.save(login).value
    # a read-only request whose TTL refresh is due: not a conflict, cookie untouched
    assert (store.save(reader).cookie, store.save(reader).conflict) == ("keep", None)
    # a request that arrives with the old cookie after the login and writes
    late = store.open(cookie)
    assert dict(late) == {} and late.replaced
    late["cart"] = [1]
    result = store.save(late)
    assert (result.cookie, result.conflict) == ("keep", "regenerated")
    assert dict(store.open(new)) == {"user": "anon"}  # the login's session is intact


def test_a_write_racing_a_logout_is_still_a_deletion(make_store) -> None:
    store = make_store()
    cookie = new_cookie(store, user="ann")
    racing = store.open(cookie)
    racing.get("user")
    logout = store.open(cookie)
    logout.destroy()
    store.save(logout)
    racing["x"] = 1
    result = store.save(racing)
    assert (result.cookie, result.conflict) == ("delete", "deleted")


# -- 15.6: a hand-rolled login (clear, then fill) gets a new ID --------------------------------
def test_clear_then_fill_rotates_the_session_id(make_store) -> None:
    store = make_store()
    planted = new_cookie(store, theme="dark")  # e.g. a cookie an attacker planted
    s = store.open(planted)
    s.clear()
    s["user"] = "ann"
    result = store.save(s)
    assert result.cookie == "set" and session_id(result.value) != session_id(planted)
    assert dict(store.open(result.value)) == {"user": "ann"}
    assert dict(store.open(planted)) == {}


def test_emptying_key_by_key_then_filling_rotates_too(make_store) -> None:
    """Wrappers whose clear() is MutableMapping's (popitem until empty), like Flask's session."""
    store = make_store()
    planted = new_cookie(store, theme="dark", _permanent=True)
    s = store.open(planted)
    while s:
        s.popitem()
    s["user"] = "ann"
    result = store.save(s)
    assert result.cookie == "set" and session_id(result.value) != session_id(planted)


def test_by_id_loads_keep_their_id_through_clear_and_fill(make_store) -> None:
    store = make_store()
    cookie = new_cookie(store, a=1)
    s = store.load(session_id(cookie))  # frameworks with their own keys (Django) rotate themselves
    s.clear()
    s["a"] = 2
    assert store.save(s).cookie == "keep"
    assert dict(store.open(cookie)) == {"a": 2}


# -- 13.2: the user index expires with its sessions; logouts leave it ---------------------------
def test_user_index_ttl_follows_its_sessions_without_absolute_timeout(make_store, redis_client,
                                                                       key_prefix) -> None:
    store = make_store(absolute_timeout=None, idle_timeout=600)
    s = store.open(None)
    s.bind_user("ann")
    s["a"] = 1
    cookie = store.save(s).value
    index = f"{key_prefix}u:ann"
    session_key = store.key(session_id(cookie))
    assert redis_client.pttl(index) >= redis_client.pttl(session_key) > 0
    s = store.open(cookie)
    s.ttl = 6000  # a per-session expiry beyond the idle timeout (Django's set_expiry)
    s["a"] = 2
    store.save(s)  # a write that extends the session extends the index
    assert redis_client.pttl(index) >= redis_client.pttl(session_key) > 600_000


def test_delete_by_id_removes_the_session_from_its_user_index(make_store, redis_client,
                                                               key_prefix) -> None:
    store = make_store()
    s = store.open(None)
    s.bind_user("bob")
    s["a"] = 1
    cookie = store.save(s).value
    store.delete(session_id(cookie))  # Django's flush() on logout
    assert redis_client.smembers(f"{key_prefix}u:bob") == set()


# -- 15.3: a healthy Redis is never "unreachable" under concurrency ------------------------------
# A loaded CI machine can keep 450 waiters queued longer than the default 5 s pool_timeout; the
# claim under test is that they wait for a connection instead of failing, so the wait is generous.
POOL_WAIT = scaled(30)


def test_500_concurrent_operations_in_one_process_give_no_error(make_store) -> None:
    store = make_store(pool_timeout=POOL_WAIT)
    barrier = threading.Barrier(500)
    errors: list[BaseException] = []

    def request(i: int) -> None:
        barrier.wait()
        try:
            s = store.open(None)
            s["i"] = i
            cookie = store.save(s).value
            assert store.open(cookie)["i"] == i
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(500)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_500_concurrent_async_operations_give_no_error(redis_url: str, key_prefix: str) -> None:
    async def main() -> list[BaseException]:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, pool_timeout=POOL_WAIT)

        async def request(i: int) -> None:
            s = await store.open(None)
            s["i"] = i
            cookie = (await store.save(s)).value
            assert (await store.open(cookie))["i"] == i

        results = await asyncio.gather(*(request(i) for i in range(500)), return_exceptions=True)
        await store.aclose()
        return [r for r in results if isinstance(r, BaseException)]

    assert asyncio.run(main()) == []


def test_pool_exhaustion_is_its_own_error(make_store) -> None:
    store = make_store(pool_size=1, pool_timeout=0.2)
    cookie = new_cookie(store, a=1)
    held = store.client.connection_pool.get_connection()  # another operation holds the only one
    try:
        with pytest.raises(PoolExhausted, match="pool") as info:
            store.open(cookie).get("a")
        assert "unreachable" not in str(info.value)
        assert isinstance(info.value, SessionBackendUnavailable)  # still a 503 with Retry-After
    finally:
        store.client.connection_pool.release(held)
    assert store.open(cookie)["a"] == 1


# -- 15.9: a full Redis is a 503 with a clear message --------------------------------------------
def test_redis_at_maxmemory_with_noeviction_is_storage_full(make_store) -> None:
    server = ServerProcess(extra_config=["maxmemory-policy noeviction"])
    server.start()
    try:
        store = make_store(server.url)
        cookie = new_cookie(store, a=1)
        admin = redis.Redis.from_url(server.url)
        admin.config_set("maxmemory", 1)  # anything is over the limit now
        s = store.open(cookie)
        s["b"] = 2
        with pytest.raises(SessionStorageFull, match="out of memory") as info:
            store.save(s)
        assert isinstance(info.value, SessionBackendUnavailable)
        admin.config_set("maxmemory", 0)
        admin.close()
    finally:
        server.cleanup()


# -- 15.10 and 15.1: every write path waits for replicas; a failed WAIT says "applied" ------------
def test_failed_wait_says_applied_not_replicated_and_the_write_is_there(make_store, redis_client) -> None:
    plain = make_store()
    cookie = new_cookie(plain, a=1)
    store = make_store(wait_replicas=1)  # a standalone server has no replica: WAIT gets 0
    s = store.open(cookie)
    s["a"] = 2
    with pytest.raises(SessionNotReplicated, match="applied but not replicated"):
        store.save(s)
    assert plain.open(cookie)["a"] == 2  # applied on the server we talked to


def test_logouts_and_deletes_wait_for_replicas_too(make_store) -> None:
    plain = make_store()
    store = make_store(wait_replicas=1)
    cookie = new_cookie(plain, user="ann")
    s = store.open(cookie)
    s.destroy()
    with pytest.raises(SessionNotReplicated):
        store.save(s)
    other = new_cookie(plain, user="bob")
    with pytest.raises(SessionNotReplicated):
        store.delete(session_id(other))


def test_a_readonly_reply_drops_the_pooled_connections(make_store, redis_client) -> None:
    """A plain client pointed at a server that was demoted: the READONLY reply is a 503, and no
    pooled connection to that server is reused."""
    server = ServerProcess()
    server.start()
    try:
        store = make_store(server.url)
        cookie = new_cookie(store, a=1)
        admin = redis.Redis.from_url(server.url)
        admin.replicaof("127.0.0.1", redis_client.connection_pool.connection_kwargs["port"])
        s = store.open(cookie)
        s["a"] = 2
        with pytest.raises(SessionBackendUnavailable, match="ReadOnlyError"):
            store.save(s)  # a replica refuses writes
        others = [c for c in admin.client_list() if int(c["id"]) != admin.client_id()]
        assert others == []  # the store's connections to the demoted server are closed
        admin.replicaof("NO", "ONE")
        admin.close()
    finally:
        server.cleanup()
