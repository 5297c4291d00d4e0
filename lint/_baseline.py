"""Baseline files: accept today's findings, fail only on new ones."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sessionkit.lint._types import Finding


class BaselineError(ValueError):
    pass


def write(path: Path, findings: list[Finding]) -> None:
    counts = Counter(f.fingerprint() for f in findings)
    data = {"version": 1, "tool": "sessionkit-lint", "fingerprints": dict(sorted(counts.items()))}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def load(path: Path) -> Counter[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaselineError(f"--baseline {path}: cannot read baseline: {exc}") from exc
    prints = data.get("fingerprints") if isinstance(data, dict) else None
    if data.get("version") != 1 or not isinstance(prints, dict):
        raise BaselineError(f"--baseline {path}: not a sessionkit lint baseline (version 1)")
    return Counter({str(k): int(v) for k, v in prints.items()})


def apply(findings: list[Finding], baseline: Counter[str]) -> tuple[list[Finding], int]:
    """Findings not covered by the baseline, and how many were covered."""
    remaining = Counter(baseline)
    kept: list[Finding] = []
    for finding in findings:
        key = finding.fingerprint()
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            kept.append(finding)
    return kept, len(findings) - len(kept)
