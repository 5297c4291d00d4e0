"""RedisStore against a real server: lifecycle, cost budget, races, expiry, limits, failures."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from _counting import counting_client, measure

from sessionkit import (
    OperationEvent,
    RedisStore,
    SerializationError,
    SessionBackendUnavailable,
    SessionTooLarge,
)
from sessionkit._cookie import new_session_id

SECRET = "test-secret-0123456789abcdef"


@pytest.fixture
def make_store(redis_url: str, key_prefix: str) -> Iterator:
    stores: list[RedisStore] = []

    def make(**options) -> RedisStore:
        options.setdefault("secret_keys", SECRET)
        options.setdefault("key_prefix", key_prefix)
        store = RedisStore(client=counting_client(redis_url), **options)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def store(make_store) -> RedisStore:
    return make_store()


def new_cookie(store: RedisStore, **data) -> str:
    session = store.open(None)
    session.update(data)
    result = store.save(session)
    assert result.cookie == "set" and result.value
    return result.value


def session_keys(client: redis.Redis, prefix: str) -> list[bytes]:
    return list(client.scan_iter(match=f"{prefix}s:*"))


# -- lifecycle -------------------------------------------------------------------------------
def test_create_read_write_nested_mutation(store: RedisStore) -> None:
    cookie = new_cookie(store, user="ann", cart=[])
    s = store.open(cookie)
    s["cart"].append("apple")  # nested mutation without any modified flag
    assert store.save(s).cookie == "keep"
    assert dict(store.open(cookie)) == {"user": "ann", "cart": ["apple"]}


def test_redis_never_holds_the_session_id(store: RedisStore, redis_client: redis.Redis, key_prefix: str) -> None:
    cookie = new_cookie(store, a=1)
    session_id = cookie.split(".")[0]
    (key,) = session_keys(redis_client, key_prefix)
    assert session_id.encode() not in key
    assert all(session_id.encode() not in v for v in redis_client.hgetall(key).values())


def test_regenerate_keeps_data_and_kills_old_id(store: RedisStore) -> None:
    cookie = new_cookie(store, a=1)
    s = store.open(cookie)
    s.regenerate()
    result = store.save(s)
    assert result.cookie == "set" and result.value != cookie
    assert dict(store.open(result.value)) == {"a": 1}
    old = store.open(cookie)
    assert dict(old) == {} and old.new


def test_destroy_deletes_data_and_cookie(store: RedisStore, redis_client: redis.Redis, key_prefix: str) -> None:
    cookie = new_cookie(store, a=1)
    s = store.open(cookie)
    s.destroy()
    assert store.save(s).cookie == "delete"
    assert session_keys(redis_client, key_prefix) == []


def test_unknown_but_validly_signed_id_is_never_adopted(store: RedisStore, redis_client, key_prefix) -> None:
    chosen = new_session_id()
    cookie = store.codec.sign(chosen)  # e.g. an expired session, or a fixation attempt
    s = store.open(cookie)
    s["a"] = 1
    result = store.save(s)
    assert result.cookie == "set" and result.value.split(".")[0] != chosen
    assert not store.exists(chosen)


def test_non_json_value_is_a_clear_error_and_nothing_is_written(store: RedisStore) -> None:
    cookie = new_cookie(store, a=1)
    s = store.open(cookie)
    s["when"] = object()
    with pytest.raises(SerializationError, match=r"^session key 'when': .*JSON"):
        store.save(s)
    assert dict(store.open(cookie)) == {"a": 1}


# -- cost budget -------------------------------------------------------------------------------
def test_cost_budget_per_request_type(make_store, redis_client: redis.Redis) -> None:
    """The protocol without the local cache (its budgets: tests/core/test_cache_store.py)."""
    store = make_store(refresh_interval=60, local_cache=False)
    cookie = new_cookie(store, a=1)  # also loads the Lua script into the server

    with measure(redis_client) as untouched:
        store.save(store.open(cookie))
    with measure(redis_client) as no_cookie_read:
        s = store.open(None)
        s.get("a")
        store.save(s)
    with measure(redis_client) as read:
        s = store.open(cookie)
        s.get("a")
        store.save(s)
    with measure(redis_client) as write:
        s = store.open(cookie)
        s["a"] = 2
        store.save(s)

    assert (untouched.commands, untouched.round_trips) == ({}, 0)
    assert (no_cookie_read.commands, no_cookie_read.round_trips) == ({}, 0)
    assert (read.commands, read.round_trips) == ({"hgetall": 1}, 1)
    assert write.round_trips == 2  # one read, one atomic write
    assert write.commands == {"hgetall": 1, "evalsha": 1, "hexists": 1, "hset": 1, "pexpire": 1}


def test_read_only_requests_refresh_the_ttl_at_most_once_per_interval(make_store, redis_client) -> None:
    eager = make_store(refresh_interval=0, local_cache=False)
    cookie = new_cookie(eager, a=1)
    with measure(redis_client) as refresh:
        eager.open(cookie).get("a")
        s = eager.open(cookie)
        s.get("a")
        eager.save(s)
    assert refresh.commands.get("evalsha") == 1

    lazy = make_store(refresh_interval=60, local_cache=False)
    lazy.exists("warm-up")  # open the pool's connection (HELLO) outside the measurement
    with measure(redis_client) as quiet:
        for _ in range(5):
            s = lazy.open(cookie)
            s.get("a")
            lazy.save(s)
    assert quiet.commands == {"hgetall": 5}


def test_forged_and_malformed_cookies_cost_zero_commands(store: RedisStore, redis_client) -> None:
    good = new_cookie(store, a=1)
    forged = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        good[:20],
        "x" * 10_000,
        "セッション",
        "",
        good.split(".")[0],
        RedisStore(client=redis_client, secret_keys="another-secret-123456").codec.sign(new_session_id()),
    ]
    with measure(redis_client) as cost:
        for cookie in forged:
            s = store.open(cookie)
            assert s.new and dict(s) == {}
            store.save(s)
    assert cost.commands == {}


# -- races ---------------------------------------------------------------------------------------
def run_threads(targets: list) -> None:
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def wrap(fn):
        def run():
            barrier.wait()
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_fifty_concurrent_writers_of_different_keys_lose_nothing(store: RedisStore) -> None:
    for _round in range(10):
        cookie = new_cookie(store, start=True)

        def writer(i: int):
            def run():
                s = store.open(cookie)
                s[f"k{i}"] = i
                store.save(s)
            return run

        run_threads([writer(i) for i in range(50)])
        data = dict(store.open(cookie))
        assert {k: v for k, v in data.items() if k != "start"} == {f"k{i}": i for i in range(50)}


def test_a_write_racing_a_logout_never_resurrects_the_session(store, redis_client, key_prefix) -> None:
    cookie = new_cookie(store, user="ann")
    writer = store.open(cookie)
    writer.get("user")  # loaded before the logout
    logout = store.open(cookie)
    logout.destroy()
    store.save(logout)
    writer["cart"] = ["late"]
    result = store.save(writer)
    assert result.conflict and result.cookie == "delete"
    assert session_keys(redis_client, key_prefix) == []


def test_logout_under_concurrent_writes_stays_logged_out(store, redis_client, key_prefix) -> None:
    for _ in range(10):
        cookie = new_cookie(store, user="ann")

        def write(i: int):
            def run():
                s = store.open(cookie)
                s[f"k{i}"] = i
                store.save(s)
            return run

        def logout():
            s = store.open(cookie)
            s.destroy()
            store.save(s)

        run_threads([write(i) for i in range(20)] + [logout])
        # Writers that read after the logout start *new* sessions (new IDs, new cookies);
        # the logged-out session itself never comes back.
        assert not store.exists(cookie.split(".")[0])


def test_two_concurrent_regenerates_leave_no_orphan(store, redis_client, key_prefix) -> None:
    for _ in range(20):
        cookie = new_cookie(store, user="ann")
        results = []

        def regen():
            s = store.open(cookie)
            s.regenerate()
            results.append(store.save(s))

        run_threads([regen, regen])
        keys = session_keys(redis_client, key_prefix)
        # the new session, and the old key's short-lived "replaced" marker (no data, no metadata)
        live = [k for k in keys if redis_client.hexists(k, "\x00m")]
        assert len(live) == 1 and len(keys) == 2, keys
        (marker,) = set(keys) - set(live)
        assert redis_client.hgetall(marker) == {b"\x00r": b"1"} and 0 < redis_client.pttl(marker) <= 10_000
        winners = [r for r in results if r.cookie == "set"]
        assert len(winners) == 1
        assert dict(store.open(winners[0].value)) == {"user": "ann"}
        redis_client.delete(*keys)


# -- expiry and limits ----------------------------------------------------------------------------
def test_idle_timeout_is_the_key_ttl(make_store, redis_client, key_prefix) -> None:
    store = make_store(idle_timeout=600)
    new_cookie(store, a=1)
    (key,) = session_keys(redis_client, key_prefix)
    assert 590_000 < redis_client.pttl(key) <= 600_000
    store2 = make_store(idle_timeout=0.3)
    cookie = new_cookie(store2, a=1)
    time.sleep(0.5)
    s = store2.open(cookie)
    assert dict(s) == {} and s.new


def test_absolute_lifetime_ends_an_active_session(make_store) -> None:
    store = make_store(idle_timeout=600, absolute_timeout=0.5, refresh_interval=0)
    cookie = new_cookie(store, a=1)
    s = store.open(cookie)
    assert dict(s) == {"a": 1}
    time.sleep(0.6)
    s = store.open(cookie)
    assert s.new and dict(s) == {}


def test_oversized_session_raises_before_writing(make_store) -> None:
    store = make_store(max_size=1024)
    cookie = new_cookie(store, a=1)
    s = store.open(cookie)
    s["blob"] = "x" * 2000
    with pytest.raises(SessionTooLarge, match="1024") as caught:
        store.save(s)
    assert dict(store.open(cookie)) == {"a": 1}
    for setting in ("SESSIONKIT_MAX_SIZE (Flask, Django)", "SessionMiddleware(max_size=...) (Starlette)",
                    "max_size= (RedisStore"):  # the limit as each framework spells it
        assert setting in str(caught.value)


def test_undecodable_stored_data_gives_an_empty_session_and_a_security_warning(
    store, redis_client, key_prefix, caplog
) -> None:
    cookie = new_cookie(store, a=1)
    (key,) = session_keys(redis_client, key_prefix)
    redis_client.hset(key, "a", b"\x80not json")
    with caplog.at_level(logging.WARNING, logger="sessionkit.security"):
        s = store.open(cookie)
        assert dict(s) == {} and s.new
    assert "undecodable session data" in caplog.text


# -- users ----------------------------------------------------------------------------------------
def test_revoke_user_ends_every_session_of_that_user(store: RedisStore) -> None:
    cookies = []
    for _ in range(3):
        s = store.open(None)
        s["user"] = "ann"
        s.bind_user("ann")
        cookies.append(store.save(s).value)
    other = store.open(None)
    other.bind_user("bob")
    other["user"] = "bob"
    bob = store.save(other).value
    assert len(store.sessions_of("ann")) == 3
    assert store.revoke_user("ann") == 3
    assert all(dict(store.open(c)) == {} for c in cookies)
    assert store.sessions_of("ann") == []
    assert dict(store.open(bob)) == {"user": "bob"}


def test_logout_removes_the_session_from_the_user_index(store: RedisStore) -> None:
    s = store.open(None)
    s["user"] = "ann"
    s.bind_user("ann")
    cookie = store.save(s).value
    s = store.open(cookie)
    s.destroy()
    store.save(s)
    assert store.sessions_of("ann") == []


# -- failures -------------------------------------------------------------------------------------
def test_outage_raises_backend_unavailable_and_recovers_without_restart(make_store, redis_server) -> None:
    store = make_store()
    cookie = new_cookie(store, a=1)
    redis_server.stop()
    try:
        with pytest.raises(SessionBackendUnavailable) as info:
            store.open(cookie).get("a")
        assert info.value.retry_after >= 1
        s = store.open(None)
        s["a"] = 1
        with pytest.raises(SessionBackendUnavailable):
            store.save(s)
    finally:
        redis_server.start()
    fresh = new_cookie(store, b=2)  # same store object, same pool
    assert dict(store.open(fresh)) == {"b": 2}


def test_degraded_mode_serves_empty_sessions_and_keeps_the_cookie(make_store, redis_server) -> None:
    store = make_store(degraded=True)
    cookie = new_cookie(store, a=1)
    redis_server.stop()
    try:
        s = store.open(cookie)
        assert dict(s) == {} and s.degraded
        s["b"] = 2
        result = store.save(s)
        assert (result.cookie, result.written) == ("keep", False)
    finally:
        redis_server.start()
    # Back to normal on the same store object, no restart.
    assert dict(store.open(new_cookie(store, c=3))) == {"c": 3}


def test_wait_replicas_without_replicas_fails_clearly(make_store) -> None:
    store = make_store(wait_replicas=1)
    s = store.open(None)
    s["a"] = 1
    with pytest.raises(SessionBackendUnavailable, match="acknowledged by 0 of 1"):
        store.save(s)


def test_hooks_receive_every_operation(make_store) -> None:
    events: list[OperationEvent] = []
    store = make_store(hooks=[events.append], local_cache=False)  # cache events: test_cache_store.py
    cookie = new_cookie(store, a=1)
    s = store.open(cookie)
    s.get("a")
    store.save(s)
    store.open(store.codec.sign(new_session_id())).get("a")
    assert [(e.operation, e.outcome) for e in events] == [
        ("save", "ok"), ("load", "ok"), ("save", "noop"), ("load", "miss"),
    ]
    assert all(e.seconds >= 0 for e in events)


def test_repr_masks_the_password() -> None:
    store = RedisStore("redis://user:hunter2@127.0.0.1:1/0", secret_keys=SECRET)
    assert "hunter2" not in repr(store) and "***" in repr(store)


def test_hooks_see_regenerates_and_conflicts(make_store) -> None:
    events: list[OperationEvent] = []
    store = make_store(hooks=[events.append], local_cache=False)  # cache events: test_cache_store.py
    cookie = new_cookie(store, a=1)
    racing = store.open(cookie)
    racing.get("a")
    s = store.open(cookie)
    s.regenerate()
    store.save(s)
    racing["a"] = 2
    store.save(racing)
    assert [(e.operation, e.outcome) for e in events][1:] == [
        ("load", "ok"), ("load", "ok"), ("regenerate", "ok"), ("save", "conflict"),
    ]
