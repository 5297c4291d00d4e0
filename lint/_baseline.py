"""Baseline files: accept today's findings, fail only on new ones.

Version 2 (written since 2026.12) fingerprints a finding by its path relative to the project root,
its code, its source line with whitespace normalised, and its occurrence index among findings
with the same three; so rewording a message (a new release) or moving the line keeps it
baselined, while a second copy of the same problem is new. Version 1 files (path, code and
message text, counted) are still read; ``--write-baseline`` upgrades them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from sessionkit.lint._types import Finding

VERSION = 2


class BaselineError(ValueError):
    pass


class Baseline:
    """A loaded baseline of either version."""

    def __init__(self, version: int, prints: Counter[str]) -> None:
        self.version = version
        self.prints = prints


def _line(data: bytes | None, number: int) -> str:
    if not data:
        return ""
    lines = data.split(b"\n", number)
    raw = lines[number - 1] if 0 < number <= len(lines) else b""
    return " ".join(raw.decode("utf-8", "replace").split())


def fingerprints(findings: Sequence[Finding], contents: Mapping[str, bytes], root: Path) -> list[str]:
    """The version-2 fingerprint of each finding, in the order given."""
    seen: Counter[str] = Counter()
    out: dict[Finding, str] = {}
    for f in sorted(findings):
        try:
            rel = Path(os.path.abspath(f.path)).relative_to(root).as_posix()
        except ValueError:
            rel = f.path
        digest = hashlib.blake2b(_line(contents.get(f.path), f.line).encode(), digest_size=8).hexdigest()
        base = f"{rel}::{f.code}::{digest}"
        out[f] = f"{base}::{seen[base]}"
        seen[base] += 1
    return [out[f] for f in findings]


def write(path: Path, findings: Sequence[Finding], contents: Mapping[str, bytes], root: Path) -> None:
    counts = Counter(fingerprints(findings, contents, root))
    data = {"version": VERSION, "tool": "sessionkit-lint", "fingerprints": dict(sorted(counts.items()))}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def load(path: Path) -> Baseline:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaselineError(f"--baseline {path}: cannot read baseline: {exc}") from exc
    prints = data.get("fingerprints") if isinstance(data, dict) else None
    version = data.get("version") if isinstance(data, dict) else None
    if version not in (1, VERSION) or not isinstance(prints, dict):
        raise BaselineError(f"--baseline {path}: not a sessionkit lint baseline (version 1 or 2)")
    try:
        return Baseline(version, Counter({str(k): int(v) for k, v in prints.items()}))
    except (TypeError, ValueError) as exc:
        raise BaselineError(f"--baseline {path}: bad fingerprint count: {exc}") from exc


def apply(
    findings: list[Finding], baseline: Baseline, contents: Mapping[str, bytes], root: Path
) -> tuple[list[Finding], int]:
    """Findings not covered by the baseline, and how many were covered."""
    remaining = Counter(baseline.prints)
    keys = fingerprints(findings, contents, root) if baseline.version == VERSION else None
    kept: list[Finding] = []
    for i, finding in enumerate(findings):
        key = keys[i] if keys is not None else finding.fingerprint()
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            kept.append(finding)
    return kept, len(findings) - len(kept)
