"""``sessionkit lint`` end to end, in a subprocess: exit codes, formats, config, suppression,
baseline, cache, jobs, fixes and inputs that must never crash the run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libcst
import pytest

from sessionkit.lint._types import JSON_FIELDS

FIXTURES = Path(__file__).parent / "fixtures"
Run = Callable[..., subprocess.CompletedProcess[str]]
RunJson = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the sample apps with an empty pyproject.toml (the config root)."""
    for name in ("flask_app", "django_site", "fastapi_app", "clean_app"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'sample'\n")
    return tmp_path


def codes(doc: dict[str, Any]) -> list[str]:
    return [f["code"] for f in doc["findings"]]


def test_exit_codes(project: Path, run_cli: Run) -> None:
    assert run_cli("clean_app", cwd=project).returncode == 0
    assert run_cli("flask_app", cwd=project).returncode == 1
    assert run_cli("--frobnicate", cwd=project).returncode == 2
    missing = run_cli("nope", cwd=project)
    assert missing.returncode == 2 and "path does not exist" in missing.stderr
    bad_select = run_cli("--select", "SK999", "clean_app", cwd=project)
    assert bad_select.returncode == 2 and "--select" in bad_select.stderr


def test_bad_config_names_the_option(project: Path, run_cli: Run) -> None:
    (project / "pyproject.toml").write_text("[tool.sessionkit.lint]\nselekt = ['SK1']\n")
    out = run_cli("clean_app", cwd=project)
    assert out.returncode == 2 and "selekt" in out.stderr
    (project / "pyproject.toml").write_text("[tool.sessionkit.lint]\nseverity = 'fatal'\n")
    out = run_cli("clean_app", cwd=project)
    assert out.returncode == 2 and "severity" in out.stderr


def test_a_missing_configured_baseline_names_the_config_key(project: Path, run_cli: Run) -> None:
    (project / "pyproject.toml").write_text("[tool.sessionkit.lint]\nbaseline = 'sessionkit-baseline.json'\n")
    out = run_cli("clean_app", cwd=project)
    assert out.returncode == 2
    assert "baseline (pyproject.toml)" in out.stderr and "--write-baseline" in out.stderr
    assert run_cli("--write-baseline", "sessionkit-baseline.json", "clean_app", cwd=project).returncode == 0
    assert run_cli("clean_app", cwd=project).returncode == 0


def test_text_is_grouped_by_file_with_summary(project: Path, run_cli: Run) -> None:
    out = run_cli("flask_app", "django_site", cwd=project)
    assert out.returncode == 1
    assert "\x1b[" not in out.stdout  # not a TTY: no colour
    lines = out.stdout.splitlines()
    assert "flask_app/app.py" in lines and "django_site/shop/views.py" in lines
    assert "By category:" in out.stdout and "By remedy:" in out.stdout
    assert "externalize" in out.stdout and "sessionkit ingress" not in out.stdout.split("By remedy:")[0]
    forced = run_cli("--color", "always", "flask_app", cwd=project)
    assert "\x1b[31m" in forced.stdout


def test_json_schema(project: Path, run_json: RunJson) -> None:
    rc, doc = run_json("flask_app", "django_site", "fastapi_app", cwd=project)
    assert rc == 1
    assert doc["version"] == 1 and doc["tool"] == "sessionkit-lint"
    for finding in doc["findings"]:
        assert tuple(finding) == JSON_FIELDS
        assert finding["line"] >= 1 and finding["end_line"] >= finding["line"]
        assert not finding["path"].startswith("/")
    assert doc["summary"]["findings"] == len(doc["findings"])
    assert set(codes(doc)) >= {
        "SK101",
        "SK102",
        "SK105",
        "SK107",
        "SK109",
        "SK110",
        "SK112",
        "SK115",
        "SK116",
        "SK202",
        "SK216",
    }
    default_cache = [
        f for f in doc["findings"] if f["code"] == "SK103" and f["path"].startswith("django_site")
    ]
    # Each write through the default cache is a site to change: ``cache.add`` and ``cache.incr``.
    assert [(f["path"], f["line"]) for f in default_cache] == [
        ("django_site/shop/views.py", 23),
        ("django_site/shop/views.py", 24),
    ]
    assert "no CACHES setting" in default_cache[0]["message"]
    prod = [f for f in doc["findings"] if f["code"] == "SK102"]
    assert prod[0]["path"] == "django_site/mysite/settings/prod.py"
    assert prod[0]["remedy"] == "externalize"


def test_sarif_structure(project: Path, run_cli: Run) -> None:
    out = run_cli("--format", "sarif", "flask_app", cwd=project)
    assert out.returncode == 1
    sarif = json.loads(out.stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert "SK101" in ids and "SK001" in ids
    for rule in rules:
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
    assert run["results"]
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")) and uri.endswith(".py")
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1


def test_github_annotations(project: Path, run_cli: Run) -> None:
    out = run_cli("--format", "github", "flask_app", cwd=project)
    assert out.returncode == 1
    first = out.stdout.splitlines()[0]
    assert first.startswith("::error file=flask_app/app.py,line=")
    assert ",title=SK" in first and "::" in first[2:]


def test_output_file(project: Path, run_cli: Run) -> None:
    out = run_cli("--format", "json", "-o", "report.json", "flask_app", cwd=project)
    assert out.returncode == 1 and out.stdout == ""
    assert json.loads((project / "report.json").read_text())["findings"]


def test_config_select_ignore_per_file_severity(project: Path, run_json: RunJson) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.sessionkit.lint]\n"
        'ignore = ["SK109"]\n'
        'per-file-ignores = {"config.py" = ["SK103"]}\n'
        'extend-exclude = ["fastapi_app"]\n'
    )
    _, doc = run_json(".", cwd=project)
    found = set(codes(doc))
    assert "SK109" not in found and "SK110" not in found
    assert not [f for f in doc["findings"] if f["code"] == "SK103" and f["path"].endswith("config.py")]
    assert "SK202" in found
    _, doc = run_json("--select", "SK1", "--severity", "error", ".", cwd=project)
    assert doc["findings"] and all(f["severity"] == "error" for f in doc["findings"])
    assert all(f["code"].startswith("SK1") for f in doc["findings"])


