"""The linter never crashes on real code: installed Django and Flask, and a slice of the stdlib.

(The full-stdlib run is in benchmarks/lint_speed.py --no-crash; it takes minutes.)
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import django
import flask
import pytest

from sessionkit.lint._config import Config
from sessionkit.lint._engine import Options, run

STDLIB = Path(sysconfig.get_paths()["stdlib"])
STDLIB_SLICE = ("json", "email", "http", "logging", "concurrent", "urllib", "xml", "asyncio")


@pytest.mark.slow  # ~100 s on 2 cores
def test_no_crash_on_django_flask_and_stdlib_slice() -> None:
    config = Config(exclude=[], runtime_only=False)  # every finding, CLI code included
    paths = [Path(django.__file__).parent, Path(flask.__file__).parent]
    paths += [STDLIB / name for name in STDLIB_SLICE]
    # Installed packages live in a gitignored .venv: lint them anyway.
    report = run(Options(paths=paths, config=config, jobs=2, use_cache=False, respect_gitignore=False))
    assert report.files > 1000 and report.lines > 150_000
    crashes = [f for f in report.findings if f.code == "SK008"]
    assert crashes == []
    assert report.parsed > 50
    # Django ships real examples of two categories (its LocMem default and sqlite3 backend).
    codes = {f.code for f in report.findings}
    assert {"SK103", "SK104"} <= codes
