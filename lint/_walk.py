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


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct child nodes in field order, without whitespace and punctuation."""
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            if type(value) not in TRIVIA:
                yield value
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, cst.CSTNode) and type(item) not in TRIVIA:
                    yield item


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and all its descendants, depth first, iteratively (no recursion limit)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))
