"""Baselines survive a release (reworded messages), moved lines and runs from another directory;
old (version 1) baselines are still read and ``--write-baseline`` upgrades them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sessionkit.lint._baseline import fingerprints
from sessionkit.lint._types import Finding

ENGINE = 'SESSION_ENGINE = "django.contrib.sessions.backends.file"\n'


def lint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sessionkit",
            "lint",
            "--no-progress",
            "--no-cache",
            "--output-format",
            "json",
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=300,
    )


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.sessionkit.lint]\nbaseline = 'baseline.json'\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "settings.py").write_text("import os\n" + ENGINE)
    return tmp_path


def test_a_reworded_message_keeps_the_fingerprint(tmp_path: Path) -> None:
    def at(line: int, message: str) -> Finding:
        return Finding(
            "site/settings.py", line, 18, "SK102", "c", "error", "externalize", line, 60, message, "h"
        )

    before = {"site/settings.py": b"import os\n" + ENGINE.encode()}
    after = {"site/settings.py": b"import os\n\n\n  " + ENGINE.encode()}  # moved, re-indented
    old = fingerprints([at(2, "the old wording")], before, tmp_path)
    assert old == fingerprints([at(4, "a new release words it differently")], after, tmp_path)
    assert old != fingerprints([at(1, "the old wording")], before, tmp_path)  # another line


def test_moving_the_line_keeps_it_baselined_and_a_copy_is_new(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert lint("--write-baseline", "baseline.json", ".", cwd=root).returncode == 0
    saved = json.loads((root / "baseline.json").read_text())
    assert saved["version"] == 2 and len(saved["fingerprints"]) == 1
    assert "sessions" not in (root / "baseline.json").read_text()  # no message text in it
    settings = root / "site" / "settings.py"
    settings.write_text('"""Moved down."""\n\nimport os\n\n\n' + ENGINE)
    out = lint(".", cwd=root)
    assert out.returncode == 0 and json.loads(out.stdout)["summary"]["baselined"] == 1
    # From a nested directory the same baseline (from pyproject) applies.
    nested = lint(".", cwd=root / "site")
    assert nested.returncode == 0, nested.stdout + nested.stderr
    settings.write_text(ENGINE + "import os\n" + ENGINE)
    again = json.loads(lint(".", cwd=root).stdout)
    assert [f["line"] for f in again["findings"]] == [3] and again["summary"]["baselined"] == 1


def test_a_version_1_baseline_is_read_and_upgraded(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "baseline.json").write_text('{"version": 1, "tool": "sessionkit-lint", "fingerprints": {}}')
    message = json.loads(lint(".", cwd=root).stdout)["findings"][0]["message"]
    # The format written by 2026.11 releases: path, code and message, counted.
    v1 = {"version": 1, "tool": "sessionkit-lint", "fingerprints": {f"site/settings.py::SK102::{message}": 1}}
    (root / "baseline.json").write_text(json.dumps(v1))
    out = lint(".", cwd=root)
    assert out.returncode == 0 and json.loads(out.stdout)["summary"]["baselined"] == 1
    upgraded = lint("--write-baseline", "baseline.json", ".", cwd=root)
    assert upgraded.returncode == 0
    assert json.loads((root / "baseline.json").read_text())["version"] == 2
    assert lint(".", cwd=root).returncode == 0
