"""Read the linter's JSON report and keep the findings whose remedy is ``affinity``.

Contract (``sessionkit lint --format json``, version 1)::

    {"version": 1, "tool": "sessionkit-lint",
     "findings": [{"code", "category", "severity", "remedy", "path", "line", "column",
                   "end_line", "end_column", "message", "fix_hint"}, ...],
     "summary": {...}}

``remedy`` is ``externalize``, ``refactor`` or ``affinity``. Only ``code``, ``remedy``, ``path``,
``line`` and ``message`` are required here; other fields are ignored, so additive changes to the
report do not break this reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessionkit.ingress._validate import AffinityConfigError

REMEDIES = frozenset({"externalize", "refactor", "affinity"})


@dataclass(frozen=True)
class BlockingFinding:
    """A lint finding that only affinity can work around until the code is refactored."""

    code: str
    path: str
    line: int
    message: str

    def comment(self) -> str:
        """``path:line CODE message`` on one line."""
        return f"{self.path}:{self.line} {self.code} {' '.join(self.message.split())}"


def parse_report(data: Any, source: str = "report") -> list[BlockingFinding]:
    """Validate a parsed report and return its ``affinity`` findings, in report order."""
    if not isinstance(data, dict):
        raise AffinityConfigError(f"--from-lint {source}: top level must be a JSON object")
    if data.get("version") != 1:
        raise AffinityConfigError(
            f"--from-lint {source}: version {data.get('version')!r} is not supported; expected 1"
        )
    if data.get("tool") != "sessionkit-lint":
        raise AffinityConfigError(
            f"--from-lint {source}: tool {data.get('tool')!r} is not 'sessionkit-lint'"
        )
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise AffinityConfigError(f"--from-lint {source}: 'findings' must be a list")
    out: list[BlockingFinding] = []
    for index, item in enumerate(findings):
        where = f"--from-lint {source}: findings[{index}]"
        if not isinstance(item, dict):
            raise AffinityConfigError(f"{where} must be an object")
        remedy = item.get("remedy")
        if remedy not in REMEDIES:
            raise AffinityConfigError(
                f"{where}.remedy {remedy!r} is not one of externalize, refactor, affinity"
            )
        for key, kind, noun in (("code", str, "a string"), ("path", str, "a string"),
                                ("message", str, "a string"), ("line", int, "an integer")):
            value = item.get(key)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise AffinityConfigError(f"{where}.{key} must be {noun}")
        if remedy == "affinity":
            out.append(
                BlockingFinding(item["code"], item["path"], item["line"], item["message"])
            )
    return out


def read_report(path: str) -> list[BlockingFinding]:
    """Load and parse the report at ``path`` (``-`` is not supported: pass a file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AffinityConfigError(f"--from-lint {path}: cannot read: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AffinityConfigError(
            f"--from-lint {path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    return parse_report(data, path)


def header_lines(findings: list[BlockingFinding]) -> list[str]:
    """Comment lines naming the findings that make affinity necessary."""
    lines = ["these block migration (lint findings with remedy 'affinity'):"]
    lines += [f"  {f.comment()}" for f in findings]
    return lines
