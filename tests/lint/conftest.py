"""Fixtures for the linter tests: lint a snippet in-process, run the CLI in a subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sessionkit.lint._analyze import analyse_bytes
from sessionkit.lint._project import resolve
from sessionkit.lint._types import Finding

FIXTURES = Path(__file__).parent / "fixtures"


def lint_snippet(source: str) -> list[Finding]:
    """Findings for one example (a first line ``# file: NAME`` sets its path), cross-file phase included."""
    match = re.match(r"# file: (\S+)\n", source)
    path = match.group(1) if match else "app.py"
    result = analyse_bytes(path, source.encode())
    return result.findings + resolve({path: result.facts})


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessionkit", "lint", "--no-progress", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=300,
    )


def cli_json(*args: str | Path, cwd: Path) -> tuple[int, dict[str, Any]]:
    out = cli("--format", "json", *args, cwd=cwd)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


@pytest.fixture
def snippet() -> Callable[[str], list[Finding]]:
    return lint_snippet


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return cli


@pytest.fixture
def run_json() -> Callable[..., tuple[int, dict[str, Any]]]:
    return cli_json
