"""Safe mechanical fixes as libcst codemods (``--fix``/``--diff``).

Only rewrites whose meaning is unambiguous: the exact node a finding points at, a plain string
literal or a missing keyword argument. Everything else in the file keeps its formatting. A fix is
kept only when the new source parses; running the fixes again changes nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider

from sessionkit.lint._types import Finding

DJANGO_ENGINE = "sessionkit.adapters.django"
REDIS_DEFAULT = "redis://localhost:6379/0"
FIXABLE = frozenset({"SK102", "SK109"})


def _quote_like(node: cst.SimpleString, value: str) -> str:
    quote = node.quote
    return f"{node.prefix}{quote}{value}{quote}"


class _Fixer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, findings: Sequence[Finding]) -> None:
        super().__init__()
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
        redis = cst.parse_expression(f'os.environ.get("RATELIMIT_STORAGE_URI", "{REDIS_DEFAULT}")')
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
        return updated.with_changes(args=args)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.engine_stmt is None or self.has_redis_setting:
            return updated
        body = list(updated.body)
        for i, stmt in enumerate(body):
            if stmt is self.engine_stmt:
                line = cst.parse_statement(
                    f'SESSIONKIT_REDIS_URL = os.environ.get("SESSIONKIT_REDIS_URL", "{REDIS_DEFAULT}")\n'
                )
                body.insert(i + 1, line)
                self.needs_os = True
                break
        return updated.with_changes(body=body)


def fix_source(source: str, findings: Sequence[Finding]) -> str:
    """The fixed source, or ``source`` unchanged when nothing applies or the result is invalid."""
    wanted = [f for f in findings if f.code in FIXABLE]
    if not wanted:
        return source
    try:
        module = cst.parse_module(source)
        fixer = _Fixer(wanted)
        fixed = MetadataWrapper(module).visit(fixer)
        if not fixer.changed:
            return source
        if fixer.needs_os:
            context = CodemodContext()
            AddImportsVisitor.add_needed_import(context, "os")
            fixed = AddImportsVisitor(context).transform_module(fixed)
        code = fixed.code
        cst.parse_module(code)  # must still parse
        compile(code, "<fixed>", "exec")
    except Exception:  # a fix that cannot be applied safely is skipped, never half-applied
        return source
    return code


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
