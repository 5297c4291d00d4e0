"""The rule contract: a small data-carrying class with visitor methods and embedded examples."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint._types import Finding, Remedy, Severity

LOWER: dict[Severity, Severity] = {"error": "warning", "warning": "info", "info": "info"}

DJANGO_STORE = (
    'set `SESSION_ENGINE = "sessionkit.adapters.django"` and `SESSIONKIT_REDIS_URL = '
    'os.environ["SESSIONKIT_REDIS_URL"]` in settings'
)
FLASK_STORE = (
    "use `from sessionkit.adapters.flask import SessionKit` and `SessionKit(app)` with "
    '`app.config["SESSIONKIT_REDIS_URL"]` set to your Redis URL'
)
STARLETTE_STORE = (
    "use `from sessionkit.adapters.starlette import SessionMiddleware` and "
    '`app.add_middleware(SessionMiddleware, secret_key=..., redis_url=os.environ["SESSIONKIT_REDIS_URL"])`'
)
AFFINITY = (
    "until it is refactored, pin each client to one replica with cookie affinity: "
    "`sessionkit ingress` generates the ingress configuration"
)


class Rule:
    """Base class. Subclasses set the class attributes and define ``visit_<Node>`` methods.

    ``prefilter`` holds regular expressions that must *all* occur in a file's bytes for the rule to
    possibly match; files that pass no rule's prefilter are never parsed. Examples are source
    snippets; a first line ``# file: NAME`` sets the file name the snippet is linted as.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    category: ClassVar[str]
    severity: ClassVar[Severity]
    remedy: ClassVar[Remedy]
    message: ClassVar[str]
    fix_hint: ClassVar[str]
    prefilter: ClassVar[tuple[str, ...]] = ()
    fixable: ClassVar[bool] = False
    valid: ClassVar[tuple[str, ...]] = ()
    invalid: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: FileContext, sink: list[Finding]) -> None:
        self.ctx = ctx
        self._sink = sink

    def report(
        self,
        node: cst.CSTNode,
        subject: str,
        *,
        guard: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        """Record a finding at ``node``; ``subject`` names what was found, the class says why."""
        level = severity or self.severity
        message = f"{subject}: {self.message}"
        if guard:
            level = LOWER[level]
            message = f"{message} (guarded: {guard}; still wrong whenever the guard does not hold)"
        where = self.ctx.positions[node]
        self._sink.append(
            Finding(
                path=self.ctx.path,
                line=where.start.line,
                column=where.start.column + 1,
                code=self.code,
                category=self.category,
                severity=level,
                remedy=self.remedy,
                end_line=where.end.line,
                end_column=where.end.column + 1,
                message=message,
                fix_hint=self.fix_hint,
            )
        )

    @classmethod
    def description(cls) -> str:
        return (cls.__doc__ or "").strip()
