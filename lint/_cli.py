"""``sessionkit lint``: argument parsing here; libcst and the engine are imported in :func:`run`."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

FORMATS = ("text", "json", "sarif", "github")
#: What the linter needs beyond the core install, and the extra that brings it.
NEEDS = ("libcst", "pathspec")


class _LintParser(argparse.ArgumentParser):
    """Usage errors in ``sessionkit lint ...`` (an unknown flag included) print the lint usage."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"sessionkit lint: error: {message}\n")


def register(subparsers: Any) -> None:
    """Add the ``lint`` subcommand (cheap: no heavy imports)."""
    p = subparsers.add_parser(
        "lint",
        help="find in-process state that breaks when the app runs as several replicas",
        description=(
            "Find in-process state (sessions, caches, globals, schedulers, local files...) that "
            "breaks behind a round-robin load balancer. Exit codes: 0 no findings at or above the "
            "severity threshold, 1 findings, 2 usage or configuration error (or no Python file)."
        ),
    )
    p.__class__ = _LintParser
    p.add_argument("paths", nargs="*", type=Path, help="files or directories (default: .)")
    p.add_argument(
        "--output-format", "--format", dest="format", choices=FORMATS, default=None, help="default: text"
    )
    p.add_argument("-o", "--output", type=Path, help="write the report to this file")
    p.add_argument("--select", help="comma-separated codes or prefixes to enable (default: all)")
    p.add_argument("--extend-select", help="comma-separated codes or prefixes added to the selection")
    p.add_argument("--ignore", help="comma-separated codes or prefixes to disable")
    p.add_argument("--exclude", help="comma-separated patterns replacing the default excludes")
    p.add_argument("--extend-exclude", help="comma-separated patterns added to the excludes")
    p.add_argument(
        "--no-respect-gitignore",
        dest="respect_gitignore",
        action="store_false",
        help="lint gitignored files too",
    )
    p.add_argument(
        "--severity",
        choices=("info", "warning", "error"),
        help="report only findings at or above this severity (default: info)",
    )
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    p.add_argument("--statistics", action="store_true", help="print the count of findings per code")
    p.add_argument("-q", "--quiet", action="store_true", help="print the findings only, no summary")
    p.add_argument("-j", "--jobs", type=int, default=0, help="worker processes (default: CPU count)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    p.add_argument("--cache-dir", help="cache directory (default: .sessionkit_cache/lint)")
    p.add_argument("--clean", action="store_true", help="delete the result cache and exit")
    p.add_argument("--baseline", type=Path, help="ignore findings recorded in this baseline file")
    p.add_argument(
        "--write-baseline", type=Path, metavar="FILE", help="record all current findings in FILE and exit 0"
    )
    p.add_argument("--fix", action="store_true", help="apply safe automatic fixes in place")
    p.add_argument("--diff", action="store_true", help="print the automatic fixes as a diff; change nothing")
    p.add_argument("--explain", metavar="CODE", help="print the reference of a rule (or `all`) and exit")
    p.add_argument("--config", type=Path, help="pyproject.toml to read (default: search upwards)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"sessionkit lint: error: {message}", file=sys.stderr)
    return 2


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _missing() -> str | None:
    for name in NEEDS:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):  # a module set to None in sys.modules
            return name
    return None


def run(args: argparse.Namespace) -> int:
    missing = _missing()
    if missing is not None:
        return _fail(
            f"{missing} is not installed: the linter needs the [lint] extra "
            "(pip install 'sessionkit-redis[lint]', or from a checkout: pip install './sessionkit[lint]')"
        )
    from sessionkit.lint._config import ConfigError, find_pyproject, load

    if args.explain:
        from sessionkit.lint._explain import explain

        text = explain(args.explain)
        if text is None:
            return _fail(f"--explain: unknown rule code {args.explain!r}")
        sys.stdout.write(text)
        return 0
    if args.jobs < 0:
        return _fail("--jobs must be 0 (CPU count) or a positive number")
    if args.fix and args.diff:
        return _fail("--fix and --diff cannot be combined")
    try:
        pyproject = args.config if args.config else find_pyproject(Path.cwd())
        if args.config and not args.config.is_file():
            return _fail(f"--config {args.config}: no such file")
        config = load(pyproject)
        for key, raw in (
            ("select", args.select),
            ("ignore", args.ignore),
            ("exclude", args.exclude),
            ("extend-exclude", args.extend_exclude),
        ):
            values = _split(raw)
            if values is not None:
                config.set(key, values, f"--{key}")
        extra = _split(args.extend_select)
        if extra is not None:
            config.set("select", config.select + extra, "--extend-select")
        if args.severity:
            config.set("severity", args.severity, "--severity")
        if args.cache_dir:
            config.set("cache-dir", os.path.abspath(args.cache_dir), "--cache-dir")
    except ConfigError as exc:
        return _fail(str(exc))
    if args.clean:
        from sessionkit.lint._cache import clean
        from sessionkit.lint._engine import cache_dir

        removed = clean(cache_dir(config))
        if not args.quiet:
            print(f"removed {removed} cache entr{'y' if removed == 1 else 'ies'}", file=sys.stderr)
        return 0
    paths = args.paths or [Path(".")]
    for path in paths:
        if not os.path.lexists(path):
            return _fail(f"path does not exist: {path}")
    for flag, target in (("--output", args.output), ("--write-baseline", args.write_baseline)):
        if target is not None and (problem := _unwritable(target)):
            return _fail(f"{flag} {target}: {problem}")
    baseline = args.baseline or (
        Path(config.baseline) if config.baseline and not args.write_baseline else None
    )
    if baseline is not None and not baseline.is_file():
        origin = "--baseline" if args.baseline else "baseline (pyproject.toml)"
        return _fail(f"{origin} {baseline}: no such file (create it with --write-baseline)")
    return _lint(args, config, paths, baseline)


def _unwritable(target: Path) -> str | None:
    """Why a report cannot be written to ``target`` (checked before linting), or ``None``."""
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        return "is a directory"
    if not folder.is_dir():
        return f"directory {folder} does not exist"
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        return "not writable"
    return None


def _lint(args: argparse.Namespace, config: Any, paths: list[Path], baseline: Path | None) -> int:
    from sessionkit.lint import _baseline
    from sessionkit.lint._engine import Options, run

    options = Options(
        paths=paths,
        config=config,
        jobs=args.jobs,
        use_cache=not args.no_cache,
        progress=not args.no_progress and sys.stderr.isatty(),
        baseline=baseline,
        respect_gitignore=args.respect_gitignore,
    )
    try:
        report = run(options)
    except _baseline.BaselineError as exc:
        return _fail(str(exc))
    for folder in report.skipped_projects:
        print(
            f"sessionkit lint: warning: {folder} looks like a runnable project (a settings module or an app "
            "factory) but is skipped by the default exclude `tests`; lint it with "
            f"`sessionkit lint {folder}` or drop `tests` from `exclude`",
            file=sys.stderr,
        )
    if report.files == 0 and not report.all_findings:
        left_out = sum(report.skipped.values()) + report.gitignored + report.excluded_named
        where = " ".join(map(str, paths))
        if not left_out:  # nothing to lint at all: most likely a wrong path
            print(f"sessionkit lint: warning: no Python file found in {where}", file=sys.stderr)
            return 2
        # Only excluded files (pre-commit passing staged test files): nothing to check is fine.
        print(f"sessionkit lint: warning: 0 files checked in {where}{_skipped_note(report)}", file=sys.stderr)
        return 0
    if args.write_baseline:
        _baseline.write(args.write_baseline, report.all_findings, report.contents, config.root)
        print(f"wrote {len(report.all_findings)} findings to {args.write_baseline}", file=sys.stderr)
        return 0
    if args.fix or args.diff:
        from sessionkit.lint._fix import apply_fixes

        changed, diff = apply_fixes(report, args.diff, config.line_length)
        if args.diff:
            sys.stdout.write(diff)
            return 1 if changed and not args.exit_zero else 0
        print(f"fixed {changed} file{'s' * (changed != 1)}", file=sys.stderr)
        report = run(options)
    return _emit(args, report)


def _skipped_note(report: Any) -> str:
    skipped = sum(report.skipped.values())
    parts = [f"{skipped} Python files skipped by the default excludes"] if skipped else []
    if report.excluded_named:
        parts.append(f"{report.excluded_named} named files matched an exclude")
    if report.gitignored:
        parts.append(f"{report.gitignored} gitignored paths skipped (--no-respect-gitignore lints them)")
    return f" ({'; '.join(parts)})" if parts else ""


def _emit(args: argparse.Namespace, report: Any) -> int:
    fmt = args.format or "text"
    if fmt == "json":
        from sessionkit.lint._report_json import render as render_json

        text = render_json(report)
    elif fmt == "sarif":
        from sessionkit.lint._report_sarif import render as render_sarif

        text = render_sarif(report)
    elif fmt == "github":
        from sessionkit.lint._report_github import render as render_github

        text = render_github(report)
    else:
        from sessionkit.lint._report_text import render as render_text

        stream_tty = args.output is None and sys.stdout.isatty()
        colour = args.color == "always" or (
            args.color == "auto" and stream_tty and "NO_COLOR" not in os.environ
        )
        text = render_text(report, colour=colour, quiet=args.quiet)
    if args.statistics:
        from sessionkit.lint._report_text import statistics

        table = statistics(report)
        if fmt == "text":
            text += table
        else:  # machine output stays valid
            sys.stderr.write(table)
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"--output {args.output}: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
    return 1 if report.findings and not args.exit_zero else 0
