"""The examples as documented, on two gunicorn replicas each: ``before`` loses the session on the
other replica, ``after`` (sessionkit) keeps it. The FastAPI shop is covered in-process by
tests/adapters/test_starlette.py, and every shop runs behind nginx in tests/e2e/."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from _topologies import wait_until

from sessionkit.demo._children import end, spawn
from sessionkit.demo._servers import free_port

REPO = Path(__file__).resolve().parent.parent


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/health").status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def replicas(redis_url: str) -> Iterator[Callable[[str], list[str]]]:
    """Start two gunicorn replicas of ``examples/<framework>/<variant>`` with the documented command."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(module: str) -> list[str]:
        urls = []
        env = {**os.environ, "REDIS_URL": redis_url, "SECRET_KEY": "same-secret-on-every-replica-0123456789"}
        for _ in range(2):
            port = free_port()
            procs.append(spawn(
                [sys.executable, "-m", "gunicorn", module, "-b", f"127.0.0.1:{port}", "--workers", "1"],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_until(lambda url=url: _healthy(url), timeout=30, what=url)
        return urls

    yield start
    for proc in procs:
        end(proc, grace=10)


@pytest.mark.parametrize("framework", ["flask", "django"])
def test_two_replicas_lose_the_session_before_and_keep_it_after(
    framework: str, replicas, redis_client: redis.Redis, redis_server
) -> None:
    if redis_server.process is None:
        pytest.fail("the examples write under the default key prefix: run this test on a server the suite owns")
    before = set(redis_client.scan_iter(match="sessionkit:s:*"))  # another test's default-prefix keys
    outcomes = {}
    for variant in ("before", "after"):
        a, b = replicas(f"examples.{framework}.{variant}.app:app")
        with httpx.Client() as client:
            assert client.post(a + "/login", data={"user": "ann"}).status_code == 200
            client.post(a + "/cart/add", data={"item": "apple"})
            outcomes[variant] = (client.get(b + "/me").status_code, client.get(b + "/cart").json())
    assert outcomes == {
        "before": (401, {"error": "login required"}),
        "after": (200, {"items": ["apple"]}),
    }
    sessions = [k for k in redis_client.scan_iter(match="sessionkit:s:*") if k not in before]
    assert len(sessions) == 1 and redis_client.exists("sessionkit:u:ann")  # the session, ann's index
    redis_client.delete(*sessions, "sessionkit:u:ann")  # the examples use the default key prefix
