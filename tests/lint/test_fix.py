"""``--fix`` follows the linter's own advice and keeps the file as the project keeps it: required
settings (no localhost fallback), ``import os`` in isort order, the project's line length, the
file's encoding and BOM, and fixed code that still runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sessionkit.lint._fix import fix_source
from sessionkit.lint._types import Finding

ENGINE = 'SESSION_ENGINE = "django.contrib.sessions.backends.file"\n'


def _lint(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessionkit", "lint", "--no-progress", "--no-cache", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=300,
    )


def _engine_finding(line: int) -> Finding:
    column = len("SESSION_ENGINE = ") + 1
    return Finding(
        "s.py", line, column, "SK102", "local-sessions", "error", "externalize", line, 60, "m", "h"
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "import json\nimport sys\n\n" + ENGINE,
            "import json\nimport os\nimport sys\n\n"
            'SESSION_ENGINE = "sessionkit.adapters.django"\n'
            'SESSIONKIT_REDIS_URL = os.environ["SESSIONKIT_REDIS_URL"]\n',
        ),
        (
            "from django.conf import settings\n\n" + ENGINE,
            "import os\n\nfrom django.conf import settings\n\n"
            'SESSION_ENGINE = "sessionkit.adapters.django"\n'
            'SESSIONKIT_REDIS_URL = os.environ["SESSIONKIT_REDIS_URL"]\n',
        ),
        (
            '"""Settings."""\n\nfrom __future__ import annotations\n\nimport sys\n' + ENGINE,
            '"""Settings."""\n\nfrom __future__ import annotations\n\nimport os\nimport sys\n'
            'SESSION_ENGINE = "sessionkit.adapters.django"\n'
            'SESSIONKIT_REDIS_URL = os.environ["SESSIONKIT_REDIS_URL"]\n',
        ),
        (
            "import sys\nfrom pathlib import Path\n\nimport django\n" + ENGINE,
            "import os\nimport sys\nfrom pathlib import Path\n\nimport django\n"
            'SESSION_ENGINE = "sessionkit.adapters.django"\n'
            'SESSIONKIT_REDIS_URL = os.environ["SESSIONKIT_REDIS_URL"]\n',
        ),
    ],
    ids=["between-stdlib", "before-third-party", "after-future", "before-plain-stdlib"],
)
def test_import_os_goes_where_isort_puts_it(before: str, after: str) -> None:
    line = before.splitlines().index(ENGINE.strip()) + 1
    assert fix_source(before, [_engine_finding(line)]) == after


def _limiter_app(tmp_path: Path, pyproject: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    app = tmp_path / "app.py"
    app.write_text(
        "import json\n\nfrom flask import Flask\nfrom flask_limiter import Limiter\n"
        "from flask_limiter.util import get_remote_address\n\napp = Flask(__name__)\n"
        'limiter = Limiter(get_remote_address, app=app, default_limits=["200 per day"])\n'
        "DUMP = json.dumps\n"
    )
    return app


def test_fix_keeps_to_the_project_line_length(tmp_path: Path) -> None:
    app = _limiter_app(tmp_path, "[tool.ruff]\nline-length = 79\n")
    assert _lint("--fix", ".", cwd=tmp_path).returncode in (0, 1)
    text = app.read_text()
    assert "localhost" not in text and ".get(" not in text
    assert "import json\nimport os\n\nfrom flask import Flask\n" in text
    assert (
        "limiter = Limiter(\n    get_remote_address,\n    app=app,\n"
        '    default_limits=["200 per day"],\n'
        '    storage_uri=os.environ["RATELIMIT_STORAGE_URI"],\n)\n'
    ) in text
    assert max(len(line) for line in text.splitlines()) <= 79
    # With room on the line, the call stays on one line.
    app = _limiter_app(tmp_path, "[tool.ruff]\nline-length = 140\n")
    _lint("--fix", ".", cwd=tmp_path)
    assert (
        'limiter = Limiter(get_remote_address, app=app, default_limits=["200 per day"], '
        'storage_uri=os.environ["RATELIMIT_STORAGE_URI"])\n'
    ) in app.read_text()


def test_fixed_limiter_app_still_runs_and_reads_the_setting(tmp_path: Path) -> None:
    app = _limiter_app(tmp_path, "[project]\nname = 'x'\n")
    _lint("--fix", ".", cwd=tmp_path)
    # flask_limiter is not a dependency: a minimal package with its constructor signature.
    lib = tmp_path / "lib" / "flask_limiter"
    lib.mkdir(parents=True)
    (lib / "__init__.py").write_text(
        "class Limiter:\n"
        "    def __init__(self, key_func, *, app=None, default_limits=(), storage_uri='memory://'):\n"
        "        self.storage_uri = storage_uri\n"
    )
    (lib / "util.py").write_text("def get_remote_address():\n    return '127.0.0.1'\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'lib'}{os.pathsep}{tmp_path}"}
    code = "import app; print(app.limiter.storage_uri)"
    env["RATELIMIT_STORAGE_URI"] = "redis://cache:6379/1"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "redis://cache:6379/1"
    del env["RATELIMIT_STORAGE_URI"]
    unset = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert unset.returncode == 1 and "KeyError: 'RATELIMIT_STORAGE_URI'" in unset.stderr  # fails fast
    assert app.read_text().count("import os") == 1


def test_fixed_django_settings_give_a_working_session_store(tmp_path: Path, redis_url: str) -> None:
    settings = tmp_path / "fixedsite_settings.py"
    settings.write_text(
        'SECRET_KEY = "x" * 50\nINSTALLED_APPS = ["django.contrib.sessions"]\n'
        "DATABASES = {}\nUSE_TZ = True\n" + ENGINE
    )
    fixed = _lint("--fix", settings.name, cwd=tmp_path)
    assert "SK102" not in fixed.stdout, fixed.stdout + fixed.stderr
    code = (
        "import django; django.setup()\n"
        "from importlib import import_module\n"
        "from django.conf import settings\n"
        "store = import_module(settings.SESSION_ENGINE).SessionStore()\n"
        "store['cart'] = [1, 2]; store.save()\n"
        "again = import_module(settings.SESSION_ENGINE).SessionStore(store.session_key)\n"
        "print(again['cart']); store.delete()\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "fixedsite_settings",
        "SESSIONKIT_REDIS_URL": redis_url,
    }
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[1, 2]"


def test_fix_keeps_a_latin1_encoding_and_a_bom(tmp_path: Path) -> None:
    latin = tmp_path / "latin_settings.py"
    latin.write_bytes(b'# -*- coding: latin-1 -*-\n"""Caf\xe9."""\n' + ENGINE.encode())
    bom = tmp_path / "bom_settings.py"
    bom.write_bytes(b'\xef\xbb\xbf"""Doc."""\n' + ENGINE.encode())
    out = _lint("--fix", latin.name, bom.name, cwd=tmp_path)
    assert "Traceback" not in out.stderr and out.returncode == 0, out.stderr
    assert "fixed 2 files" in out.stderr
    data = latin.read_bytes()
    assert data.startswith(b'# -*- coding: latin-1 -*-\n"""Caf\xe9."""\n\nimport os\n\n')
    assert b"sessionkit.adapters.django" in data
    data = bom.read_bytes()
    assert data.startswith(b'\xef\xbb\xbf"""Doc."""\n\nimport os\n\n') and data.count(b"\xef\xbb\xbf") == 1
