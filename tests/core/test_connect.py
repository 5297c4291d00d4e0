"""``sessionkit._connect``: URLs are validated before any connection, errors mask passwords."""

from __future__ import annotations

import asyncio
import re

import pytest
import redis

from sessionkit import AsyncRedisStore, ConfigurationError, RedisStore, SessionBackendUnavailable
from sessionkit._connect import check_url, mask_url
from sessionkit._scripts import WRITE

BAD_URLS = [
    ("redis://127.0.0.1:notaport/0", "Port could not be cast to integer value as 'notaport'"),
    ("rediss://u:hunter2@127.0.0.1:99999/0", "Port out of range"),
    ("redis://127.0.0.1:6379/zero", "the database 'zero' is not a number"),
    ("redis://127.0.0.1:6379/0?socket_timeout=soon", "Invalid value for 'socket_timeout'"),
    ("redis://", "no host"),
    ("redis://:hunter2@:6379/0", "no host"),
    ("unix://", "no socket path"),
    ("http://127.0.0.1:6379/0", "unsupported scheme http://"),
    ("127.0.0.1:6379", "unsupported scheme"),
    ("redis://u:hunter2@[::1/0", "Invalid IPv6 URL"),
    ("redis+sentinel://127.0.0.1:26379", "needs sentinel addresses and a service name"),
    ("redis+sentinel://u:hunter2@127.0.0.1:x/mymaster", "bad sentinel address '127.0.0.1:x'"),
    ("redis+sentinel://127.0.0.1:26379/mymaster?db=x", "the database 'x' is not a number"),
    ("redis+cluster://127.0.0.1:abc", "Port could not be cast"),
]


@pytest.mark.parametrize(("url", "reason"), BAD_URLS)
def test_a_bad_url_is_a_configuration_error_naming_the_setting(url: str, reason: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_url(url, "SESSIONKIT_REDIS_URL")
    message = str(caught.value)
    assert reason in message and " in SESSIONKIT_REDIS_URL: " in message
    assert "hunter2" not in message and mask_url(url) in message


@pytest.mark.parametrize(("url", "reason"), BAD_URLS)
def test_the_stores_refuse_a_bad_url_before_connecting(url: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid Redis URL") as caught:
        RedisStore(url)
    assert reason in str(caught.value) and "hunter2" not in str(caught.value)

    async def make() -> None:
        AsyncRedisStore(url)

    with pytest.raises(ConfigurationError, match="invalid Redis URL") as caught:
        asyncio.run(make())
    assert reason in str(caught.value) and "hunter2" not in str(caught.value)


@pytest.mark.parametrize("url", [
    "redis://127.0.0.1:6379/0", "rediss://u:pw@cache.example:6380/1", "unix:///run/redis.sock?db=2",
    "redis+sentinel://u:pw@a:26379,b:26379/mymaster?db=1", "redis+cluster://127.0.0.1:7000",
])
def test_good_urls_pass_unchanged(url: str) -> None:
    assert check_url(url, "SESSIONKIT_REDIS_URL") == url


def test_a_non_string_url_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match=re.escape("SessionMiddleware(redis_url=...) must be a URL string")):
        check_url(6379, "SessionMiddleware(redis_url=...)")


def test_a_store_works_with_a_valid_url(redis_url: str, key_prefix: str) -> None:
    store = RedisStore(redis_url, secret_keys="s" * 20, key_prefix=key_prefix)
    session = store.open(None)
    session["a"] = 1
    assert dict(store.open(store.save(session).value)) == {"a": 1}


# -- the Redis-unavailable message states only what applies ---------------------------------------
DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_a_refused_read_mentions_no_write_and_no_web_advice(redis_url: str, key_prefix: str) -> None:
    up = RedisStore(redis_url, secret_keys="s" * 20, key_prefix=key_prefix)
    session = up.open(None)
    session["a"] = 1
    cookie = up.save(session).value
    down = RedisStore(DOWN, secret_keys="s" * 20, key_prefix=key_prefix)
    with pytest.raises(SessionBackendUnavailable) as caught:
        dict(down.open(cookie))
    message = str(caught.value)
    assert message.startswith("session read failed: Redis is unreachable (ConnectionError")
    assert "Check the Redis URL and that the server is up." in message
    for advice in ("may still have been applied", "degraded", "503"):
        assert advice not in message


def test_the_degraded_mode_warning_does_not_suggest_degraded_mode(redis_url: str, key_prefix: str,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    up = RedisStore(redis_url, secret_keys="s" * 20, key_prefix=key_prefix)
    session = up.open(None)
    session["a"] = 1
    cookie = up.save(session).value
    down = RedisStore(DOWN, secret_keys="s" * 20, key_prefix=key_prefix, degraded=True)
    with caplog.at_level("WARNING", logger="sessionkit"):
        assert dict(down.open(cookie)) == {}
    (warning,) = [r.getMessage() for r in caplog.records if "degraded" in r.getMessage()]
    assert "serving an empty degraded session" in warning and "Redis is unreachable" in warning
    assert "degraded mode to serve" not in warning and "503" not in warning


def test_a_write_that_timed_out_may_have_been_applied_and_says_so(redis_url: str, key_prefix: str,
                                                                  redis_client: redis.Redis) -> None:
    redis_client.script_load(WRITE)
    store = RedisStore(redis_url, secret_keys="s" * 20, key_prefix=key_prefix, local_cache=False)
    session = store.open(None)
    session["a"] = 1
    redis_client.client_pause(8000, all=False)  # WRITE mode: scripts that write wait, reads answer
    try:
        with pytest.raises(SessionBackendUnavailable) as caught:
            store.save(session)
    finally:
        redis_client.client_unpause()
    message = str(caught.value)
    assert message.startswith("session write failed: Redis is unreachable (TimeoutError")
    assert message.endswith("The write timed out: it may still have been applied.")
    assert "degraded" not in message and "503" not in message
