"""A fast, read-only traversal of libcst trees.

libcst's visitor protocol rebuilds every node's children even for read-only visitors, which
costs about as much as parsing. Linting never rewrites, so the engine walks the dataclass fields
directly and skips whitespace and punctuation nodes, which no rule looks at.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

TRIVIA: frozenset[type[cst.CSTNode]] = frozenset(
    {
        cst.SimpleWhitespace,
        cst.ParenthesizedWhitespace,
        cst.TrailingWhitespace,
        cst.Newline,
        cst.EmptyLine,
        cst.Comma,
        cst.Dot,
        cst.LeftParen,
        cst.RightParen,
        cst.LeftSquareBracket,
        cst.RightSquareBracket,
        cst.LeftCurlyBrace,
        cst.RightCurlyBrace,
        cst.Colon,
        cst.Semicolon,
        cst.AssignEqual,
        cst.Comment,
    }
)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(
            f.name
            for f in dataclasses.fields(kind)
            if "whitespace" not in f.name and f.name not in {"lpar", "rpar", "leading_lines", "comma"}
        )
    return names


# What a field value is, by its exact type: 1 a node rules look at, 2 trivia, 3 a sequence of
# values, 0 anything else. libcst's node classes use ABCMeta, so ``isinstance(value, CSTNode)``
# costs an ABC check each time; a walk makes millions of them, and one dict lookup per type is
# several times cheaper.
_KIND: dict[type, int] = {}


def _kind(kind: type) -> int:
    found = _KIND.get(kind)
    if found is None:
        if issubclass(kind, cst.CSTNode):
            found = 2 if kind in TRIVIA else 1
        else:
            found = 3 if issubclass(kind, list | tuple) else 0
        _KIND[kind] = found
    return found


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct child nodes in field order, without whitespace and punctuation."""
    kinds = _KIND
    for name in _fields(type(node)):
        value = getattr(node, name)
        kind = kinds.get(type(value))
        if kind is None:
            kind = _kind(type(value))
        if kind == 1:
            yield value
        elif kind == 3:
            for item in value:
                inner = kinds.get(type(item))
                if inner is None:
                    inner = _kind(type(item))
                if inner == 1:
                    yield item


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and all its descendants, depth first, iteratively (no recursion limit)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))
