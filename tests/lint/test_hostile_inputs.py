"""One small hostile file must never kill, hang or exhaust a run: each becomes a diagnostic.

The inputs are the ones that crashed or hung the linter: libcst's native parser segfaults on
``x = ----…1`` and on a long ``+`` chain, grows past 9 GB on ``2 ** 2 ** …``; reading a FIFO
blocked forever and ``/dev/zero`` was read until ``MemoryError``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sessionkit.lint._sandbox import Failure, Limits, run_limited

RunJson = Callable[..., tuple[int, dict[str, Any]]]
OK_LINE = 'SESSION_ENGINE = "django.contrib.sessions.backends.file"\n'

HOSTILE = {
    "unary.py": "x = " + "-" * 10_000 + "1\n",  # 10 KB
    "plus.py": "x = " + "1+" * 20_000 + "1\n",  # 40 KB
    "power.py": "x = " + "2 ** " * 20_000 + "2\n",  # 100 KB
}


def _lint(cwd: Path, *paths: str, timeout: float = 240) -> tuple[int, dict[str, str], str]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sessionkit",
            "lint",
            "--no-progress",
            "--no-cache",
            "--format",
            "json",
            *paths,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=timeout,  # the old code hung here on a FIFO
    )
    doc = json.loads(out.stdout) if out.stdout.startswith("{") else {"findings": []}
    codes = {f["path"]: f["code"] + " " + f["message"] for f in doc["findings"]}
    return out.returncode, codes, out.stderr


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_parser_killers_become_a_syntax_diagnostic(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(OK_LINE + HOSTILE[name])
    (tmp_path / "ok.py").write_text(OK_LINE)
    rc, codes, stderr = _lint(tmp_path, ".")
    assert rc == 1, stderr
    assert codes[name].startswith("SK001") and "nesting too deep" in codes[name]
    assert codes["ok.py"].startswith("SK102")  # the rest of the run is intact


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe.py")
        target = "pipe.py"
    else:
        target = "/dev/zero"
    (tmp_path / "ok.py").write_text(OK_LINE)
    rc, codes, stderr = _lint(tmp_path, target, "ok.py", timeout=120)
    assert rc == 1, stderr
    assert codes[target].startswith("SK005") and "not a regular file" in codes[target]
    assert codes["ok.py"].startswith("SK102")


def test_a_file_over_the_time_limit_is_a_diagnostic_not_a_hang(tmp_path: Path) -> None:
    # Legal, shallow enough for the pre-check, but libcst needs seconds for it.
    slow = OK_LINE + "".join(f"x{i} = " + "1 + " * 550 + "1\n" for i in range(150))
    (tmp_path / "slow.py").write_text(slow)
    (tmp_path / "ok.py").write_text(OK_LINE)
    (tmp_path / "pyproject.toml").write_text("[tool.sessionkit.lint]\nfile-timeout = 1\n")
    rc, codes, stderr = _lint(tmp_path, ".")
    assert rc == 1, stderr
    assert codes["slow.py"].startswith("SK009") and "took more than the 1 s CPU limit" in codes["slow.py"]
    assert codes["ok.py"].startswith("SK102")


def _segfault_on_two(item: int) -> int:
    if item == 2:
        os.kill(os.getpid(), signal.SIGSEGV)
    return item * 10


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 2**20))


def _sleep(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def test_a_crashed_worker_costs_only_its_item() -> None:
    items = [1, 2, 3, 4, 5]
    got = {
        items[i]: out for i, out in run_limited(_segfault_on_two, items, jobs=2, limits=Limits(seconds=60))
    }
    assert got == {1: 10, 2: Failure("the worker crashed (SIGSEGV)"), 3: 30, 4: 40, 5: 50}


def test_memory_limit_per_item() -> None:
    got = dict(run_limited(_allocate, [1, 4000, 2], jobs=1, limits=Limits(seconds=60, memory_mb=300)))
    assert got == {0: 2**20, 1: Failure("exceeded the memory limit (300 MB)"), 2: 2 * 2**20}


def _spin(seconds: float) -> float:
    import time

    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return seconds


def test_cpu_time_limit_per_item() -> None:
    got = dict(run_limited(_spin, [0.0, 600.0, 0.0], jobs=1, limits=Limits(seconds=1)))
    assert got == {0: 0.0, 1: Failure("took more than the 1 s CPU limit"), 2: 0.0}


def test_wall_clock_backstop_per_item() -> None:
    got = dict(run_limited(_sleep, [0.0, 600.0, 0.0], jobs=1, limits=Limits(seconds=1, wall_seconds=2)))
    assert got == {0: 0.0, 1: Failure("took longer than 2 s (wall clock)"), 2: 0.0}


class _BrokenProject:
    """A rule whose cross-file hook fails, as a bug or unexpected facts would make it."""

    code = "SK999"

    @staticmethod
    def project(facts: dict[str, Any]) -> list[Any]:
        raise KeyError("caches_guarded")


def test_a_failing_cross_file_hook_costs_only_its_own_findings() -> None:
    from sessionkit.lint import _project
    from sessionkit.lint.rules import ALL_RULES

    facts = {"b/settings.py": {}, "a/settings.py": {}}
    found = _project.resolve(facts, [_BrokenProject, *ALL_RULES])  # type: ignore[list-item]
    assert [(f.code, f.path) for f in found] == [("SK008", "a/settings.py")]
    assert "cross-file check of SK999: KeyError('caches_guarded')" in found[0].message


def test_an_empty_caches_setting_is_judged_not_a_crash(tmp_path: Path) -> None:
    # CACHES = {} once made the cross-file session check raise KeyError and the run die.
    (tmp_path / "settings.py").write_text(
        'SESSION_ENGINE = "django.contrib.sessions.backends.cache"\nCACHES = {}\n'
        'INSTALLED_APPS = ["django.contrib.sessions"]\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "sessionkit", "lint", "--no-progress", "--no-cache", "--format", "json", "."],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=300,
    )
    assert out.returncode == 1, out.stderr
    codes = [f["code"] for f in json.loads(out.stdout)["findings"]]
    assert codes == ["SK102"]  # Django's default cache is per-process LocMemCache
