"""The linter's JSON report contract, as this side reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sessionkit.ingress._fromlint import BlockingFinding, header_lines, parse_report, read_report
from sessionkit.ingress._validate import AffinityConfigError


def finding(remedy: str, code: str = "SK101", path: str = "app/views.py", line: int = 12,
            message: str = "module-level dict caches per-user state") -> dict[str, Any]:
    return {
        "code": code, "category": "in-process-state", "severity": "error", "remedy": remedy,
        "path": path, "line": line, "column": 1, "end_line": line, "end_column": 20,
        "message": message, "fix_hint": "move it to Redis",
    }


def report(*findings: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "tool": "sessionkit-lint", "findings": list(findings),
            "summary": {"total": len(findings)}}


SAMPLE = report(
    finding("externalize", "SK001", "app/settings.py", 3, "SESSION_ENGINE is in-process"),
    finding("affinity", "SK201", "app/ws.py", 40, "websocket state held in a module global"),
    finding("refactor", "SK110", "app/cache.py", 7, "lru_cache on a per-user function"),
    finding("affinity", "SK202", "app/upload.py", 88, "chunked upload\nassembled on local disk"),
)


def test_only_affinity_findings_are_kept() -> None:
    assert parse_report(SAMPLE) == [
        BlockingFinding("SK201", "app/ws.py", 40, "websocket state held in a module global"),
        BlockingFinding("SK202", "app/upload.py", 88, "chunked upload\nassembled on local disk"),
    ]


def test_header_lines() -> None:
    assert header_lines(parse_report(SAMPLE)) == [
        "these block migration (lint findings with remedy 'affinity'):",
        "  app/ws.py:40 SK201 websocket state held in a module global",
        "  app/upload.py:88 SK202 chunked upload assembled on local disk",
    ]


def test_no_affinity_findings() -> None:
    assert parse_report(report(finding("externalize"), finding("refactor"))) == []
    assert parse_report(report()) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "top level must be a JSON object"),
        ({**report(), "version": 2}, "version 2 is not supported"),
        ({**report(), "tool": "ruff"}, "'ruff' is not 'sessionkit-lint'"),
        ({**report(), "findings": {}}, "'findings' must be a list"),
        (report("x"), r"findings\[0\] must be an object"),  # type: ignore[arg-type]
        (report(finding("sticky")), "remedy 'sticky' is not one of"),
        (report({**finding("affinity"), "line": "12"}), r"findings\[0\]\.line must be an integer"),
        (report({**finding("affinity"), "line": True}), r"\.line must be an integer"),
        (report({**finding("affinity"), "path": None}), r"\.path must be a string"),
    ],
)
def test_bad_reports(data: Any, message: str) -> None:
    with pytest.raises(AffinityConfigError, match=message):
        parse_report(data)


def test_read_report_errors(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(AffinityConfigError, match="not JSON"):
        read_report(str(bad))
    with pytest.raises(AffinityConfigError, match="cannot read"):
        read_report(str(tmp_path / "missing.json"))
    good = tmp_path / "ok.json"
    good.write_text(json.dumps(SAMPLE), encoding="utf-8")
    assert len(read_report(str(good))) == 2
