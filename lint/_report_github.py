"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from sessionkit.lint._engine import Report

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    out = []
    for f in report.findings:
        props = (
            f"file={_prop(f.path)},line={f.line},col={f.column},endLine={f.end_line},"
            f"endColumn={f.end_column},title={_prop(f.code + ' ' + f.category)}"
        )
        out.append(f"::{LEVELS[f.severity]} {props}::{_data(f.message + ' Fix: ' + f.fix_hint)}")
    return "\n".join(out) + ("\n" if out else "")