def test_inline_suppression(tmp_path: Path, run_json: RunJson) -> None:
    body = (
        "import os\n"
        "SECRET_KEY = os.urandom(8)  # noqa: SK101\n"
        "OTHER_SECRET = os.urandom(8)  # sessionkit: ignore[SK101]\n"
        "JWT_SECRET_KEY = os.urandom(8)  # noqa: E501\n"
    )
    (tmp_path / "settings.py").write_text(body)
    _, doc = run_json("settings.py", cwd=tmp_path)
    assert [f["line"] for f in doc["findings"]] == [4]
    assert doc["summary"]["suppressed"] == 2


def test_baseline(project: Path, run_cli: Run, run_json: RunJson) -> None:
    wrote = run_cli("--write-baseline", "baseline.json", "flask_app", cwd=project)
    assert wrote.returncode == 0
    assert run_cli("--baseline", "baseline.json", "flask_app", cwd=project).returncode == 0
    with (project / "flask_app" / "app.py").open("a") as handle:
        handle.write(
            "\n\nSEEN = set()\n\n\n@app.get('/seen')\ndef seen():\n    SEEN.add(request.path)\n    return ''\n"
        )
    rc, doc = run_json("--baseline", "baseline.json", "flask_app", cwd=project)
    assert rc == 1 and codes(doc) == ["SK105"] and doc["summary"]["baselined"] > 0
    bad = run_cli("--baseline", "pyproject.toml", "flask_app", cwd=project)
    assert bad.returncode == 2 and "baseline" in bad.stderr


def test_cache_hit_on_second_run(project: Path, run_cli: Run) -> None:
    first = run_cli("--cache-dir", "cache", "flask_app", cwd=project)
    assert "0 from cache" in first.stdout
    second = run_cli("--cache-dir", "cache", "flask_app", cwd=project)
    assert (
        "2 from cache" in second.stdout
        and first.stdout.split("Checked")[0] == second.stdout.split("Checked")[0]
    )
    assert list((project / "cache").rglob("*.json"))
    assert "0 from cache" in run_cli("--cache-dir", "cache", "--no-cache", "flask_app", cwd=project).stdout


def test_jobs_give_identical_results(tmp_path: Path, run_json: RunJson) -> None:
    for i in range(20):
        (tmp_path / f"views_{i}.py").write_text(
            f"STATE_{i} = {{}}\n\ndef view(request):\n    STATE_{i}[request.path] = 1\n"
        )
    _, one = run_json("--no-cache", "--jobs", "1", ".", cwd=tmp_path)
    _, two = run_json("--no-cache", "--jobs", "2", ".", cwd=tmp_path)
    assert len(one["findings"]) == 20 and one["findings"] == two["findings"]


def test_diff_and_fix_are_idempotent(project: Path, run_cli: Run) -> None:
    app = project / "flask_app" / "app.py"
    prod = project / "django_site" / "mysite" / "settings" / "prod.py"
    before_app, before_prod = app.read_text(), prod.read_text()
    diff = run_cli("--diff", "flask_app", "django_site", cwd=project)
    assert diff.returncode == 1
    assert '+SESSION_ENGINE = "sessionkit.adapters.django"' in diff.stdout
    assert "storage_uri=" in diff.stdout
    assert app.read_text() == before_app  # --diff changes nothing
    fixed = run_cli("--fix", "flask_app", "django_site", cwd=project)
    assert fixed.returncode == 1  # other findings remain
    after_app, after_prod = app.read_text(), prod.read_text()
    for text in (after_app, after_prod):
        libcst.parse_module(text)
    assert "SK102" not in fixed.stdout and "SK109" not in fixed.stdout
    # untouched lines keep their exact formatting: only the Limiter call changed (wrapped to the
    # default line length of 88), `import os` was already there; prod.py only gained the engine
    # value and the Redis URL setting
    removed = set(before_app.splitlines()) - set(after_app.splitlines())
    assert removed == {"limiter = Limiter(get_remote_address, app=app)"}
    assert len(after_app.splitlines()) == len(before_app.splitlines()) + 4
    removed_prod = set(before_prod.splitlines()) - set(after_prod.splitlines())
    assert removed_prod == {'SESSION_ENGINE = "django.contrib.sessions.backends.cache"'}
    assert after_prod.splitlines()[:3] == ["import os", "", before_prod.splitlines()[0]]  # isort order
    again = run_cli("--fix", "flask_app", "django_site", cwd=project)
    assert app.read_text() == after_app and prod.read_text() == after_prod
    assert "fixed 0 files" in again.stderr
    assert run_cli("--diff", "flask_app", "django_site", cwd=project).stdout == ""


