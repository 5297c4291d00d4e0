"""Machine output with a stable schema (``version`` 1), consumed by ``sessionkit ingress --from-lint``."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sessionkit.lint._engine import Report
from sessionkit.lint._types import RULESET_VERSION


def document(report: Report) -> dict[str, Any]:
    findings = report.findings
    return {
        "version": 1,
        "tool": "sessionkit-lint",
        "ruleset": RULESET_VERSION,
        "findings": [f.to_dict() for f in findings],
        "summary": {
            "files": report.files,
            "lines": report.lines,
            "findings": len(findings),
            "by_severity": dict(Counter(f.severity for f in findings)),
            "by_category": dict(Counter(f.category for f in findings)),
            "by_remedy": dict(Counter(f.remedy for f in findings)),
            "suppressed": report.suppressed,
            "baselined": report.baselined,
            "not_runtime": report.not_runtime,
            "skipped_by_default_excludes": sum(report.skipped.values()),
            "gitignored": report.gitignored,
        },
    }


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2) + "\n"
