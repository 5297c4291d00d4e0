"""Safe mechanical fixes as libcst codemods (``--fix``/``--diff``).

Only rewrites whose meaning is unambiguous: the exact node a finding points at, a plain string
literal or a missing keyword argument. Everything else in the file keeps its formatting. A fix is
kept only when the new source parses; running the fixes again changes nothing. Fixes follow the
linter's own advice: the Redis URL is a required setting (``os.environ["..."]``, no localhost
fallback), ``import os`` goes where isort puts it, and a call that would pass the project's line
length is wrapped one argument per line. The file keeps its encoding (PEP 263) and its BOM.
"""

from __future__ import annotations

import codecs
import difflib
import tokenize
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from sessionkit.lint._fix_layout import add_import, one_arg_per_line
from sessionkit.lint._types import Finding

DJANGO_ENGINE = "sessionkit.adapters.django"
SESSION_SETTING = "SESSIONKIT_REDIS_URL"
LIMITER_SETTING = "RATELIMIT_STORAGE_URI"
FIXABLE = frozenset({"SK102", "SK109"})


def _quote_like(node: cst.SimpleString, value: str) -> str:
    quote = node.quote
    return f"{node.prefix}{quote}{value}{quote}"


class _Fixer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, findings: Sequence[Finding], wrap: bool = False) -> None:
        super().__init__()
        self.wrap = wrap
        self.at: dict[tuple[int, int], str] = {(f.line, f.column): f.code for f in findings}
        self.changed = False
        self.needs_os = False
        self.has_redis_setting = False
        self.engine_stmt: cst.SimpleStatementLine | None = None

    def _code_at(self, node: cst.CSTNode) -> str | None:
        pos = self.get_metadata(PositionProvider, node)
        return self.at.get((pos.start.line, pos.start.column + 1))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "SESSIONKIT_REDIS_URL":
            self.has_redis_setting = True

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        value = original.value
        target = original.targets[0].target if len(original.targets) == 1 else None
        if (
            isinstance(value, cst.SimpleString)
            and isinstance(target, cst.Name)
            and target.value == "SESSION_ENGINE"
            and self._code_at(value) == "SK102"
        ):
            self.changed = True
            return updated.with_changes(value=cst.SimpleString(_quote_like(value, DJANGO_ENGINE)))
        return updated

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        for small in updated.body:
            if (
                isinstance(small, cst.Assign)
                and isinstance(small.value, cst.SimpleString)
                and small.value.evaluated_value == DJANGO_ENGINE
                and self.changed
                and self.engine_stmt is None
            ):
                self.engine_stmt = updated
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if self._code_at(original) != "SK109" and not any(
            a.keyword is not None
            and a.keyword.value == "storage_uri"
            and isinstance(a.value, cst.SimpleString)
            and self._code_at(a.value) == "SK109"
            for a in original.args
        ):
            return updated
        redis = cst.parse_expression(f'os.environ["{LIMITER_SETTING}"]')
        args = list(updated.args)
        for i, arg in enumerate(args):
            if arg.keyword is not None and arg.keyword.value == "storage_uri":
                if not isinstance(arg.value, cst.SimpleString):
                    return updated
                args[i] = arg.with_changes(value=redis)
                break
        else:
            if any(a.star for a in args):
                return updated  # **kwargs may already carry storage_uri: ambiguous
            if args:
                last = args[-1]
                if last.comma is cst.MaybeSentinel.DEFAULT:
                    args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            args.append(
                cst.Arg(
                    value=redis,
                    keyword=cst.Name("storage_uri"),
                    equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                )
            )
        self.changed = True
        self.needs_os = True
        fixed = updated.with_changes(args=args)
        split = cst.ParenthesizedWhitespace
        multiline = isinstance(updated.whitespace_before_args, split) or any(
            isinstance(a.comma, cst.Comma) and isinstance(a.comma.whitespace_after, split)
            for a in updated.args
        )
        return one_arg_per_line(fixed) if self.wrap or multiline else fixed

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.engine_stmt is None or self.has_redis_setting:
            return updated
        body = list(updated.body)
        for i, stmt in enumerate(body):
            if stmt is self.engine_stmt:
                line = cst.parse_statement(f'{SESSION_SETTING} = os.environ["{SESSION_SETTING}"]\n')
                body.insert(i + 1, line)
                self.needs_os = True
                break
        return updated.with_changes(body=body)


def fix_source(source: str, findings: Sequence[Finding], line_length: int = 88) -> str:
    """The fixed source, or ``source`` unchanged when nothing applies or the result is invalid."""
    wanted = [f for f in findings if f.code in FIXABLE]
    if not wanted:
        return source
    try:
        module = cst.parse_module(source)
        code = _apply(module, wanted, wrap=False)
        if code is None:
            return source
        before = set(source.splitlines())
        if any(len(line) > line_length for line in code.splitlines() if line not in before):
            code = _apply(module, wanted, wrap=True) or code
        cst.parse_module(code)  # must still parse
        compile(code, "<fixed>", "exec")
    except Exception:  # a fix that cannot be applied safely is skipped, never half-applied
        return source
    return code


def _apply(module: cst.Module, findings: Sequence[Finding], wrap: bool) -> str | None:
    fixer = _Fixer(findings, wrap)
    fixed = MetadataWrapper(module).visit(fixer)
    if not fixer.changed:
        return None
    if fixer.needs_os:
        fixed = add_import(fixed, "os")
    return fixed.code


def encoding_of(data: bytes) -> str:
    """The codec that reads ``data`` back exactly: its PEP 263 cookie, ``utf-8-sig`` with a BOM."""
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        return codecs.lookup(encoding).name
    except (SyntaxError, LookupError):
        return "utf-8"


def fix_bytes(data: bytes, findings: Sequence[Finding], line_length: int = 88) -> tuple[str, str, str]:
    """``(encoding, before, after)``: the file's text before and after the fixes, and its codec.

    Writing ``after.encode(encoding)`` keeps a latin-1 file latin-1 and a UTF-8 BOM in place.
    """
    encoding = encoding_of(data)
    before = data.decode(encoding)
    return encoding, before, fix_source(before, findings, line_length)


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def apply_fixes(report: Any, diff: bool, line_length: int = 88) -> tuple[int, str]:
    """Fix (or, with ``diff``, only show) every fixable finding of ``report``: ``(files, diff text)``."""
    by_path: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.code in FIXABLE:
            by_path.setdefault(finding.path, []).append(finding)
    changed, out = 0, []
    for path, findings in sorted(by_path.items()):
        encoding, before, after = fix_bytes(report.contents[path], findings, line_length)
        if after == before:
            continue
        changed += 1
        if diff:
            out.append(unified_diff(path, before, after))
        else:
            Path(path).write_bytes(after.encode(encoding))
    return changed, "".join(out)
