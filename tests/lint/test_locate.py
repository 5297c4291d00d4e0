"""Positions read from the source text agree with libcst's PositionProvider wherever given."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from sessionkit.lint._context import FileContext
from sessionkit.lint._locate import locate

SOURCE = '''import asyncio


class Broker:
    def __init__(self):
        self.connections = set()

    async def publish(self, message):
        for connection in self.connections:
            await connection.put(message)

    async def subscribe(self):
        queue = asyncio.Queue()
        self.connections.add(queue)
        try:
            yield await queue.get()
        finally:
            self.connections.remove(queue)


def helper(items):
    items.append(1)
    text = """
not code
"""
    items.append(1)
    items.extend(
        [2, 3],
    )


def other(items):
    items.append(1)


class Feed:
    def add_item(self, title, **kwargs):
        self.items.append(
            {
                "title": title,
                **kwargs,
            }
        )
        wrap(self.items.extend(
            [title]))
'''


def test_text_positions_match_the_position_provider() -> None:
    module = cst.parse_module(SOURCE)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    ctx = FileContext("broker.py", module)
    located = 0
    multiline = 0
    for node in ctx.nodes(cst.Call):
        functions = ctx.enclosing_functions(node)
        holder = ctx.parents.get(functions[-1]) if functions else None
        owner = ctx.parents.get(holder) if holder is not None else None
        name = owner.name.value if isinstance(owner, cst.ClassDef) else None
        found = locate(SOURCE, module, node, functions, name)
        if found is None:
            continue
        located += 1
        where = positions[node]
        multiline += where.end.line > where.start.line
        assert found["line"] == where.start.line
        assert found["column"] == where.start.column + 1
        assert found["end_line"] == where.end.line and found["end_column"] == where.end.column + 1
    assert located >= 7 and multiline >= 2  # multi-line calls (extend, append, wrap) included


def test_ambiguous_or_partial_line_nodes_are_left_to_the_provider() -> None:
    module = cst.parse_module(SOURCE)
    ctx = FileContext("broker.py", module)
    calls = [n for n in ctx.nodes(cst.Call) if isinstance(n, cst.Call)]
    appends = [
        c
        for c in calls
        if module.code_for_node(c) == "items.append(1)"
        and ctx.enclosing_functions(c)[0].name.value == "helper"
    ]
    assert len(appends) == 2  # twice in helper(): only the real positions can tell them apart
    inner = [c for c in calls if module.code_for_node(c).startswith("self.items.extend(")]
    assert len(inner) == 1  # ends inside its line (``[title]))``): its end column needs the positions
    for call in [*appends, *inner]:
        functions = ctx.enclosing_functions(call)
        owner = "Feed" if call in inner else None
        assert locate(SOURCE, module, call, functions, owner) is None
