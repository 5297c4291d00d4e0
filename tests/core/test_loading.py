"""A Redis that is still loading its dataset after a restart answers ``-LOADING`` (redis-py:
``BusyLoadingError``, a ``ConnectionError``). Both twins treat it as the server being unavailable:
retried, then 503 (``SessionBackendUnavailable``), and served again once loading ends."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import redis

from sessionkit import AsyncRedisStore, RedisStore, SessionBackendUnavailable
from sessionkit.demo._children import scaled
from sessionkit.demo._servers import ServerProcess

SECRET = "loading-secret-0123456789abcdef"
#: Keys in the dump and microseconds of (test-only) delay per key while loading: about 10 s of LOADING.
FILLER, DELAY_US = 2000, 5000


@pytest.fixture
def server(own_server: ServerProcess) -> ServerProcess:
    return own_server


def _loading(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"HGETALL probe\r\n")
            return sock.recv(64).startswith(b"-LOADING")
    except OSError:
        return False


def test_a_server_loading_its_dataset_gives_503_then_recovers(server: ServerProcess, key_prefix: str) -> None:
    sync_store = RedisStore(url=server.url, secret_keys=SECRET, key_prefix=key_prefix)
    async_store = AsyncRedisStore(url=server.url, secret_keys=SECRET, key_prefix=key_prefix)
    session = sync_store.open(None)
    session["user"] = "ann"
    sync_cookie = sync_store.save(session).value
    assert sync_cookie

    async def async_cookie() -> str:
        session = await async_store.open(None)
        session["user"] = "bob"
        value = (await async_store.save(session)).value
        assert value
        return value

    loop = asyncio.new_event_loop()
    try:
        a_cookie = loop.run_until_complete(async_cookie())
        client = redis.Redis.from_url(server.url)
        with client.pipeline(transaction=False) as pipe:
            for i in range(FILLER):
                pipe.set(f"{key_prefix}filler:{i}", "x" * 64)
            pipe.execute()
        client.save()
        client.close()

        server.stop()
        server.extra_config += [f"key-load-delay {DELAY_US}", "loading-process-events-interval-bytes 1024"]
        starting = threading.Thread(target=server.start, kwargs={"timeout": 120})
        starting.start()
        try:
            deadline = time.monotonic() + scaled(30)
            while not _loading(server.port):
                assert time.monotonic() < deadline, "the server never reported LOADING"
                time.sleep(0.02)
            with pytest.raises(SessionBackendUnavailable):
                sync_store.open(sync_cookie).get("user")  # the sync twin reads on first access
            with pytest.raises(SessionBackendUnavailable):
                loop.run_until_complete(async_store.open(a_cookie))
            assert _loading(server.port), "loading ended before both reads: raise DELAY_US"
        finally:
            starting.join(scaled(120))
        assert server.running
        assert sync_store.open(sync_cookie)["user"] == "ann"
        assert loop.run_until_complete(async_store.open(a_cookie))["user"] == "bob"
    finally:
        sync_store.close()
        loop.run_until_complete(async_store.aclose())
        loop.close()
