"""``sessionkit demo`` when its Redis goes away mid-run: one line, exit 2, nothing left running."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _topologies import wait_until

from sessionkit.demo._children import scaled
from sessionkit.demo._servers import ServerProcess

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "sessionkit"]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_redis_stopping_mid_demo_is_one_line_and_exit_2(tmp_path: Path) -> None:
    server = ServerProcess()
    server.start()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTHONPATH")}
    # Enough steps that the first column is still walking when the server stops.
    proc = subprocess.Popen([*CLI, "demo", "--redis-url", server.url, "--users", "2", "--steps", "400"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    ports: list[int] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + scaled(180)
        line = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "gunicorn replicas on ports" in line or not line:
                break
        ports = [int(p) for p in re.findall(r"\d+", line.split("ports", 1)[1].split("]")[0])]
        ports += [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", line)]
        assert len(ports) == 4, line
        server.stop()  # Redis goes away while the users walk
        out, err = proc.communicate(timeout=scaled(300))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.cleanup()
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    (message,) = err.splitlines()
    assert message.startswith(f"sessionkit demo: lost Redis at {server.url} during the demo (ConnectionError: ")
    assert re.search(r"; stopped every process the demo started, could not delete its keys "
                     r"\(sessionkit-demo:[0-9a-f]{8}:\*\)$", message), message
    assert "sessionkit/round-robin" not in out  # it stopped at the column it was in
    wait_until(lambda: not any(_listening(p) for p in ports), timeout=60,
               what=f"the demo's replicas and nginx to stop listening on {ports}")
