"""The fast traversal visits exactly what a plain ``isinstance`` walk over the fields visits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest

from sessionkit.lint import _walk

LINT = Path(__file__).resolve().parents[2] / "lint"
SOURCES = [p for p in sorted(LINT.rglob("*.py")) if p.stat().st_size > 4000]


def _reference_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in _walk._fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            if type(value) not in _walk.TRIVIA:
                yield value
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, cst.CSTNode) and type(item) not in _walk.TRIVIA:
                    yield item


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(LINT)))
def test_children_match_the_isinstance_definition(path: Path) -> None:
    module = cst.parse_module(path.read_bytes())
    nodes = 0
    for node in _walk.walk(module):
        assert [id(n) for n in _walk.children(node)] == [id(n) for n in _reference_children(node)]
        nodes += 1
    assert nodes > 50


def test_trivia_and_non_nodes_are_skipped() -> None:
    call = cst.parse_expression("f(a, b=1)  # c")
    kinds = {type(n) for n in _walk.walk(call)}
    assert cst.Comma not in kinds and cst.LeftParen not in kinds
    assert {cst.Call, cst.Name, cst.Arg, cst.Integer} <= kinds
