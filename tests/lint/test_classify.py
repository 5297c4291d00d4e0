"""Findings in code that is not web runtime (CLI tools, dev scripts, management commands, a
``__main__`` block, read-only SQLite) are left out, with a count; web code keeps them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

STATE = "CACHE = {}\n\ndef handle(key, value):\n    CACHE[key] = value\n"
SQLITE = 'import sqlite3\n\ndef search(q):\n    con = sqlite3.connect("search.db")\n'

CASES = {
    # path: (source, reported?)
    "proj/app/management/commands/reindex.py": (
        "import sqlite3\nfrom django.core.management.base import BaseCommand\n\n"
        "class Command(BaseCommand):\n    def handle(self, **options):\n"
        '        con = sqlite3.connect("index.db")\n        con.execute("CREATE TABLE t (x)")\n',
        False,
    ),
    "proj/scripts/seed.py": (
        'import sqlite3\ncon = sqlite3.connect("seed.db")\ncon.execute("INSERT INTO t VALUES (1)")\n',
        False,
    ),
    # a command of a ``cli`` package (its command line is built in another module)
    "proj/cli/commands/schedule.py": (
        "from apscheduler.schedulers.asyncio import AsyncIOScheduler\n\n"
        "class ScheduleCommand:\n    async def run(self):\n"
        "        scheduler = AsyncIOScheduler()\n        scheduler.start()\n",
        False,
    ),
    "proj/tools/export.py": ('import sqlite3\ncon = sqlite3.connect("out.db")\ncon.commit()\n', False),
    "proj/cli.py": (
        'import argparse\nimport sqlite3\n\nparser = argparse.ArgumentParser()\ncon = sqlite3.connect("x.db")\n'
        'con.execute("DELETE FROM t")\n',
        False,
    ),
    "proj/readonly.py": (
        SQLITE + '    return con.execute("SELECT slug FROM docs WHERE docs MATCH ?", (q,))\n',
        False,
    ),
    "proj/readonly_uri.py": (
        'import sqlite3\ncon = sqlite3.connect("file:data.db?mode=ro", uri=True)\ncon.execute("UPDATE t SET x = 1")\n',
        False,
    ),
    "proj/writes.py": (
        SQLITE + '    con.execute("INSERT INTO hits VALUES (?)", (q,))\n    con.commit()\n',
        True,
    ),
    "proj/main_block.py": (
        'import sqlite3\n\nif __name__ == "__main__":\n    con = sqlite3.connect("dev.db")\n'
        '    con.execute("DELETE FROM t")\n',
        False,
    ),
    "proj/serves.py": (
        "import argparse\nimport sqlite3\nfrom flask import Flask\n\napp = Flask(__name__)\n\n"
        'if __name__ == "__main__":\n    con = sqlite3.connect("dev.db")\n    con.execute("DELETE FROM t")\n'
        "    app.run()\n",
        True,
    ),
}


def test_findings_outside_web_runtime_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    for rel, (source, _) in CASES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(source)

    def run(*extra: str) -> dict[str, object]:
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
                *extra,
                "proj",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
            timeout=300,
        )
        assert out.returncode in (0, 1), out.stderr
        doc: dict[str, object] = json.loads(out.stdout)
        return doc

    doc = run()
    reported = {f["path"] for f in doc["findings"]}  # type: ignore[attr-defined]
    assert reported == {rel for rel, (_, keep) in CASES.items() if keep}
    assert doc["summary"]["not_runtime"] == 8  # type: ignore[index]
    # Every case is a real finding (SK104, or SK113 for the scheduler) when the classification is off.
    (tmp_path / "pyproject.toml").write_text("[tool.sessionkit.lint]\nruntime-only = false\n")
    everything = run()
    assert {f["path"] for f in everything["findings"]} == set(CASES)  # type: ignore[attr-defined]
