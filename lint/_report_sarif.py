"""SARIF 2.1.0 for GitHub code scanning: repo-relative URIs, full rule metadata and help."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sessionkit._version import __version__
from sessionkit.lint._diagnostics import ALL_DIAGNOSTICS
from sessionkit.lint._engine import Report
from sessionkit.lint._explain import render_rule
from sessionkit.lint.rules import ALL_RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _rules() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in ALL_RULES:
        out.append(
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.description().splitlines()[0]},
                "fullDescription": {"text": rule.description()},
                "help": {"text": f"{rule.message}. Fix: {rule.fix_hint}", "markdown": render_rule(rule)},
                "defaultConfiguration": {"level": LEVELS[rule.severity]},
                "properties": {
                    "category": rule.category,
                    "remedy": rule.remedy,
                    "tags": ["replicas", rule.category, rule.remedy],
                },
            }
        )
    for d in ALL_DIAGNOSTICS:
        out.append(
            {
                "id": d.code,
                "name": d.name,
                "shortDescription": {"text": d.message},
                "fullDescription": {"text": d.message},
                "help": {"text": d.fix_hint, "markdown": d.fix_hint},
                "defaultConfiguration": {"level": LEVELS[d.severity]},
                "properties": {"category": d.category, "remedy": d.remedy, "tags": ["input"]},
            }
        )
    return out


def repo_root(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def document(report: Report, root: Path | None = None) -> dict[str, Any]:
    base = repo_root(Path.cwd()) if root is None else root
    rules = _rules()
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for f in report.findings:
        absolute = Path(os.path.abspath(f.path))
        try:
            uri = absolute.relative_to(base).as_posix()
        except ValueError:
            uri = absolute.as_uri()
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": LEVELS[f.severity],
                "message": {"text": f"{f.message}. Fix: {f.fix_hint}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                            "region": {
                                "startLine": f.line,
                                "startColumn": max(f.column, 1),
                                "endLine": f.end_line,
                                "endColumn": max(f.end_column, 1),
                            },
                        }
                    }
                ],
                "partialFingerprints": {"sessionkitFingerprint/v1": f.fingerprint()},
                "properties": {"category": f.category, "remedy": f.remedy},
            }
        )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sessionkit-lint",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri() + "/"}},
                "results": results,
            }
        ],
    }


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2) + "\n"
