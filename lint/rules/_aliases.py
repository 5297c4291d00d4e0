"""Local names that hold an element of a module-level container.

``room = ROOMS.get(code)`` (or ``ROOMS[code]``, ``ROOMS.setdefault(code, ...)``) then
``room.players.append(p)``, ``room.started = True`` or ``room["votes"] += 1`` changes an object the
container keeps for every request of the process: the same state as ``ROOMS`` itself. Chains of
such names count too (``player = room.players.get(uid)`` then ``player.ready = False``).
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint._walk import walk

#: How many ``a = b.get(k)`` links are followed from the changed name back to the container.
_DEPTH = 3
_GETTERS = frozenset({"get", "setdefault"})


def root_name(node: cst.BaseExpression) -> cst.Name | None:
    """``room`` of ``room.players``, ``room.players[uid]``, ``room["votes"]``."""
    while isinstance(node, cst.Attribute | cst.Subscript):
        node = node.value
    return node if isinstance(node, cst.Name) else None


def element_source(
    ctx: FileContext, name: cst.Name, where: cst.CSTNode, is_container: Callable[[cst.Name], bool]
) -> cst.Name | None:
    """The container (a ``Name`` node naming it) whose element the local ``name`` holds, else ``None``."""
    functions = ctx.enclosing_functions(where)
    if not functions or name.value == "self":
        return None
    function = functions[0]
    current = name
    for _ in range(_DEPTH):
        value = _single_assignment(ctx, function, current.value)
        base = _element_base(value) if value is not None else None
        root = root_name(base) if base is not None else None
        if root is None or root.value == "self":
            return None
        if is_container(root):
            return root
        current = root
    return None


def _element_base(value: cst.BaseExpression) -> cst.BaseExpression | None:
    """``ROOMS`` of ``ROOMS.get(k)``, ``ROOMS[k]``, ``await ROOMS.get(k)``; ``None`` for anything else
    (a copy such as ``dict(ROOMS[k])`` is not the element)."""
    if isinstance(value, cst.Await):
        value = value.expression
    if isinstance(value, cst.Subscript):
        return value.value
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value in _GETTERS
    ):
        return value.func.value
    return None


def _single_assignment(ctx: FileContext, function: cst.FunctionDef, name: str) -> cst.BaseExpression | None:
    key = f"assign:{id(function)}"
    table = ctx.memo.get(key)
    if not isinstance(table, dict):
        counts: dict[str, list[cst.BaseExpression]] = {}
        for node in walk(function.body):
            if isinstance(node, cst.Assign) and len(node.targets) == 1:
                target, value = node.targets[0].target, node.value
            elif isinstance(node, cst.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, cst.Name):
                counts.setdefault(target.value, []).append(value)
        table = {k: v[0] for k, v in counts.items() if len(v) == 1}
        ctx.memo[key] = table
    found = table.get(name)
    return found if isinstance(found, cst.BaseExpression) else None


def first_attribute(node: cst.BaseExpression) -> str:
    """``players`` of ``room.players.items``, ``room.players[uid]``: the attribute next to the root."""
    found = ""
    while isinstance(node, cst.Attribute | cst.Subscript):
        if isinstance(node, cst.Attribute):
            found = node.attr.value
        node = node.value
    return found


def statement_id(ctx: FileContext, where: cst.CSTNode) -> int:
    """The statement around ``where`` (one finding per statement, not per call in it)."""
    node: cst.CSTNode | None = where
    while node is not None and not isinstance(node, cst.BaseSmallStatement | cst.BaseCompoundStatement):
        node = ctx.parents.get(node)
    return id(node if node is not None else where)
