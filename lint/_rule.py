"""The rule contract: a small data-carrying class with visitor methods and embedded examples."""

from __future__ import annotations

import inspect
import textwrap
from typing import Any, ClassVar

import libcst as cst

from sessionkit.lint import _links as links
from sessionkit.lint._context import FileContext
from sessionkit.lint._locate import locate
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


def examples(*blocks: str) -> tuple[str, ...]:
    """Rule examples written as indented triple-quoted blocks (Fixit-style), dedented.

    Each block starts with a newline after the opening quotes; the result is the snippet's source
    with one trailing newline.
    """
    return tuple(textwrap.dedent(block).lstrip("\n") for block in blocks)


Facts = dict[str, dict[str, Any]]


class Rule:
    """Base class. Subclasses set the class attributes and define ``visit_<Node>`` methods.

    ``prefilter`` holds regular expressions that must *all* occur in a file's bytes for the rule to
    possibly match; files that pass no rule's prefilter are never parsed. Examples are source
    snippets; a first line ``# file: NAME`` sets the file name the snippet is linted as.

    A rule whose decision depends on several files stores JSON facts in ``self.ctx.facts`` while
    visiting and overrides :meth:`project`, which the cross-file phase calls once per run with
    every file's facts.
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
        """Record a finding at ``node``; ``subject`` names what was found, the class says why.

        Nothing is recorded for test configuration (see ``FileContext.in_test_config``) or for
        code that only development runs (``FileContext.dev_only``).
        """
        if self.ctx.in_test_config(node) or self.ctx.dev_only(node):
            return
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

    def report_request_time(self, node: cst.CSTNode, subject: str, deferred: str | None) -> None:
        """:meth:`report` code that runs at request time in this module; :meth:`defer` code in a
        function (``deferred``) that only other modules may call per request."""
        if deferred is None:
            self.report(node, subject)
        else:
            self.defer(node, deferred, subject)

    def defer(self, node: cst.CSTNode, function: str, subject: str) -> None:
        """Report ``node`` only if request handlers in another module of the project call
        ``function`` (decided in the cross-file phase by the default :meth:`project`)."""
        if self.ctx.in_test_config(node) or self.ctx.dev_only(node):
            return
        self.ctx.facts.setdefault("deferred", []).append(
            {"code": self.code, "function": function, "subject": subject, **self.position(node)}
        )

    @classmethod
    def project(cls, facts: Facts) -> list[Finding]:
        """Findings that need several files' facts (``{path: facts}``).

        By default: the :meth:`defer`-red findings whose function is called by request-handling
        modules of the project, at one severity lower than the rule's (the call graph is read
        lexically, so it is strong evidence but not proof); and, at the rule's severity, request
        handlers' changes to a name imported from a project module that defines it as a
        module-level container (``function`` is then ``module:name``).
        """
        wanted = [
            (path, item)
            for path, own in sorted(facts.items())
            for item in own.get("deferred", ())
            if item["code"] == cls.code
        ]
        if not wanted:
            return []
        callers = links.reached(facts, [(path, item["function"]) for path, item in wanted])
        out = []
        for path, item in wanted:
            caller = callers.get((path, item["function"]))
            if caller is None:
                continue
            if ":" in item["function"]:  # a request handler of this file mutates an imported container
                subject = f"{item['subject']} (a module-level container of {caller})"
                out.append(cls.finding_at(path, item, subject))
                continue
            function = item["function"].replace("().", ".").replace("(*).", ".")
            subject = f"{item['subject']} (in `{function}()`, called by request handlers in {caller})"
            out.append(cls.finding_at(path, item, subject, severity=LOWER[cls.severity]))
        return out

    @classmethod
    def finding_at(
        cls,
        path: str,
        where: dict[str, Any],
        subject: str,
        guard: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule at a position recorded in the facts (see :meth:`position`)."""
        level = severity or cls.severity
        severity = LOWER[level] if guard else level
        message = f"{subject}: {cls.message}"
        if guard:
            message += f" (guarded: {guard}; still wrong whenever the guard does not hold)"
        return Finding(
            path=path,
            line=where["line"],
            column=where["column"],
            code=cls.code,
            category=cls.category,
            severity=severity,
            remedy=cls.remedy,
            end_line=where["end_line"],
            end_column=where["end_column"],
            message=message,
            fix_hint=cls.fix_hint,
        )

    def position(self, node: cst.CSTNode) -> dict[str, int]:
        """``node``'s range as JSON facts, for :meth:`finding_at` in the cross-file phase (read
        from the source text when that is unambiguous and the module's positions were not needed
        yet: see ``_locate``)."""
        if "positions" not in self.ctx.__dict__ and self.ctx.source is not None:
            functions = self.ctx.enclosing_functions(node)
            holder = self.ctx.parents.get(functions[-1]) if functions else None
            owner = self.ctx.parents.get(holder) if holder is not None else None
            name = owner.name.value if isinstance(owner, cst.ClassDef) else None
            found = locate(self.ctx.source, self.ctx.module, node, functions, name)
            if found is not None:
                return found
        where = self.ctx.positions[node]
        return {
            "line": where.start.line,
            "column": where.start.column + 1,
            "end_line": where.end.line,
            "end_column": where.end.column + 1,
        }

    @classmethod
    def description(cls) -> str:
        """The class docstring, dedented (its continuation lines are prose, not a code block)."""
        return inspect.cleandoc(cls.__doc__ or "")
