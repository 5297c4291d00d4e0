"""Read-your-writes across replicas with the local cache on, end to end: three app processes behind
round-robin nginx, one client alternating a write and a read of one session; every read must show
the write just before it, although each replica holds the session in its cache."""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sessionkit.demo._procs import Nginx, Replica, gunicorn_argv, uvicorn_argv
from sessionkit.demo._servers import ServerProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

APPS = Path(__file__).resolve().parents[2] / "benchmarks"  # small apps with /set and /dump
PAIRS = 10_000


class Client:
    """One keep-alive connection to nginx, cookies by hand."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def get(self, path: str) -> tuple[int, object]:
        self.conn.request("GET", path, headers={"Cookie": self.cookie} if self.cookie else {})
        resp = self.conn.getresponse()
        body = resp.read()
        for header in resp.msg.get_all("Set-Cookie") or []:
            self.cookie = header.split(";", 1)[0].strip()
        return resp.status, json.loads(body) if body else None


@pytest.fixture(params=["flask", "starlette"])
def deployment(request: pytest.FixtureRequest, e2e_redis: ServerProcess, tmp_path: Path) -> Iterator[int]:
    framework = request.param
    env = {**os.environ, "BENCH_CONFIG": "sessionkit", "REDIS_URL": e2e_redis.url, "PYTHONPATH": str(APPS),
           "PYTHONDONTWRITEBYTECODE": "1"}
    replicas: list[Replica] = []
    nginx: Nginx | None = None
    try:
        for n in range(3):
            port = free_port()
            argv = (gunicorn_argv("_app_flask:app", port) if framework == "flask"
                    else uvicorn_argv("_app_starlette:app", port))
            replica = Replica(f"{framework}{n}", argv, port, env=env, cwd=APPS, log_dir=tmp_path)
            replicas.append(replica)
            replica.start()
        nginx = Nginx([r.port for r in replicas], tmp_path)
        nginx.start()
        yield nginx.rr_port
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            replica.kill()


def test_alternating_write_and_read_through_three_replicas_is_never_stale(deployment: int) -> None:
    client = Client(deployment)
    assert client.get("/login")[0] == 200 and client.cookie
    stale: list[tuple[int, object]] = []
    for i in range(PAIRS):
        status, _ = client.get(f"/set?key=n&value={i}")
        assert status == 200
        status, body = client.get("/dump")
        assert status == 200 and isinstance(body, dict)
        if body.get("n") != str(i):
            stale.append((i, body.get("n")))
    client.conn.close()
    assert stale == [], f"{len(stale)} stale reads of {PAIRS}, first: {stale[:5]}"
