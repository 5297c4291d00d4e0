"""No process outlives the program that started it: not after a failing test, not after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _topologies import wait_until

from sessionkit.demo import _children

BIN = Path(sys.executable).parent
# Starts a Redis server, a gunicorn master with two workers and nginx with its worker, as the
# demo and the fixtures do, then prints their process groups and waits to be killed (or fails).
START_ALL = """
import json, sys
from pathlib import Path
from sessionkit.demo._procs import Nginx, Replica, gunicorn_argv
from sessionkit.demo._servers import ServerProcess, free_port

def start_all(work):
    server = ServerProcess()
    server.start()
    port = free_port()
    replica = Replica("shop", gunicorn_argv("sessionkit.demo._apps:before_app", port, workers=2), port,
                      cwd=work, log_dir=work)
    replica.start()
    nginx = Nginx([port], work)
    nginx.start()
    return [server.pid, replica.pid, nginx.pid]
"""


def _groups(pgids: set[int]) -> dict[int, int]:
    """pid -> process group of every live (non-zombie) process in ``pgids``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
        if fields[0] != "Z" and int(fields[2]) in pgids:
            found[int(entry.name)] = int(fields[2])
    return found


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux")
def test_sigkill_of_the_parent_leaves_no_child(tmp_path: Path) -> None:
    script = START_ALL + "print(json.dumps(start_all(Path(sys.argv[1]))), flush=True)\nsys.stdin.read()\n"
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=tmp_path, env=_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        pgids = set(json.loads(line))
        members = _groups(pgids)
        # redis-server; gunicorn master + 2 workers; nginx master + 1 worker
        assert len(members) >= 6, members
        parent.kill()  # SIGKILL: no cleanup code of the parent runs
        parent.wait()
        wait_until(lambda: not _groups(pgids), timeout=60, what=f"children of a killed parent to exit: {members}")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pgid in _groups(pgids if "pgids" in locals() else set()).values():
            os.killpg(pgid, signal.SIGKILL)


def test_a_failing_test_leaves_no_process_behind(tmp_path: Path) -> None:
    """A test that starts servers and fails before any cleanup: nothing survives its pytest run."""
    pids = tmp_path / "pids.json"
    (tmp_path / "test_inner.py").write_text(START_ALL + f"""
def test_starts_servers_and_fails(tmp_path):
    Path({str(pids)!r}).write_text(json.dumps(start_all(tmp_path)))
    raise AssertionError("failed before any cleanup")
""")
    run = subprocess.run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "test_inner.py"], cwd=tmp_path,
                         env=_env(), capture_output=True, text=True, timeout=_children.scaled(300))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "failed before any cleanup" in run.stdout
    pgids = set(json.loads(pids.read_text()))
    assert len(pgids) == 3
    wait_until(lambda: not _groups(pgids), timeout=30, what="the failed test's processes to exit")


def test_end_kills_the_whole_group_and_forgets_the_child() -> None:
    proc = _children.spawn(["sh", "-c", "sleep 300 & sleep 300 & wait"])
    wait_until(lambda: len(_groups({proc.pid})) == 3, what="sh and its two sleeps")
    assert proc.pid in _children.live()
    _children.end(proc)
    assert proc.pid not in _children.live()
    wait_until(lambda: not _groups({proc.pid}), timeout=10, what="the orphaned sleeps to die")


def test_timeout_scale_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSIONKIT_TIMEOUT_SCALE", "3")
    assert _children.scaled(20) == 60
    monkeypatch.setenv("SESSIONKIT_TIMEOUT_SCALE", "fast")
    with pytest.raises(ValueError, match="SESSIONKIT_TIMEOUT_SCALE='fast' is not a number"):
        _children.scaled(1)
    monkeypatch.setenv("SESSIONKIT_TIMEOUT_SCALE", "0")
    with pytest.raises(ValueError, match="must be positive"):
        _children.scaled(1)


def test_the_suite_fails_a_run_that_leaves_a_process_behind(tmp_path: Path) -> None:
    """tests/conftest.py's guard: a passing test that forgets its server still fails the run."""
    tests = Path(__file__).resolve().parents[1]
    (tmp_path / "conftest.py").write_text(f"""
import importlib.util, sys
sys.path.insert(0, {str(tests)!r})
spec = importlib.util.spec_from_file_location("suite_conftest", {str(tests / "conftest.py")!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
pytest_sessionfinish, pytest_terminal_summary = suite.pytest_sessionfinish, suite.pytest_terminal_summary
""")
    pids = tmp_path / "pid"
    (tmp_path / "test_leak.py").write_text(f"""
from pathlib import Path
from sessionkit.demo._servers import ServerProcess

def test_forgets_its_server():
    server = ServerProcess()
    server.start()
    Path({str(pids)!r}).write_text(str(server.pid))
""")
    run = subprocess.run([str(BIN / "pytest"), "-p", "no:cacheprovider", "test_leak.py"], cwd=tmp_path,
                         env=_env(), capture_output=True, text=True, timeout=_children.scaled(120))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout and "processes left running by the tests (now killed)" in run.stdout
    pid = int(pids.read_text())
    wait_until(lambda: not _groups({pid}), timeout=10, what="the forgotten server to be killed")


def test_nginx_never_listens_for_both_upstreams_on_one_port(tmp_path, monkeypatch) -> None:
    # The same port picked twice made nginx answer the affinity port round-robin.
    from sessionkit.demo import _procs

    picks = iter([41000, 41000, 41001, 41003])
    monkeypatch.setattr(_procs, "free_port", lambda: next(picks))
    nginx = _procs.Nginx([41001, 41002], tmp_path)
    assert (nginx.rr_port, nginx.affinity_port) == (41000, 41003)  # not the rr port, not a replica's
