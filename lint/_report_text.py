"""Human output: findings grouped by file, then a summary by category and remedy."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from sessionkit.lint._engine import Report

_COLOURS = {
    "error": "\033[31m",
    "warning": "\033[33m",
    "info": "\033[36m",
    "path": "\033[1m",
    "dim": "\033[2m",
    "reset": "\033[0m",
}
REMEDY_NOTES = {
    "externalize": "switch to a sessionkit store (config shown in each message)",
    "refactor": "move the state to shared infrastructure",
    "affinity": "needs cookie affinity until refactored: see `sessionkit ingress`",
}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def render(report: Report, colour: bool = False, quiet: bool = False) -> str:
    """The grouped findings, then (unless ``quiet``) the summary and what was not checked."""

    def c(kind: str, text: str) -> str:
        return f"{_COLOURS[kind]}{text}{_COLOURS['reset']}" if colour else text

    lines: list[str] = []
    for path, group in groupby(report.findings, key=lambda f: f.path):
        lines.append(c("path", path))
        for f in group:
            lines.append(f"  {f.line}:{f.column}  {c(f.severity, f'{f.severity:<7}')}  {f.code}  {f.message}")
            lines.append(c("dim", f"      fix: {f.fix_hint}"))
        lines.append("")
    if quiet:
        return "\n".join(lines) + "\n" if lines else ""
    total = len(report.findings)
    files = len({f.path for f in report.findings})
    if total:
        severities = Counter(f.severity for f in report.findings)
        parts = ", ".join(_count(n, s) for s, n in sorted(severities.items()))
        lines.append(f"Found {_count(total, 'finding')} in {_count(files, 'file')} ({parts}).")
        lines.append("By category:")
        for category, n in Counter(f.category for f in report.findings).most_common():
            lines.append(f"  {category:<20} {n}")
        lines.append("By remedy:")
        for remedy, n in Counter(f.remedy for f in report.findings).most_common():
            lines.append(f"  {remedy:<12} {n:>4}  {REMEDY_NOTES[remedy]}")
    else:
        lines.append("No findings.")
    extra = []
    if report.suppressed:
        extra.append(f"{report.suppressed} suppressed inline")
    if report.baselined:
        extra.append(f"{report.baselined} in baseline")
    if report.not_runtime:
        extra.append(f"{report.not_runtime} in CLI/dev-script code (`runtime-only = false` shows them)")
    lines.append(
        f"Checked {_count(report.files, 'file')} ({_count(report.lines, 'line')}, {report.parsed} parsed, "
        f"{report.cache_hits} from cache) in {report.seconds:.2f}s"
        + (f"; {', '.join(extra)}" if extra else "")
        + "."
    )
    skipped = skipped_summary(report)
    if skipped:
        lines.append(skipped)
    return "\n".join(lines) + "\n"


def skipped_summary(report: Report) -> str:
    """One line on what discovery left out, or ``""``."""
    parts = []
    if report.skipped:
        detail = ", ".join(f"{pattern} {n}" for pattern, n in sorted(report.skipped.items()))
        parts.append(f"{_count(sum(report.skipped.values()), 'Python file')} ({detail})")
    if report.skipped_dirs:
        parts.append(_count(report.skipped_dirs, "VCS/virtualenv/cache folder"))
    text = f"Not checked (default excludes): {', '.join(parts)}." if parts else ""
    if report.gitignored:
        text += (" " if text else "") + f"{_count(report.gitignored, 'gitignored path')} skipped."
    return text


def statistics(report: Report) -> str:
    """ruff-style ``--statistics``: count, code and name per code, most frequent first."""
    from sessionkit.lint._explain import name_of

    counts = Counter(f.code for f in report.findings)
    rows = [
        f"{n:>5}  {code:<6} {name_of(code)}"
        for code, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    ]
    return "\n".join(rows) + "\n" if rows else ""
