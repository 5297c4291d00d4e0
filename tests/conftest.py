"""Real servers for the test suite, started on free loopback ports.

- ``redis_server``: one standalone server per test session (or ``$SESSIONKIT_TEST_REDIS_URL``).
- ``redis_url`` / ``key_prefix`` / ``redis_client``: per-test isolation by key prefix; a server the
  suite did not start is never flushed.
- ``own_server``: a standalone server of the test's own (to stop, restart or pause with SIGSTOP).
- ``sentinel_group``: master + replica + three sentinels, with ``kill_master_and_wait_for_failover()``.
- ``redis_cluster``: three masters with one replica each.

Tests that start a Sentinel group, a Cluster or an end-to-end deployment are marked ``slow``
(``pytest -m "not slow"`` skips them locally). Every server is started through
``sessionkit.demo._children``: when the run ends, a process no fixture ended is killed and fails the run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Iterator

import pytest
import redis
from _topologies import Cluster, SentinelGroup

from sessionkit.demo import _children
from sessionkit.demo._servers import ServerProcess

_STARTED: list[str] = []
_LEFT_BEHIND: list[int] = []
_SLOW_MARKERS = {"e2e", "sentinel", "cluster"}
_SLOW_FIXTURES = {"sentinel_group", "redis_cluster", "e2e_redis"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        markers = {m.name for m in item.iter_markers()}
        if markers & _SLOW_MARKERS or _SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


class StandaloneServer:
    """What tests get: the URL, and ``stop()``/``start()`` when the suite owns the process."""

    def __init__(self, url: str, process: ServerProcess | None) -> None:
        self.url = url
        self.process = process

    def stop(self) -> None:
        if self.process is None:
            pytest.fail("this test stops the server; it cannot run against SESSIONKIT_TEST_REDIS_URL")
        self.process.stop()

    def start(self) -> None:
        assert self.process is not None
        self.process.start()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[StandaloneServer]:
    external = os.environ.get("SESSIONKIT_TEST_REDIS_URL")
    if external:
        info = redis.Redis.from_url(external).info("server")
        _STARTED.append(f"external server at {external}: redis_version={info['redis_version']}")
        yield StandaloneServer(external, None)
        return
    proc = ServerProcess()
    proc.start()
    _STARTED.append(f"standalone: {proc.version()} ({proc.binary})")
    try:
        yield StandaloneServer(proc.url, proc)
    finally:
        proc.cleanup()


@pytest.fixture
def own_server() -> Iterator[ServerProcess]:
    """A server only this test uses; resumed first if the test left it stopped (SIGSTOP)."""
    process = ServerProcess()
    process.start()
    try:
        yield process
    finally:
        if process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)
        process.cleanup()


@pytest.fixture
def key_prefix() -> str:
    return f"sktest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def redis_url(redis_server: StandaloneServer) -> str:
    if redis_server.process is not None and not redis_server.process.running:
        redis_server.start()  # a previous test stopped it
    return redis_server.url


@pytest.fixture
def redis_client(redis_url: str, key_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    try:
        keys = list(client.scan_iter(match=f"{key_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.ConnectionError:
        pass
    client.close()


@pytest.fixture(scope="session")
def sentinel_group() -> Iterator[SentinelGroup]:
    group = SentinelGroup()
    try:
        group.start()
        _STARTED.append(f"sentinel group: master {group.servers[0].port}, sentinels {[s.port for s in group.sentinels]}")
        yield group
    finally:
        group.cleanup()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        cluster.start()
        _STARTED.append(f"cluster: masters {[m.port for m in cluster.masters]}")
        yield cluster
    finally:
        cluster.cleanup()


@pytest.hookimpl(trylast=True)  # after pytest's own sessionfinish, which tears down the fixtures left
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every fixture has run its teardown by now: a child still running was left behind by a test."""
    _LEFT_BEHIND.extend(_children.end_all())
    if _LEFT_BEHIND:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _LEFT_BEHIND:
        terminalreporter.section("processes left running by the tests (now killed)", red=True)
        terminalreporter.write_line(f"PIDs {_LEFT_BEHIND}: a fixture must end every process it starts")
    if _STARTED:
        terminalreporter.section("servers used")
        for line in _STARTED:
            terminalreporter.write_line(line)
