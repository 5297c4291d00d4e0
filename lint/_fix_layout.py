"""Layout for the automatic fixes: an ``import`` placed where isort puts it, calls wrapped to fit.

isort's default order: ``__future__``, the standard library, then everything else, a blank line
between sections, and within a section plain ``import x`` lines before ``from x import y`` lines,
each group alphabetical. Only standard-library imports are ever added by a fix.
"""

from __future__ import annotations

import sys

import libcst as cst

_FUTURE, _STDLIB, _OTHER = 0, 1, 2
_STDLIB_NAMES: frozenset[str] = frozenset(getattr(sys, "stdlib_module_names", ()))


def _import_key(stmt: cst.BaseStatement) -> tuple[int, int, str] | None:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    node = stmt.body[0]
    if isinstance(node, cst.Import):
        name = cst.Module([]).code_for_node(node.names[0].name)
        is_from = 0
    elif isinstance(node, cst.ImportFrom):
        if node.relative or node.module is None:
            return (_OTHER, 1, "")
        name = cst.Module([]).code_for_node(node.module)
        is_from = 1
    else:
        return None
    top = name.split(".")[0]
    section = _FUTURE if top == "__future__" else _STDLIB if top in _STDLIB_NAMES else _OTHER
    return (section, is_from, name.lower())


def _imports(module: cst.Module, name: str) -> bool:
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for node in stmt.body:
                if isinstance(node, cst.Import) and any(
                    cst.Module([]).code_for_node(alias.name) == name and alias.asname is None
                    for alias in node.names
                ):
                    return True
    return False


def add_import(module: cst.Module, name: str) -> cst.Module:
    """``module`` with ``import name`` (a standard-library module) in isort order; unchanged if present."""
    if _imports(module, name):
        return module
    body = list(module.body)
    start = 0
    if body and _is_docstring(body[0]):
        start = 1
    end = start
    while end < len(body) and _import_key(body[end]) is not None:
        end += 1
    key = (_STDLIB, 0, name.lower())
    at = next((i for i in range(start, end) if _key(body[i]) > key), end)
    new = cst.parse_statement(f"import {name}\n")
    prev = _key(body[at - 1]) if at > start else None
    nxt = body[at] if at < len(body) else None
    if prev is not None and prev[0] == _STDLIB:
        pass  # joins the standard-library section; the next line keeps its separation
    elif at < end and nxt is not None:
        # First standard-library import: it takes the next line's comments and spacing, and a
        # blank line separates it from the next section.
        new = new.with_changes(leading_lines=nxt.leading_lines)
        same = _key(nxt)[0] == _STDLIB
        body[at] = nxt.with_changes(leading_lines=[] if same else [cst.EmptyLine()])
    else:
        new = new.with_changes(leading_lines=[cst.EmptyLine()] if at > 0 else [])
        if nxt is not None and not nxt.leading_lines:
            body[at] = nxt.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(at, new)
    return module.with_changes(body=body)


def _key(stmt: cst.BaseStatement) -> tuple[int, int, str]:
    return _import_key(stmt) or (_OTHER + 1, 0, "")


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _line_break(extra_indent: str) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(),
        empty_lines=[],
        indent=True,
        last_line=cst.SimpleWhitespace(extra_indent),
    )


def one_arg_per_line(call: cst.Call, indent: str = "    ") -> cst.Call:
    """``call`` laid out as black and ruff format do: one argument per line, a trailing comma."""
    args = list(call.args)
    if not args:
        return call
    for i, arg in enumerate(args):
        last = i == len(args) - 1
        args[i] = arg.with_changes(
            comma=cst.Comma(whitespace_after=_line_break("" if last else indent)),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
    return call.with_changes(whitespace_before_args=_line_break(indent), args=args)
