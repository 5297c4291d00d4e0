"""Orchestration: discover, read, cache lookup, parallel analysis, cross-file phase, filtering."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessionkit.lint import _baseline, _classify, _precheck, _project, _suppress
from sessionkit.lint import _diagnostics as diag
from sessionkit.lint._analyze import FileResult, analyse_bytes
from sessionkit.lint._cache import ResultCache, cache_key
from sessionkit.lint._config import DEFAULT_EXCLUDE, Config
from sessionkit.lint._discover import discover, display_path, excluded
from sessionkit.lint._sandbox import Failure, Limits, run_limited
from sessionkit.lint._templates import as_python
from sessionkit.lint._types import SEVERITY_RANK, Finding

#: Below this many files to analyse, one worker process is enough.
POOL_THRESHOLD = 8


@dataclass
class Options:
    paths: list[Path]
    config: Config
    jobs: int = 0
    use_cache: bool = True
    progress: bool = False
    baseline: Path | None = None
    #: Parse every file and run every rule, bypassing the prefilter (the no-crash sweep).
    force: bool = False
    respect_gitignore: bool = True


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    all_findings: list[Finding] = field(default_factory=list)  # before baseline and threshold
    files: int = 0
    lines: int = 0
    parsed: int = 0
    cache_hits: int = 0
    suppressed: int = 0
    baselined: int = 0
    seconds: float = 0.0
    contents: dict[str, bytes] = field(default_factory=dict, repr=False)
    #: What discovery left out: Python files per default exclude, folders, gitignored entries,
    #: and skipped test folders that hold a runnable project.
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_dirs: int = 0
    gitignored: int = 0
    excluded_named: int = 0
    skipped_projects: list[str] = field(default_factory=list)
    #: Findings left out because they are in code that is not web runtime (see _classify).
    not_runtime: int = 0


Item = tuple[str, bytes, int, bool]


def _work(item: Item) -> tuple[str, dict[str, Any]]:
    display, data, max_bytes, force = item
    if not display.endswith(".py"):  # a Python config file (*.cfg), perhaps a template, or INI
        python = as_python(data) if len(data) <= max_bytes else None
        if python is None:
            return display, FileResult().to_json()
        data = python
    problem = _precheck.check_syntax(display, data) if len(data) <= max_bytes else None
    if problem is not None:
        return display, FileResult(findings=[problem]).to_json()
    result = analyse_bytes(display, data, max_bytes, force)
    _add_suppressions(result, data)
    return display, result.to_json()


def _add_suppressions(result: FileResult, data: bytes) -> None:
    if result.findings or result.facts:
        text = data.decode("utf-8", "replace")
        table = _suppress.scan(text)
        if table:
            result.facts["noqa"] = {str(k): v for k, v in table.items()}


def _selected(code: str, path: str, config: Config) -> bool:
    def matches(codes: Iterable[str]) -> bool:
        return any(c == "ALL" or code.startswith(c.upper()) for c in codes)

    if code.startswith("SK0"):  # input diagnostics are on unless ignored explicitly
        if matches(c for c in config.ignore if c.upper().startswith("SK0")):
            return False
    elif not matches(config.select) or matches(config.ignore):
        return False
    if config.per_file_ignores:
        rel = display_path(Path(os.path.abspath(path)), config.root)  # keys are root-relative
        for pattern, codes in config.per_file_ignores.items():
            if excluded(rel, [pattern]) and matches(codes):
                return False
    return True


def run(options: Options) -> Report:
    started = time.perf_counter()
    config = options.config
    report = Report()
    found = discover(
        options.paths,
        Path.cwd(),
        config.exclude + config.extend_exclude,
        root=config.root,
        defaults=frozenset(DEFAULT_EXCLUDE) & set(config.exclude),
        respect_gitignore=options.respect_gitignore,
    )
    report.skipped = dict(found.skipped)
    report.skipped_dirs, report.gitignored = found.skipped_dirs, found.gitignored
    report.excluded_named = found.excluded_named
    report.skipped_projects = found.projects
    results: dict[str, FileResult] = {}
    cache = ResultCache(cache_dir(config)) if options.use_cache and not options.force else None
    pending: list[Item] = []
    keys: dict[str, str] = {}
    problems = list(found.problems)
    for absolute, display in found.files:
        data = _precheck.read_source(absolute, display, config.max_file_size)
        if isinstance(data, Finding):
            problems.append(data)
            continue
        report.files += 1
        report.lines += data.count(b"\n")
        report.contents[display] = data
        if cache is not None:
            keys[display] = key = cache_key(display, data, config.max_file_size)
            hit = cache.get(key)
            if hit is not None:
                try:
                    results[display] = FileResult.from_json(hit)
                    report.cache_hits += 1
                    continue
                except (KeyError, TypeError):
                    pass
        pending.append((display, data, config.max_file_size, options.force))
    for display, payload in _analyse_all(pending, options):
        result = FileResult.from_json(payload)
        results[display] = result
        if cache is not None and not _aborted(result):
            cache.put(keys[display], payload)
    if cache is not None:
        cache.prune()
    report.parsed = sum(1 for r in results.values() if r.parsed)
    raw = problems + [f for r in results.values() for f in r.findings]
    raw += _project.resolve({p: r.facts for p, r in results.items() if r.facts})
    kept: list[Finding] = []
    for finding in sorted(set(raw)):
        if not _selected(finding.code, finding.path, config):
            continue
        table = results[finding.path].facts.get("noqa", {}) if finding.path in results else {}
        if _suppress.suppressed(finding.code, finding.line, finding.end_line, table):
            report.suppressed += 1
            continue
        kept.append(finding)
    if config.runtime_only:
        rel_of = {p: display_path(Path(os.path.abspath(p)), config.root) for p in {f.path for f in kept}}
        kept, dropped = _classify.split(kept, rel_of, report.contents)
        report.not_runtime = len(dropped)
    report.all_findings = kept
    if options.baseline is not None:
        loaded = _baseline.load(options.baseline)
        kept, report.baselined = _baseline.apply(kept, loaded, report.contents, config.root)
    threshold = SEVERITY_RANK[config.severity]
    report.findings = [f for f in kept if SEVERITY_RANK[f.severity] >= threshold]
    report.seconds = time.perf_counter() - started
    return report


def _aborted(result: FileResult) -> bool:
    # A time or memory limit may be hit only on a loaded machine: never cache it.
    return any(f.code == diag.ABORTED.code for f in result.findings)


def cache_dir(config: Config) -> Path:
    """Where the result cache of ``config`` lives."""
    if config.cache_dir:  # already absolute: resolved against the file or flag that set it
        return Path(config.cache_dir)
    chosen = os.environ.get("SESSIONKIT_LINT_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    return config.root / ".sessionkit_cache" / "lint"


def _analyse_all(pending: list[Item], options: Options) -> Iterable[tuple[str, dict[str, Any]]]:
    """Analyse in worker processes under per-file limits; a failed worker costs one file (SK009)."""
    jobs = options.jobs or os.cpu_count() or 1
    if len(pending) < POOL_THRESHOLD:
        jobs = 1
    config = options.config
    limits = Limits(seconds=config.file_timeout, memory_mb=config.file_memory_mb)
    bar = _progress(len(pending)) if options.progress and len(pending) > 50 else None
    # Largest files first, so one big file does not finish last on an idle pool.
    ordered = sorted(pending, key=lambda item: -len(item[1]))
    try:
        for index, out in run_limited(_work, ordered, jobs, limits):
            if isinstance(out, Failure):
                display = ordered[index][0]
                result = FileResult(findings=[diag.ABORTED.finding(display, out.reason)])
                yield display, result.to_json()
            else:
                yield out
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()


def _progress(total: int) -> Any:
    try:
        from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - tqdm is in the lint extra
        return None
    return tqdm(total=total, file=sys.stderr, unit="file", leave=False, desc="sessionkit lint")
