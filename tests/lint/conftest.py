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
    """Findings for one example, cross-file phase included.

    A line ``# file: NAME`` starts a file of that name (several make a small project); without
    one the snippet is ``app.py``.
    """
    parts = re.split(r"^# file: (\S+)\n", source, flags=re.M)
    files = {"app.py": parts[0]} if parts[0].strip() else {}
    files.update(zip(parts[1::2], parts[2::2], strict=True))
    findings: list[Finding] = []
    facts = {}
    for path, text in files.items():
        result = analyse_bytes(path, text.encode())
        findings += result.findings
        facts[path] = result.facts
    return findings + resolve(facts)


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
