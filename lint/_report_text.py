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


def render(report: Report, colour: bool = False) -> str:
    def c(kind: str, text: str) -> str:
        return f"{_COLOURS[kind]}{text}{_COLOURS['reset']}" if colour else text

    lines: list[str] = []
    for path, group in groupby(report.findings, key=lambda f: f.path):
        lines.append(c("path", path))
        for f in group:
            lines.append(f"  {f.line}:{f.column}  {c(f.severity, f'{f.severity:<7}')}  {f.code}  {f.message}")
            lines.append(c("dim", f"      fix: {f.fix_hint}"))
        lines.append("")
    total = len(report.findings)
    files = len({f.path for f in report.findings})
    if total:
        severities = Counter(f.severity for f in report.findings)
        parts = ", ".join(f"{n} {s}" for s, n in sorted(severities.items()))
        lines.append(
            f"Found {total} finding{'s' * (total != 1)} in {files} file{'s' * (files != 1)} ({parts})."
        )
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
    lines.append(
        f"Checked {report.files} files ({report.lines} lines, {report.parsed} parsed, "
        f"{report.cache_hits} from cache) in {report.seconds:.2f}s"
        + (f"; {', '.join(extra)}" if extra else "")
        + "."
    )
    return "\n".join(lines) + "\n"
