"""sessionkit.adapters.django against a real Redis: the SessionBase contract, costs, migration, outages."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from types import ModuleType

import pytest
import redis
from _counting import measure
from _shop import SHOP_JOURNEY
from drivers import django_settings
from hypothesis import given, settings
from hypothesis import strategies as st

django_settings.configure()

from django.contrib.sessions.backends.base import CreateError, UpdateError  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore  # noqa: E402
from django.core import signing  # noqa: E402
from django.core.checks import run_checks  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.core.management import ManagementUtility, call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from drivers.django_app import make_driver  # noqa: E402

from sessionkit import SessionTooLarge  # noqa: E402
from sessionkit._scripts import WRITE  # noqa: E402
from sessionkit.adapters.django import SessionStore, _conf  # noqa: E402

UPDATE = {"evalsha": 1, "hexists": 1, "hset": 1, "pexpire": 1}  # one atomic conditional write
CREATE = {"evalsha": 1, "exists": 1, "hset": 1, "pexpire": 1}  # conditional on absence


@pytest.fixture
def configured(redis_url: str, key_prefix: str, redis_client: redis.Redis) -> Iterator[redis.Redis]:
    """Settings pointing the engine at the test server; yields an admin client."""
    redis_client.script_load(WRITE)
    with override_settings(SESSIONKIT_REDIS_URL=redis_url, SESSIONKIT_KEY_PREFIX=key_prefix):
        yield redis_client


@pytest.fixture
def driver(redis_url: str, key_prefix: str, redis_client: redis.Redis) -> Iterator:
    redis_client.script_load(WRITE)
    d = make_driver(redis_url, key_prefix)
    yield d
    d.close()


@pytest.fixture(scope="module")
def database() -> None:
    django_settings.migrate()


def session_keys(client: redis.Redis, prefix: str) -> list[bytes]:
    return list(client.scan_iter(match=f"{prefix}s:*"))


# -- SessionBase contract -------------------------------------------------------------------------
def test_create_save_load_round_trip_keeps_django_key_and_values(configured, key_prefix) -> None:
    s = SessionStore()
    s["cart"] = [1, "two", {"three": 3.5}]
    s["user"] = "ann"
    s.save()
    assert len(s.session_key) == 32
    again = SessionStore(s.session_key)
    assert dict(again.items()) == {"cart": [1, "two", {"three": 3.5}], "user": "ann"}
    # Redis holds a hash of the key, never the key itself
    keys = session_keys(configured, key_prefix)
    assert len(keys) == 1 and s.session_key.encode() not in keys[0]
    assert configured.hget(keys[0], "cart") == b'[1,"two",{"three":3.5}]'


def test_create_under_a_taken_key_raises_create_error(configured) -> None:
    s = SessionStore()
    s["a"] = 1
    s.save()
    clash = SessionStore(s.session_key)
    clash._session_cache = {"b": 2}
    with pytest.raises(CreateError):
        clash.save(must_create=True)
    assert dict(SessionStore(s.session_key).items()) == {"a": 1}


def test_save_after_a_concurrent_delete_raises_update_error_and_does_not_resurrect(configured, key_prefix) -> None:
    s1 = SessionStore()
    s1["a"] = 1
    s1.save()
    SessionStore(s1.session_key).delete()
    s1["a"] = 2
    with pytest.raises(UpdateError):
        s1.save()
    assert session_keys(configured, key_prefix) == []


def test_load_of_an_unknown_key_creates_nothing_and_drops_the_key(configured, key_prefix) -> None:
    s = SessionStore("attackerchosenkey123")
    assert s.load() == {}
    assert s.session_key is None
    s["a"] = 1
    s.save()
    assert s.session_key != "attackerchosenkey123"
    assert not SessionStore().exists("attackerchosenkey123")
    assert len(session_keys(configured, key_prefix)) == 1


def test_keys_django_could_not_have_made_are_never_looked_up(configured) -> None:
    s = SessionStore()
    s["a"] = 1
    s.save()
    real = s.session_key
    forged = [real.upper(), real[:16], real + "x", "x" * 8000, real[:-1] + "-"]
    with measure(configured) as cost:
        for key in forged:
            assert SessionStore(key).load() == {}
            assert not SessionStore().exists(key)
    assert cost.commands == {}
    assert SessionStore(real)["a"] == 1


def test_cycle_key_keeps_data_and_kills_the_old_key(configured) -> None:
    s = SessionStore()
    s["a"] = 1
    s.save()
    old = s.session_key
    s.cycle_key()
    assert s.session_key != old
    assert not s.exists(old)
    assert dict(SessionStore(s.session_key).items()) == {"a": 1}


def test_flush_deletes_the_record(configured, key_prefix) -> None:
    s = SessionStore()
    s["a"] = 1
    s.save()
    s.flush()
    assert s.session_key is None
    assert session_keys(configured, key_prefix) == []


def test_an_emptied_session_is_kept_like_djangos_backends(configured) -> None:
    s = SessionStore()
    s["a"] = 1
    s.save()
    del s["a"]
    s.save()
    assert s.exists(s.session_key)
    assert dict(SessionStore(s.session_key).items()) == {}


def test_clear_then_refill_keeps_djangos_key(configured, key_prefix) -> None:
    s = SessionStore()
    s.update({"a": 1, "b": 2})
    s.save()
    s = SessionStore(s.session_key)
    assert s["a"] == 1
    s.clear()  # Django's clear: a new dict, the record is filled from it on save
    s["c"] = 3
    s.save()
    assert dict(SessionStore(s.session_key).items()) == {"c": 3}
    assert len(session_keys(configured, key_prefix)) == 1  # same key, no second record


def test_only_changed_fields_are_written(configured, key_prefix) -> None:
    s = SessionStore()
    s["a"], s["b"] = "x", "y"
    s.save()
    s = SessionStore(s.session_key)
    s["b"] = "z"
    with measure(configured) as cost:
        s.save()
    assert cost.commands == UPDATE
    (key,) = session_keys(configured, key_prefix)
    assert configured.hget(key, "b") == b'"z"'


@override_settings(SESSION_SERIALIZER="drivers.django_settings.CountingSerializer")
def test_a_save_serializes_only_the_keys_that_changed(configured) -> None:
    from drivers.django_settings import CountingSerializer

    s = SessionStore()
    s.update({f"k{i}": [i, "value"] for i in range(10)})
    s.save()
    before = CountingSerializer.dumps_calls
    s = SessionStore(s.session_key)
    s["k3"] = ["changed"]  # one changed key of ten
    s.save()
    assert CountingSerializer.dumps_calls - before == 1
    before = CountingSerializer.dumps_calls
    s = SessionStore(s.session_key)
    s["k4"].append("more")  # in place: serialized when checked (modified) and when saved
    assert s.modified
    s.save()
    assert CountingSerializer.dumps_calls - before == 2
    assert SessionStore(s.session_key)["k4"] == [4, "value", "more"]


def test_expiry_maps_to_the_redis_ttl(configured, key_prefix) -> None:
    s = SessionStore()
    s["a"] = 1
    s.set_expiry(300)
    s.save()
    (key,) = session_keys(configured, key_prefix)
    assert 290_000 < configured.pttl(key) <= 300_000
    s.set_expiry(timedelta(days=2))
    s.save()
    assert 2 * 86400_000 - 10_000 < configured.pttl(key) <= 2 * 86400_000


@override_settings(SESSION_COOKIE_AGE=600)
def test_session_cookie_age_is_the_default_ttl(configured, key_prefix) -> None:
    s = SessionStore()
    s["a"] = 1
    s.save()
    (key,) = session_keys(configured, key_prefix)
    assert 590_000 < configured.pttl(key) <= 600_000


def test_an_expiry_in_the_past_removes_the_record(configured, key_prefix) -> None:
    s = SessionStore()
    s["a"] = 1
    s.save()
    s.set_expiry(-10)
    s.save()
    assert session_keys(configured, key_prefix) == []
    assert "a" not in SessionStore(s.session_key)


def test_in_place_mutation_marks_the_session_modified(configured) -> None:
    s = SessionStore()
    s["cart"] = []
    s.save()
    s = SessionStore(s.session_key)
    assert s.modified is False
    s["cart"].append("apple")  # a plain dict access: Django itself would not notice
    assert s.modified is True
    s.save()
    assert SessionStore(s.session_key)["cart"] == ["apple"]


def test_size_limit(configured) -> None:
    with override_settings(SESSIONKIT_MAX_SIZE=100):
        s = SessionStore()
        s["big"] = "x" * 200
        with pytest.raises(SessionTooLarge, match="over the limit of 100 bytes") as caught:
            s.save()
    assert "SESSIONKIT_MAX_SIZE (Flask, Django)" in str(caught.value)  # the setting that raises it


def test_clear_expired_and_clearsessions_are_no_ops(configured) -> None:
    s = SessionStore()
    s["a"] = 1
    s.save()
    SessionStore.clear_expired()
    call_command("clearsessions")
    assert SessionStore(s.session_key)["a"] == 1


def test_pickle_serializer_is_refused(configured) -> None:
    with override_settings(SESSION_SERIALIZER="drivers.django_settings.PickleSerializer"), \
            pytest.raises(ImproperlyConfigured, match="does not produce JSON"):
        _conf.serializer()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_default_serializer_writes_djangos_bytes(value) -> None:
    """The default ``SESSION_SERIALIZER`` is served by an encoder built once: the same bytes."""
    data = signing.JSONSerializer().dumps(value)
    assert _conf.serializer().dumps(value) == data
    assert _conf.serializer().loads(data) == signing.JSONSerializer().loads(data)


def test_a_custom_json_serializer_is_used_as_it_is() -> None:
    with override_settings(SESSION_SERIALIZER="drivers.django_settings.CountingSerializer"):
        assert type(_conf.serializer()) is django_settings.CountingSerializer


def test_missing_url_is_a_clear_configuration_error() -> None:
    with override_settings(SESSIONKIT_REDIS_URL=None), \
            pytest.raises(ImproperlyConfigured, match="SESSIONKIT_REDIS_URL"):
        SessionStore()


def test_an_existing_client_object_can_be_used(redis_url, key_prefix, redis_client) -> None:
    client = redis.Redis.from_url(redis_url)
    with override_settings(SESSIONKIT_REDIS_URL=None, SESSIONKIT_REDIS_CLIENT=client,
                           SESSIONKIT_KEY_PREFIX=key_prefix):
        s = SessionStore()
        s["a"] = 1
        s.save()
        assert SessionStore(s.session_key)["a"] == 1
        # async methods run the sync client in a thread when no URL is configured
        assert asyncio.run(SessionStore(s.session_key).aload()) == {"a": 1}
    assert len(session_keys(redis_client, key_prefix)) == 1
    client.close()


# -- async methods (native asyncio client) ----------------------------------------------------------
def test_async_methods_use_the_asyncio_store(configured, key_prefix) -> None:
    async def scenario() -> dict[str, object]:
        s = SessionStore()
        await s.aset("a", 1)
        await s.asave()
        key = s.session_key
        assert await s.aexists(key)
        assert _conf.current().astore() is not None  # a native asyncio store serves this loop
        s2 = SessionStore(key)
        assert await s2.aget("a") == 1
        await s2.acycle_key()
        assert not await s2.aexists(key)
        s3 = SessionStore(s2.session_key)
        await s3.aset("b", 2)
        await s3.asave()
        data = await SessionStore(s2.session_key).aload()
        other = SessionStore(s2.session_key)
        await other.adelete()
        await s3.aset("b", 3)
        with pytest.raises(UpdateError):
            await s3.asave()
        await s3.aflush()
        return data

    assert asyncio.run(scenario()) == {"a": 1, "b": 2}
    assert session_keys(configured, key_prefix) == []


def test_async_create_collision_raises_create_error(configured) -> None:
    async def scenario() -> None:
        s = SessionStore()
        await s.aset("a", 1)
        await s.asave()
        clash = SessionStore(s.session_key)
        clash._session_cache = {}
        with pytest.raises(CreateError):
            await clash.asave(must_create=True)

    asyncio.run(scenario())


# -- HTTP through the driver (Django's middleware and test client) -----------------------------------
def test_journey_and_cookie_attributes(driver) -> None:
    r = driver.request("POST", "/login/ann")
    assert r.status == 200 and r.cookie
    assert r.cookie_attrs["path"] == "/" and "httponly" in r.cookie_attrs
    assert r.cookie_attrs["samesite"] == "Lax"
    cookie = r.cookie
    assert driver.request("GET", "/whoami", cookie).json == {"user": "ann"}
    driver.request("POST", "/append/cart/apple", cookie)
    driver.request("POST", "/append/cart/pear", cookie)
    assert driver.request("GET", "/get/cart", cookie).json == {"value": ["apple", "pear"]}
    out = driver.request("POST", "/logout", cookie)
    assert out.cookie == ""
    assert driver.request("GET", "/whoami", cookie).json == {"user": None}


def test_login_regenerates_the_key_and_binds_the_user(driver, redis_client, key_prefix) -> None:
    before = driver.request("POST", "/set/theme/dark").cookie
    login = driver.request("POST", "/login/ann", before)
    assert login.cookie and login.cookie != before
    assert driver.request("GET", "/get/theme", login.cookie).json == {"value": "dark"}
    assert driver.request("GET", "/get/theme", before).json == {"value": None}
    # the driver's settings are active: SESSIONKIT_USER_KEY = "user"
    assert len(_conf.current().store.sessions_of("ann")) == 1


def test_redis_command_counts_per_request_type(driver, redis_client) -> None:
    cookie = driver.request("POST", "/set/a/1").cookie
    costs, cookies = {}, {}
    for name, method, path, c in [
        ("untouched", "GET", "/untouched", cookie),
        ("read, no cookie", "GET", "/whoami", None),
        ("read", "GET", "/get/a", cookie),
        ("write", "POST", "/set/a/2", cookie),
        ("write, same value", "POST", "/set/a/2", cookie),
        ("nested write", "POST", "/append/l/x", cookie),
        ("new session write", "POST", "/set/b/1", None),
        ("login", "POST", "/login/ann", cookie),
        ("logout", "POST", "/logout", "login"),  # with the cookie the login set
    ]:
        with measure(redis_client) as cost:
            reply = driver.request(method, path, cookies.get(c, c))
            assert reply.status == 200
        costs[name], cookies[name] = cost.commands, reply.cookie
    assert costs == {
        "untouched": {},
        "read, no cookie": {},
        # The local cache: a read after this process's own write goes to Redis; a request after a
        # read is served from memory, so its write is the one round trip.
        "read": {"hgetall": 1},
        "write": UPDATE,
        "write, same value": {"hgetall": 1},
        "nested write": UPDATE,
        "new session write": CREATE,  # a create: same script, conditional on absence
        # cycle_key: read, create under the new key, delete the old (the script reads its bound
        # user: HGET + DEL); then the update binding the user, and the index script (SADD + TTL)
        "login": {"hgetall": 1, "hget": 1, "del": 1, "sadd": 1, "pttl": 1, "evalsha": 4,
                  "exists": 1, "hexists": 1, "hset": 2, "pexpire": 3},
        # flush: the delete script finds the bound user itself (HGET + DEL), then SREM from that
        # user's index; nothing is read first
        "logout": {"evalsha": 1, "hget": 1, "del": 1, "srem": 1},
    }


def test_concurrent_writes_to_different_keys_are_all_kept(driver) -> None:
    cookie = driver.request("POST", "/set/seed/1").cookie
    errors: list[object] = []

    def write(i: int) -> None:
        r = driver.request("POST", f"/set/k{i}/v{i}", cookie)
        if r.status != 200:
            errors.append(r)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i in range(8):
        assert driver.request("GET", f"/get/k{i}", cookie).json == {"value": f"v{i}"}


def test_save_every_request_and_browser_close_settings(driver) -> None:
    cookie = driver.request("POST", "/set/a/1").cookie
    assert driver.request("GET", "/get/a", cookie).cookie is None
    with override_settings(SESSION_SAVE_EVERY_REQUEST=True, SESSION_EXPIRE_AT_BROWSER_CLOSE=True):
        r = driver.request("GET", "/get/a", cookie)
    assert r.cookie == cookie and "max-age" not in r.cookie_attrs


def test_outage_answers_503_with_retry_after_and_recovers(driver, redis_server) -> None:
    cookie = driver.request("POST", "/set/a/1").cookie
    redis_server.stop()
    try:
        down = driver.request("GET", "/get/a", cookie)
        assert down.status == 503 and down.headers["Retry-After"].isdigit()
        assert down.cookie is None  # the user's cookie is left alone
        assert driver.request("POST", "/set/a/2", cookie).status == 503
        assert driver.request("GET", "/untouched", cookie).status == 200
    finally:
        redis_server.start()
    # the same process recovers as soon as Redis is back (the restarted server is empty)
    again = driver.request("POST", "/set/a/3")
    assert again.status == 200
    assert driver.request("GET", "/get/a", again.cookie).json == {"value": "3"}


def test_degraded_mode_serves_empty_sessions_and_never_touches_the_cookie(redis_url, key_prefix, redis_server) -> None:
    d = make_driver(redis_url, key_prefix, degraded=True)
    try:
        cookie = d.request("POST", "/set/a/1").cookie
        redis_server.stop()
        try:
            read = d.request("GET", "/get/a", cookie)
            assert (read.status, read.json, read.cookie) == (200, {"value": None}, None)
            write = d.request("POST", "/set/a/2", cookie)
            assert (write.status, write.cookie) == (200, None)
            login = d.request("POST", "/login/ann", cookie)
            assert (login.status, login.cookie) == (200, None)
        finally:
            redis_server.start()
        assert d.request("POST", "/set/a/4").status == 200
    finally:
        d.close()


def test_logout_racing_a_write_does_not_resurrect(driver, redis_client, key_prefix) -> None:
    cookie = driver.request("POST", "/set/a/1").cookie
    s = SessionStore(cookie)  # the driver's settings are active
    s["a"] = "late"
    assert driver.request("POST", "/logout", cookie).cookie == ""
    with pytest.raises(UpdateError):
        s.save()
    assert session_keys(redis_client, key_prefix) == []


def test_a_write_racing_a_login_is_an_error_never_a_silent_loss(configured, key_prefix) -> None:
    s = SessionStore()
    s["cart"] = ["apple"]
    s.save()
    late = SessionStore(s.session_key)
    assert late["cart"] == ["apple"]
    login = SessionStore(s.session_key)
    login.cycle_key()  # what django.contrib.auth.login does, in a concurrent request
    late["note"] = "lost?"
    with pytest.raises(UpdateError):  # Django's middleware answers 400 SessionInterrupted
        late.save()
    assert dict(SessionStore(login.session_key).items()) == {"cart": ["apple"]}
    assert len(session_keys(configured, key_prefix)) == 1  # nothing resurrected under the old key


# -- zero-logout migration -----------------------------------------------------------------------------
def test_fallback_engine_moves_a_legacy_session_on_first_use(driver, redis_client, key_prefix) -> None:
    legacy = driver.legacy_cookie({"user": "carol", "cart": ["apple"]})
    r = driver.request("GET", "/whoami", legacy)
    assert r.json == {"user": "carol"} and r.cookie is None  # same key: the cookie stays valid
    assert driver.request("GET", "/get/cart", legacy).json == {"value": ["apple"]}
    assert len(session_keys(redis_client, key_prefix)) == 1
    from django.contrib.sessions.backends.file import SessionStore as FileSessionStore

    assert not FileSessionStore().exists(legacy)  # moved, not copied


def test_a_user_logged_in_with_the_db_engine_stays_logged_in(database, configured, key_prefix) -> None:
    old = DbSessionStore()
    old.update({"_auth_user_id": "7", "_auth_user_backend": "x.Backend", "cart": [1, 2]})
    old.create()
    with override_settings(SESSIONKIT_FALLBACK_ENGINE="django.contrib.sessions.backends.db"):
        s = SessionStore(old.session_key)
        assert s["_auth_user_id"] == "7" and s["cart"] == [1, 2]
        assert not DbSessionStore().exists(old.session_key)
        assert len(_conf.current().store.sessions_of("7")) == 1
        assert SessionStore("neverexisted12345").load() == {}


def test_zero_logout_is_the_default_with_django_contrib_sessions(database, configured, key_prefix) -> None:
    old = DbSessionStore()
    old.update({"_auth_user_id": "11", "cart": ["fig"]})
    old.create()
    with override_settings(SESSIONKIT_FALLBACK_ENGINE=None):  # switched off: not read through
        assert SessionStore(old.session_key).load() == {}
    s = SessionStore(old.session_key)  # SESSIONKIT_FALLBACK_ENGINE not set
    assert dict(s.items()) == {"_auth_user_id": "11", "cart": ["fig"]} and s.session_key == old.session_key
    assert not DbSessionStore().exists(old.session_key)  # moved on first contact
    assert len(_conf.current().store.sessions_of("11")) == 1


def test_default_fallback_needs_django_contrib_sessions(configured) -> None:
    assert _conf.fallback_engine() == (DB, True)
    apps = [a for a in django_settings.BASE["INSTALLED_APPS"] if a != "django.contrib.sessions"]
    with override_settings(INSTALLED_APPS=apps):
        assert _conf.fallback_engine() == (None, False)


def test_logout_removes_the_session_from_its_users_index(configured, key_prefix) -> None:
    s = SessionStore()
    s["_auth_user_id"] = "12"
    s.save()
    store = _conf.current().store
    index = store.config.user_index_key("12")
    assert configured.scard(index) == 1
    assert configured.ttl(index) > 0  # the index expires (-1 would be forever)
    s = SessionStore(s.session_key)
    assert s["_auth_user_id"] == "12"  # what django.contrib.auth.logout reads first
    s.flush()
    assert configured.scard(index) == 0


def test_import_command_copies_db_sessions(database, configured, key_prefix) -> None:
    keys = []
    for i in range(3):
        old = DbSessionStore()
        old.update({"n": i, "_auth_user_id": str(i)})
        old.create()
        keys.append(old.session_key)
    out = StringIO()
    call_command("sessionkit_import", "--from", "django.contrib.sessions.backends.db", "--delete", stdout=out)
    assert "imported 3 session(s)" in out.getvalue()
    assert [SessionStore(k)["n"] for k in keys] == [0, 1, 2]
    assert not any(DbSessionStore().exists(k) for k in keys)
    out = StringIO()
    call_command("sessionkit_stats", stdout=out)
    assert "sessions: 3" in out.getvalue() and "users with bound sessions: 3" in out.getvalue()


DB = "django.contrib.sessions.backends.db"


def test_import_then_logout_does_not_resurrect_through_the_fallback(database, configured, key_prefix) -> None:
    old = DbSessionStore()
    old.update({"_auth_user_id": "8"})
    old.create()
    call_command("sessionkit_import", "--from", DB, stdout=StringIO())  # the documented default
    with override_settings(SESSIONKIT_FALLBACK_ENGINE=DB):
        s = SessionStore(old.session_key)
        assert s["_auth_user_id"] == "8"
        s.flush()  # logout
        assert SessionStore(old.session_key).load() == {}  # not read through from the db again
    assert session_keys(configured, key_prefix) == []
    assert not DbSessionStore().exists(old.session_key)  # moved, not copied


def test_fallback_read_through_then_logout_does_not_resurrect(database, configured, key_prefix) -> None:
    old = DbSessionStore()
    old.update({"_auth_user_id": "9"})
    old.create()
    with override_settings(SESSIONKIT_FALLBACK_ENGINE=DB):
        s = SessionStore(old.session_key)
        assert s["_auth_user_id"] == "9"  # moved into Redis on first contact
        s.flush()
        assert SessionStore(old.session_key).load() == {}
        never_loaded = DbSessionStore()
        never_loaded.update({"_auth_user_id": "10"})
        never_loaded.create()
        SessionStore(never_loaded.session_key).flush()  # logout without reading the session first
        assert SessionStore(never_loaded.session_key).load() == {}
    assert session_keys(configured, key_prefix) == []


def test_import_keep_leaves_the_old_rows(database, configured) -> None:
    old = DbSessionStore()
    old.update({"n": 1})
    old.create()
    call_command("sessionkit_import", "--from", DB, "--keep", "--key", old.session_key, stdout=StringIO())
    assert DbSessionStore().exists(old.session_key) and SessionStore(old.session_key)["n"] == 1
    DbSessionStore(old.session_key).delete()


def test_revoke_user_command_ends_every_session_of_the_user(configured, key_prefix) -> None:
    keys = []
    for user in ("42", "42", "43"):
        s = SessionStore()
        s["_auth_user_id"] = user
        s.save()
        keys.append(s.session_key)
    out = StringIO()
    call_command("sessionkit_revoke_user", "42", stdout=out)
    assert "ended 2 session(s)" in out.getvalue()
    assert [SessionStore().exists(k) for k in keys] == [False, False, True]


def manage(*argv: str) -> tuple[int, str]:
    """``manage.py ARGV`` as Django runs it from the command line: its exit code and stderr."""
    err = StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", *argv]).execute()
    return int(exited.value.code or 0), err.getvalue()


DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.mark.parametrize(("argv", "what"), [
    (["sessionkit_stats"], "CommandError: cannot count the sessions: session scan failed: Redis is unreachable"),
    (["sessionkit_revoke_user", "42"],
     "CommandError: cannot end the sessions of user 42: session index read failed: Redis is unreachable"),
    (["sessionkit_import", "--from", DB],
     "CommandError: import stopped after moving 0 session(s) into Redis: session write failed"),
])
def test_commands_report_redis_down_in_one_line(database, configured, argv, what) -> None:
    old = DbSessionStore()
    old.update({"n": 1})
    old.create()
    try:
        with override_settings(SESSIONKIT_REDIS_URL=DOWN):
            code, err = manage(*argv)
        assert code == 1 and "Traceback" not in err
        (line,) = [line for line in err.splitlines() if line.startswith("CommandError")]
        assert line.startswith(what) and "Redis is unreachable" in line
        assert DbSessionStore().exists(old.session_key)  # not deleted: it never reached Redis
    finally:
        old.delete()


@pytest.mark.parametrize(("engine", "what"), [
    ("nope.engine", "CommandError: --from 'nope.engine': cannot import it (No module named 'nope')"),
    ("django.contrib.sessions", "CommandError: --from 'django.contrib.sessions' is not a session engine"),
])
def test_import_reports_a_bad_engine_in_one_line(configured, engine, what) -> None:
    code, err = manage("sessionkit_import", "--from", engine)
    assert code == 1 and "Traceback" not in err and what in err


# -- system checks -------------------------------------------------------------------------------------
def check_ids(deploy: bool = False) -> set[str]:
    return {m.id for m in run_checks(tags=["sessionkit"], include_deployment_checks=deploy)}


def test_checks_pass_with_a_reachable_redis(configured) -> None:
    assert check_ids() == set()
    configured.config_set("appendonly", "yes")  # the test server runs without persistence
    try:
        assert check_ids(deploy=True) == set()
    finally:
        configured.config_set("appendonly", "no")


def test_deploy_checks_warn_about_an_eviction_policy_that_logs_users_out(configured) -> None:
    policy = configured.config_get("maxmemory-policy")["maxmemory-policy"]
    configured.config_set("maxmemory-policy", "allkeys-lru")
    try:
        messages = [m for m in run_checks(tags=["sessionkit"], include_deployment_checks=True)
                    if m.id == "sessionkit.W003"]
    finally:
        configured.config_set("maxmemory-policy", policy)
    assert len(messages) == 2  # the policy, and no persistence on the test server
    assert "allkeys-lru" in messages[0].msg and "persistence is off" in messages[1].msg


def test_check_warns_about_db_sessions_stranded_by_a_disabled_fallback(database, configured) -> None:
    old = DbSessionStore()
    old.update({"_auth_user_id": "3"})
    old.create()
    try:
        assert check_ids() == set()  # the default fallback moves them on first contact
        with override_settings(SESSIONKIT_FALLBACK_ENGINE=None):
            assert check_ids() == {"sessionkit.W002"}
        with override_settings(SESSIONKIT_FALLBACK_ENGINE=DB):
            assert check_ids() == set()
    finally:
        old.delete()


def test_checks_report_misconfigurations(redis_url, configured) -> None:
    with override_settings(SESSIONKIT_REDIS_URL=None):
        assert check_ids() == {"sessionkit.E001"}
    with override_settings(SESSIONKIT_REDIS_URL="redis://127.0.0.1:1/0"):
        assert check_ids() == set()  # manage.py check (and createsuperuser) work while Redis is down
        assert check_ids(deploy=True) == {"sessionkit.E005"}  # check --deploy
    with override_settings(SESSION_SERIALIZER="drivers.django_settings.PickleSerializer"):
        assert check_ids() == {"sessionkit.E002"}
    with override_settings(MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"]):
        assert check_ids() == {"sessionkit.W001"}
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cache",
                           CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        assert check_ids() == {"sessionkit.E003"}


def test_check_warns_about_an_unknown_setting_with_the_closest_name(configured) -> None:
    with override_settings(SESSIONKIT_ABSOLUTE_TIMOUT=60):
        messages = [m for m in run_checks(tags=["sessionkit"]) if m.id == "sessionkit.W004"]
    assert [m.msg for m in messages] == [
        "unknown setting SESSIONKIT_ABSOLUTE_TIMOUT (did you mean 'SESSIONKIT_ABSOLUTE_TIMEOUT'?)"]


@pytest.mark.parametrize(("name", "meant"), [
    ("SESSIONKIT_IDLE_TIMOUT", "SESSION_COOKIE_AGE"), ("SESSIONKIT_IDLE_TIMEOUT", "SESSION_COOKIE_AGE"),
    ("SESSIONKIT_SERIALIZER", "SESSION_SERIALIZER"),
])
def test_an_unknown_setting_held_by_a_django_setting_points_at_it(configured, name, meant) -> None:
    with override_settings(**{name: 60}):
        messages = [m.msg for m in run_checks(tags=["sessionkit"]) if m.id == "sessionkit.W004"]
    assert messages == [f"unknown setting {name} (did you mean {meant!r}?)"]


def test_check_errors_do_not_hide_warnings(configured) -> None:
    with override_settings(SESSION_SERIALIZER="drivers.django_settings.PickleSerializer", SESSIONKIT_MAX_SIZ=1,
                           MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"]):
        assert check_ids() == {"sessionkit.E002", "sessionkit.W004", "sessionkit.W001"}
    with override_settings(SESSIONKIT_REDIS_URL=None, SESSIONKIT_MAX_SIZ=1):
        assert check_ids() == {"sessionkit.E001", "sessionkit.W004"}
    with override_settings(SESSIONKIT_MAX_SIZE=-1, SESSIONKIT_MAX_SIZ=1):
        assert check_ids() == {"sessionkit.E004", "sessionkit.W004"}


def test_check_reports_an_unimportable_serializer_and_every_other_problem(configured) -> None:
    gone = "django.contrib.sessions.serializers.PickleSerializer"  # removed in Django 5
    with override_settings(SESSION_SERIALIZER=gone, SESSIONKIT_IDLE_TIMOUT=60,
                           MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"]):
        messages = {m.id: m.msg for m in run_checks(tags=["sessionkit"])}
        assert set(messages) == {"sessionkit.E002", "sessionkit.W004", "sessionkit.W001"}
        assert f"SESSION_SERIALIZER {gone!r} cannot be imported" in messages["sessionkit.E002"]
        with override_settings(SESSIONKIT_REDIS_URL=None):
            assert check_ids() == {"sessionkit.E001", "sessionkit.E002", "sessionkit.W004", "sessionkit.W001"}
        code, err = manage("check")
    assert code == 1 and "Traceback" not in err and "sessionkit.E002" in err and "sessionkit.W004" in err


@pytest.mark.parametrize(("values", "message"), [
    ({"SESSIONKIT_ABSOLUTE_TIMEOUT": "a week"}, "SESSIONKIT_ABSOLUTE_TIMEOUT must be a number of seconds"),
    ({"SESSIONKIT_WAIT_REPLICAS": -1}, "SESSIONKIT_WAIT_REPLICAS must be a whole number"),
    ({"SESSIONKIT_DEGRADED": "no"}, "SESSIONKIT_DEGRADED must be True or False"),
    ({"SESSION_COOKIE_AGE": "two weeks"}, "SESSION_COOKIE_AGE must be a number of seconds"),
])
def test_bad_values_name_the_setting(configured, values, message) -> None:
    with override_settings(**values), pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        SessionStore()


@pytest.mark.parametrize(("url", "reason"), [
    ("redis://127.0.0.1:notaport/0", "notaport"), ("redis://u:hunter2@127.0.0.1:99999/0", "out of range"),
    ("http://127.0.0.1:6379/0", "unsupported scheme"), ("redis:///0", "no host"),
])
def test_an_invalid_redis_url_names_the_setting_and_masks_the_password(configured, url, reason) -> None:
    with override_settings(SESSIONKIT_REDIS_URL=url), \
            pytest.raises(ImproperlyConfigured, match=re.escape(reason)) as caught:
        SessionStore()
    assert "in SESSIONKIT_REDIS_URL" in str(caught.value) and "hunter2" not in str(caught.value)
    with override_settings(SESSIONKIT_REDIS_URL=url):
        assert check_ids() == {"sessionkit.E004"}  # manage.py check names it too, no traceback


def test_durations_and_the_shared_option_names(configured) -> None:
    events: list[object] = []
    with override_settings(SESSIONKIT_ABSOLUTE_TIMEOUT="1d", SESSIONKIT_REFRESH_INTERVAL="2m",
                           SESSIONKIT_WAIT_REPLICAS=0, SESSIONKIT_HOOKS=[events.append]):
        config = _conf.current().store.config
        assert (config.absolute_timeout, config.refresh_interval) == (86400, 120)
        s = SessionStore()
        s["a"] = 1
        s.save()
    assert [e.operation for e in events] == ["save"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("host", "secure_request", "override", "secure"), [
    ("testserver", False, {}, False), ("localhost:8000", False, {}, False), ("example.com", False, {}, True),
    ("testserver", True, {}, True), ("example.com", False, {"SESSION_COOKIE_SECURE": False}, False),
    ("testserver", False, {"SESSION_COOKIE_SECURE": True}, True),
])
def test_the_cookie_is_secure_except_on_plain_http_localhost(driver, host, secure_request, override,
                                                             secure) -> None:
    with override_settings(**override):
        client = Client()  # built after the override: the middleware reads it once
        r = client.post("/set/a/1", HTTP_HOST=host, secure=secure_request)
    assert bool(r.cookies["sessionid"]["secure"]) is secure


def test_a_secure_cookie_under_debug_is_warned_about_at_start_up(driver, caplog) -> None:
    with caplog.at_level("WARNING", logger="sessionkit"):
        with override_settings(DEBUG=True, SESSION_COOKIE_SECURE=True):
            assert Client().get("/untouched").status_code == 200  # builds the middleware chain
        with override_settings(DEBUG=True):
            assert Client().get("/untouched").status_code == 200  # the rule: nothing to warn about
    assert [r.getMessage().split()[0] for r in caplog.records] == ["SESSION_COOKIE_SECURE"]


# -- examples/django: before (in-process state) and after (sessionkit) --------------------------------
REPO = Path(__file__).resolve().parents[2]


def load_example(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("SESSIONKIT_DEMO", "1")
    module_name = f"examples.django.{name}.app"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, REPO / f"examples/django/{name}/app.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def example_settings(module: ModuleType, **extra: object) -> override_settings:
    """The example's own settings, applied over the test process's (INSTALLED_APPS is a subset)."""
    assert set(module.SETTINGS["INSTALLED_APPS"]) <= set(django_settings.BASE["INSTALLED_APPS"])
    values = {k: v for k, v in module.SETTINGS.items() if k != "INSTALLED_APPS"}
    return override_settings(**{**values, **extra})


def walk(client: Client) -> list[object]:
    """login → cart → messages → logout; the observable replies, in order."""
    seen: list[object] = []
    for method, url, data in [
        ("post", "/login", {"user": "ann"}),
        ("get", "/me", None),
        ("post", "/cart/add", {"item": "apple"}),
        ("post", "/cart/add", {"item": "pear"}),
        ("get", "/cart", None),
        ("get", "/messages", None),
        ("get", "/messages", None),
        ("post", "/logout", None),
        ("get", "/me", None),
    ]:
        r = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        seen.append((r.status_code, r.json()))
    return seen


def test_example_after_walks_login_cart_logout_in_redis(monkeypatch, redis_url, key_prefix, redis_client) -> None:
    module = load_example("after", monkeypatch)
    with example_settings(module, SESSIONKIT_REDIS_URL=redis_url, SESSIONKIT_KEY_PREFIX=key_prefix):
        client = Client()
        assert client.get("/health").json()["status"] == "ok"
        assert session_keys(redis_client, key_prefix) == []  # /health never touches the session
        assert walk(client) == SHOP_JOURNEY
        # JSON bodies work too, and the session lives in Redis, not in the process
        r = client.post("/login", {"user": "bob"}, content_type="application/json")
        assert r.json() == {"user": "bob"}
        assert len(session_keys(redis_client, key_prefix)) == 1


def test_example_before_walks_the_same_journey_on_one_process(monkeypatch) -> None:
    module = load_example("before", monkeypatch)
    with example_settings(module):
        assert walk(Client()) == SHOP_JOURNEY


def test_example_after_refuses_to_start_without_a_secret() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SESSIONKIT_DEMO")}
    proc = subprocess.run([sys.executable, "-c", "import examples.django.after.app"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "SECRET_KEY is not set" in proc.stderr


# -- docs/django.md: every snippet runs -----------------------------------------------------------------
DOC = (REPO / "docs" / "django.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


STARTPROJECT_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


def test_doc_python_snippets_configure_a_working_engine(database, redis_url, key_prefix, redis_client) -> None:
    snippets = blocks("python")
    assert len(snippets) == 4
    for code in snippets:
        # a settings.py as startproject writes it (the apps this test process can load)
        start = {"INSTALLED_APPS": [a for a in django_settings.BASE["INSTALLED_APPS"] if "sessionkit" not in a],
                 "MIDDLEWARE": list(STARTPROJECT_MIDDLEWARE)}
        namespace: dict[str, object] = {k: list(v) for k, v in start.items()}
        exec(textwrap.dedent(code), namespace)
        values = {k: v for k, v in namespace.items() if k.isupper() and v != start.get(k)}
        assert set(values.get("INSTALLED_APPS", [])) <= set(django_settings.BASE["INSTALLED_APPS"])
        if "MIDDLEWARE" in values:  # one entry replaced, every other one kept
            assert [m for m in values["MIDDLEWARE"] if m not in STARTPROJECT_MIDDLEWARE] == [
                "sessionkit.adapters.django.middleware.SessionMiddleware"]
            assert len(values["MIDDLEWARE"]) == len(STARTPROJECT_MIDDLEWARE)
        values.pop("INSTALLED_APPS", None)
        assert values  # each snippet sets something
        values.update(SESSIONKIT_REDIS_URL=redis_url, SESSIONKIT_KEY_PREFIX=key_prefix)  # the test server
        with override_settings(**values):
            assert {m.id for m in run_checks(tags=["sessionkit"])} == set()
            s = SessionStore()
            s["k"] = code
            s.save()
            assert SessionStore(s.session_key)["k"] == code


def test_doc_management_commands_run(database, configured) -> None:
    lines = [line.split("#")[0].split() for block in blocks("sh") for line in block.splitlines()]
    commands = [words[2:] for words in lines if words[:2] == ["python", "manage.py"]]
    assert [c[0] for c in commands] == ["sessionkit_import", "sessionkit_import", "sessionkit_stats",
                                        "sessionkit_revoke_user", "clearsessions"]
    for name, *args in commands:
        call_command(name, *args, stdout=StringIO())


def test_doc_degraded_logout_still_answers_503(redis_url, key_prefix, redis_server) -> None:
    d = make_driver(redis_url, key_prefix, degraded=True)
    try:
        cookie = d.request("POST", "/set/a/1").cookie
        redis_server.stop()
        try:
            r = d.request("POST", "/logout", cookie)
            assert (r.status, r.cookie) == (503, None)
        finally:
            redis_server.start()
    finally:
        d.close()


# -- more migration sources, async migration, Redis topologies ---------------------------------------------
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "legacy"}}


@pytest.mark.parametrize("engine", ["db", "cached_db", "cache", "file"])
def test_fallback_read_through_from_every_server_side_engine(engine, database, configured, key_prefix) -> None:
    path = f"django.contrib.sessions.backends.{engine}"
    with override_settings(CACHES=LOCMEM, SESSIONKIT_FALLBACK_ENGINE=path):
        old = importlib.import_module(path).SessionStore()
        old.update({"_auth_user_id": "5", "cart": ["pear"]})
        old.create()
        s = SessionStore(old.session_key)
        assert dict(s.items()) == {"_auth_user_id": "5", "cart": ["pear"]}
        assert s.session_key == old.session_key  # the user's cookie stays valid
        assert not importlib.import_module(path).SessionStore().exists(old.session_key)
        assert len(session_keys(configured, key_prefix)) == 1
        # the next request reads Redis only
        with measure(configured) as cost:
            assert SessionStore(old.session_key)["cart"] == ["pear"]
        assert cost.commands == {"hgetall": 1}


def test_async_fallback_read_through(database, configured, key_prefix) -> None:
    old = DbSessionStore()
    old.update({"user": "dora"})
    old.create()

    async def read() -> dict[str, object]:
        return await SessionStore(old.session_key).aload()

    with override_settings(SESSIONKIT_FALLBACK_ENGINE="django.contrib.sessions.backends.db"):
        assert asyncio.run(read()) == {"user": "dora"}
    assert not DbSessionStore().exists(old.session_key)
    assert len(session_keys(configured, key_prefix)) == 1


def test_import_command_from_the_file_engine_and_by_key(configured) -> None:
    from django.contrib.sessions.backends.file import SessionStore as FileSessionStore

    olds = []
    for i in range(2):
        old = FileSessionStore()
        old["i"] = i
        old.create()
        olds.append(old.session_key)
    out = StringIO()
    call_command("sessionkit_import", "--from", "django.contrib.sessions.backends.file", stdout=out)
    assert "imported 2 session(s)" in out.getvalue()
    assert [SessionStore(k)["i"] for k in olds] == [0, 1]
    out = StringIO()  # again: already in Redis, skipped, nothing overwritten
    call_command("sessionkit_import", "--from", "django.contrib.sessions.backends.file", "--key", olds[0],
                 stdout=out)
    assert "imported 0 session(s) into Redis, skipped 1" in out.getvalue()
    for key in olds:
        FileSessionStore(key).delete()


@pytest.mark.cluster
def test_cluster_url_round_trip_login_and_revoke(redis_cluster, key_prefix) -> None:
    url = f"redis+cluster://127.0.0.1:{redis_cluster.masters[0].port}"
    with override_settings(SESSIONKIT_REDIS_URL=url, SESSIONKIT_KEY_PREFIX=key_prefix):
        keys = []
        for _ in range(6):
            s = SessionStore()
            s["cart"] = [1]
            s.save()
            s.cycle_key()
            s["_auth_user_id"] = "9"
            s.save()
            keys.append(s.session_key)
        assert all(SessionStore(k)["cart"] == [1] for k in keys)
        call_command("sessionkit_revoke_user", "9", stdout=StringIO())
        assert not any(SessionStore().exists(k) for k in keys)


# -- django.contrib.auth end to end: a user logged in under the db engine stays logged in ----------------
def auth_me(request):  # type: ignore[no-untyped-def]
    from django.http import JsonResponse

    if request.method == "POST":
        request.session.setdefault("cart", []).append(request.GET["item"])
    name = request.user.get_username() if request.user.is_authenticated else None
    return JsonResponse({"user": name, "cart": request.session.get("cart")})


def auth_logout(request):  # type: ignore[no-untyped-def]
    from django.contrib.auth import logout
    from django.http import JsonResponse

    logout(request)
    return JsonResponse({"user": None})


def auth_urls() -> ModuleType:
    from django.urls import path

    urls = ModuleType("auth_urls")  # a urlconf object (hashable, unlike a SimpleNamespace)
    urls.urlpatterns = [path("me", auth_me), path("logout", auth_logout)]  # type: ignore[attr-defined]
    return urls


def test_auth_login_under_the_db_engine_survives_the_switch(database, configured, key_prefix) -> None:
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(username=f"ann-{key_prefix}")
    auth_mw = "django.contrib.auth.middleware.AuthenticationMiddleware"
    common = {"ROOT_URLCONF": auth_urls(), "SESSIONKIT_FALLBACK_ENGINE": "django.contrib.sessions.backends.db"}
    client = Client()
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db",
                           MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware", auth_mw], **common):
        client.force_login(user)
        assert client.post("/me?item=apple").json() == {"user": user.username, "cart": ["apple"]}
    cookie = client.cookies["sessionid"].value
    assert DbSessionStore().exists(cookie) and session_keys(configured, key_prefix) == []
    client = Client()  # a new handler: a client builds its middleware chain once, on first use
    client.cookies["sessionid"] = cookie
    with override_settings(MIDDLEWARE=["sessionkit.adapters.django.middleware.SessionMiddleware", auth_mw],
                           **common):
        assert client.get("/me").json() == {"user": user.username, "cart": ["apple"]}  # still logged in
        assert client.cookies["sessionid"].value == cookie
        assert not DbSessionStore().exists(cookie)
        assert client.post("/me?item=pear").json() == {"user": user.username, "cart": ["apple", "pear"]}
        assert len(_conf.current().store.sessions_of(user.pk)) == 1  # bound via _auth_user_id
        client.post("/logout")
        assert client.get("/me").json() == {"user": None, "cart": None}
    assert session_keys(configured, key_prefix) == []


# -- ASGI: async views using the async session API ---------------------------------------------------------
async def async_counter(request):  # type: ignore[no-untyped-def]
    from django.http import JsonResponse

    n = await request.session.aget("n", 0) + 1
    await request.session.aset("n", n)
    return JsonResponse({"n": n})


def test_async_views_through_asgi(configured, key_prefix) -> None:
    from django.test import AsyncClient
    from django.urls import path

    urls = ModuleType("async_urls")
    urls.urlpatterns = [path("count", async_counter)]  # type: ignore[attr-defined]

    async def scenario() -> list[int]:
        client = AsyncClient()
        return [(await client.post("/count")).json()["n"] for _ in range(3)]

    with override_settings(ROOT_URLCONF=urls):
        assert asyncio.run(scenario()) == [1, 2, 3]
    assert len(session_keys(configured, key_prefix)) == 1
