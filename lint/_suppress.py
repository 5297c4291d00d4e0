"""Inline suppressions: ``# noqa: SK101`` and ``# sessionkit: ignore[SK101]`` (bare = all codes).

Both markers are case-insensitive (``# NOQA: sk101``), as in flake8 and ruff.
"""

from __future__ import annotations

import re

_NOQA = re.compile(
    r"#\s*(?:noqa(?::\s*(?P<noqa>[A-Za-z0-9,\s]+))?|sessionkit:\s*ignore(?:\[(?P<sk>[A-Za-z0-9,\s]+)\])?)",
    re.IGNORECASE,
)
ALL = "*"


def scan(text: str) -> dict[int, list[str]]:
    """Line number -> suppressed codes (``["*"]`` for all)."""
    out: dict[int, list[str]] = {}
    folded = text.lower()
    if "noqa" not in folded and "sessionkit:" not in folded:
        return out
    for number, line in enumerate(text.splitlines(), start=1):
        if "#" not in line:
            continue
        for match in _NOQA.finditer(line):
            codes = match.group("noqa") or match.group("sk")
            listed = [c.strip().upper() for c in re.split(r"[,\s]+", codes or "") if c.strip()]
            out.setdefault(number, []).extend(listed or [ALL])
    return out


def suppressed(code: str, line: int, end_line: int, table: dict[str, list[str]]) -> bool:
    """Whether a finding spanning ``line..end_line`` is silenced (JSON keys are strings)."""
    for number in range(line, min(end_line, line + 30) + 1):
        codes = table.get(str(number))
        if codes and (ALL in codes or any(code.startswith(c) for c in codes)):
            return True
    return False
