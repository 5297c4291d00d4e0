"""Plain data shared by the engine, the rules and the reporters (no libcst here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

Severity = Literal["error", "warning", "info"]
Remedy = Literal["externalize", "refactor", "affinity"]

SEVERITIES: tuple[Severity, ...] = get_args(Severity)
#: Higher number = more severe; the threshold keeps findings whose rank is >= its own.
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}

#: Bumped whenever a rule's behaviour changes, so cached results of older rule sets are never reused.
RULESET_VERSION = "2026.12.8"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. ``path`` is POSIX-style, relative to the project root."""

    path: str
    line: int
    column: int
    code: str
    category: str
    severity: Severity
    remedy: Remedy
    end_line: int
    end_column: int
    message: str
    fix_hint: str

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape (documented in docs/lint.md)."""
        data = asdict(self)
        return {key: data[key] for key in JSON_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{key: data[key] for key in JSON_FIELDS})

    def fingerprint(self) -> str:
        """Path, code and message: version-1 baselines and SARIF ``partialFingerprints``."""
        return f"{self.path}::{self.code}::{self.message}"


JSON_FIELDS: tuple[str, ...] = (
    "code",
    "category",
    "severity",
    "remedy",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "fix_hint",
)