def test_crash_proof_inputs(tmp_path: Path, run_json: RunJson) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.sessionkit.lint]\nmax-file-size = 20000\n")
    (tmp_path / "broken.py").write_text("def f(:\n    SESSION_ENGINE = 1\n")
    (tmp_path / "legacy.py").write_text('print "hello"\nSESSION_TYPE = "filesystem"\n')
    (tmp_path / "latin.py").write_bytes(b"# SECRET_KEY\nx = '\xe9\xff'\nSESSION_TYPE = 1\n")
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02SESSION_ENGINE\xff" * 10)
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "huge.py").write_text("x = 1\n" * 5000)
    (tmp_path / "loop").mkdir()
    os.symlink(tmp_path / "loop", tmp_path / "loop" / "again")
    os.symlink(tmp_path / "self.py", tmp_path / "self.py")
    os.symlink(tmp_path / "missing-target", tmp_path / "dangling.py")
    (tmp_path / "deep.py").write_text("SESSION_ENGINE = " + "(" * 3000 + "1" + ")" * 3000 + "\n")
    (tmp_path / "ok.py").write_text('SESSION_ENGINE = "django.contrib.sessions.backends.file"\n')
    rc, doc = run_json("--no-cache", ".", cwd=tmp_path)
    assert rc == 1
    by_path = {f["path"]: f["code"] for f in doc["findings"]}
    assert by_path["broken.py"] == "SK001"
    assert by_path["legacy.py"] == "SK002"
    assert by_path["latin.py"] == "SK003"
    assert by_path["blob.py"] == "SK004"
    assert by_path["dangling.py"] == "SK005"
    assert by_path["huge.py"] == "SK006"
    assert by_path["loop/again"] == "SK007" and by_path["self.py"] == "SK007"
    assert by_path["ok.py"] == "SK102"
    assert "empty.py" not in by_path
    assert by_path["deep.py"] == "SK001"


def test_explain(project: Path, run_cli: Run) -> None:
    out = run_cli("--explain", "SK102", cwd=project)
    assert out.returncode == 0 and out.stdout.startswith("## SK102")
    assert "sessionkit.adapters.django" in out.stdout
    assert run_cli("--explain", "SK001", cwd=project).returncode == 0
    assert run_cli("--explain", "SK999", cwd=project).returncode == 2


def test_rules_reference_is_up_to_date(run_cli: Run) -> None:
    docs = Path(__file__).parents[2] / "docs" / "rules.md"
    out = run_cli("--explain", "all", cwd=docs.parent)
    assert docs.read_text(encoding="utf-8") == out.stdout, (
        "regenerate: sessionkit lint --explain all > docs/rules.md"
    )


def test_help_works_without_importing_libcst() -> None:
    code = (
        "import sys, sessionkit.cli as c\n"
        "p = c.build_parser()\n"
        "assert 'libcst' not in sys.modules, 'lint registration imported libcst'\n"
        "p.parse_args(['lint', '--help'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "--write-baseline" in out.stdout and "--explain" in out.stdout


def test_json_report_feeds_ingress(tmp_path: Path, run_cli: Run) -> None:
    (tmp_path / "app.py").write_text("from flask_socketio import SocketIO\nsocketio = SocketIO(app)\n")
    (tmp_path / "broken.py").write_text("import flask_socketio\ndef f(:\n")
    assert run_cli("--format", "json", "-o", "report.json", ".", cwd=tmp_path).returncode == 1
    doc = json.loads((tmp_path / "report.json").read_text())
    assert {f["remedy"] for f in doc["findings"]} <= {"externalize", "refactor", "affinity"}
    out = subprocess.run(
        [sys.executable, "-m", "sessionkit", "ingress", "--from-lint", "report.json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "SK111" in out.stdout


def test_concurrent_runs_share_the_cache_safely(project: Path) -> None:
    args = [
        sys.executable,
        "-m",
        "sessionkit",
        "lint",
        "--no-progress",
        "--format",
        "json",
        "--cache-dir",
        "shared-cache",
        ".",
    ]
    runs = [
        subprocess.Popen(args, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [1, 1, 1, 1], [err for _, err in outputs]
    findings = [json.loads(out)["findings"] for out, _ in outputs]
    assert all(f == findings[0] for f in findings) and findings[0]
    assert not list((project / "shared-cache").rglob(".tmp-*"))
    warm = subprocess.run(args, cwd=project, capture_output=True, text=True, check=False)
    assert json.loads(warm.stdout)["findings"] == findings[0]
