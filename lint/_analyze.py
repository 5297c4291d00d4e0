"""Lint one file's bytes: input diagnostics, lexical prefilter, one parse, one pass of all rules.

This is what runs in worker processes; it returns plain data so results pickle and cache cheaply.
"""

from __future__ import annotations

import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from sessionkit.lint import _diagnostics as diag
from sessionkit.lint import _links as links
from sessionkit.lint._templates import untemplate
from sessionkit.lint._types import Finding

MAX_BYTES_DEFAULT = 2_000_000
_PY2 = re.compile(rb"^\s*(print\s+[^\s(=]|exec\s+[\"'\w]|except\s+\w+\s*,\s*\w+\s*:)", re.M)


@dataclass
class FileResult:
    """Findings of one file plus the facts the cross-file phase needs."""

    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    parsed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"findings": [f.to_dict() for f in self.findings], "facts": self.facts, "parsed": self.parsed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileResult:
        return cls([Finding.from_dict(f) for f in data["findings"]], data["facts"], data["parsed"])


class _Prefilter:
    """Regexes per rule; a rule runs on a file only when all of its patterns occur.

    Rules share patterns (the handler vocabulary, the container shapes): each distinct pattern is
    compiled once and searched at most once per file.
    """

    def __init__(self) -> None:
        from sessionkit.lint.rules import ALL_RULES

        compiled: dict[str, int] = {}
        self.patterns: list[re.Pattern[bytes]] = []
        for rule in ALL_RULES:
            for p in rule.prefilter:
                if p not in compiled:
                    compiled[p] = len(self.patterns)
                    self.patterns.append(re.compile(p.encode()))
        self.rules = [(rule, [compiled[p] for p in rule.prefilter]) for rule in ALL_RULES]

    def matching(self, data: bytes) -> list[Any]:
        seen: dict[int, bool] = {}
        out = []
        for rule, indexes in self.rules:
            for i in indexes:
                hit = seen.get(i)
                if hit is None:
                    hit = seen[i] = self.patterns[i].search(data) is not None
                if not hit:
                    break
            else:
                out.append(rule)
        return out


_PREFILTER: _Prefilter | None = None


def _prefilter() -> _Prefilter:
    global _PREFILTER  # one compiled set per (worker) process
    if _PREFILTER is None:
        _PREFILTER = _Prefilter()
    return _PREFILTER


_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"()[]{}")))
_OPEN = frozenset(b"([{")


def _too_deep(data: bytes) -> str | None:
    """Reject nesting that would overflow the native parser's stack (a crash, not an error).

    Brackets are counted cheaply (strings included, so the count can only overestimate); only
    suspicious files go through CPython's own parser, which fails cleanly past its nesting limit.
    """
    depth = deepest = 0
    for char in data.translate(None, _NOT_BRACKETS):
        if char in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    if deepest < 100:
        return None
    import ast

    try:
        ast.parse(data)
    except SyntaxError as exc:
        if "nest" in str(exc.msg) or "recursion" in str(exc.msg):
            return f"{exc.msg} (line {exc.lineno})"
    except (RecursionError, MemoryError, ValueError) as exc:
        return f"nesting too deep ({type(exc).__name__})"
    return None


def decode(data: bytes) -> str | None:
    """Source text honouring a PEP 263 coding cookie, or ``None`` when it cannot be decoded."""
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return None


def analyse_bytes(
    path: str, data: bytes, max_bytes: int = MAX_BYTES_DEFAULT, force: bool = False
) -> FileResult:
    """Lint ``data`` (the content of ``path``). Never raises for any input.

    ``force`` skips the lexical prefilter and runs every rule (used by the no-crash sweep).
    """
    result = FileResult()
    if len(data) > max_bytes:
        result.findings.append(diag.TOO_LARGE.finding(path, f"{len(data)} bytes > {max_bytes}"))
        return result
    if b"\x00" in data[:8192]:
        result.findings.append(diag.BINARY.finding(path))
        return result
    rules = [rule for rule, _ in _prefilter().rules] if force else _prefilter().matching(data)
    result.facts = links.scan(data)  # the call graph needs every handler module, parsed or not
    if not rules or not data.strip():
        return result
    text = decode(data)
    if text is None:
        result.findings.append(diag.NOT_UTF8.finding(path))
        return result
    deep = _too_deep(data)
    if deep is not None:
        result.findings.append(diag.SYNTAX_ERROR.finding(path, deep))
        return result
    import libcst as cst

    if not path.endswith(".py"):
        data = untemplate(data)
    try:
        module = cst.parse_module(data)
    except cst.ParserSyntaxError as exc:
        if not path.endswith(".py"):
            return FileResult()  # a *.cfg that is INI, not Python: not ours to judge
        kind = diag.PYTHON2 if _PY2.search(data) else diag.SYNTAX_ERROR
        result.findings.append(kind.finding(path, exc.message, exc.raw_line or 1, exc.raw_column))
        return result
    except (RecursionError, MemoryError, ValueError, UnicodeError) as exc:
        result.findings.append(diag.SYNTAX_ERROR.finding(path, type(exc).__name__))
        return result
    result.parsed = True
    _run_rules(path, module, rules, result, text if path.endswith(".py") else None)
    return result


def _run_rules(
    path: str, module: Any, rules: list[Any], result: FileResult, source: str | None = None
) -> None:
    import libcst as cst

    from sessionkit.lint._context import FileContext
    from sessionkit.lint._walk import children

    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    try:
        ctx = FileContext(path, module, parents)
        ctx.source = source
    except Exception as exc:  # metadata failures must not stop the run
        result.findings.append(diag.INTERNAL_ERROR.finding(path, f"context: {exc!r}"))
        return
    findings: list[Finding] = []
    table: dict[type, list[Callable[[Any], object]]] = {}
    leave: dict[type, list[Callable[[Any], object]]] = {}
    for rule_cls in rules:
        rule = rule_cls(ctx, findings)
        for attr in dir(rule_cls):
            if attr.startswith(("visit_", "leave_")):
                node_type = getattr(cst, attr[6:], None)
                if isinstance(node_type, type):
                    target = table if attr.startswith("visit_") else leave
                    target.setdefault(node_type, []).append(getattr(rule, attr))
    failed: set[str] = set()

    def call(handlers: list[Callable[[Any], object]], node: cst.CSTNode) -> None:
        for handler in handlers:
            owner = handler.__self__.code  # type: ignore[attr-defined]
            if owner in failed:
                continue
            try:
                handler(node)
            except Exception as exc:  # one broken rule must not hide the others' findings
                failed.add(owner)
                result.findings.append(diag.INTERNAL_ERROR.finding(path, f"{owner}: {exc!r}"))

    # One pass: parent links for every node first (rules look upwards), then dispatch.
    order: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        order.append(node)
        kids = list(children(node))
        for kid in kids:
            parents[kid] = node
        stack.extend(reversed(kids))
    ctx.order = order
    for node in order:
        handlers = table.get(type(node))
        if handlers:
            call(handlers, node)
    if leave:
        for node in reversed(order):
            handlers = leave.get(type(node))
            if handlers:
                call(handlers, node)
    result.findings.extend(sorted(set(findings)))
    result.facts = {**result.facts, **ctx.facts}
