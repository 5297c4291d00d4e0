"""Where a node is, read from the source text when that is cheap and unambiguous.

libcst's ``PositionProvider`` regenerates the whole module's code to measure every node; a file
whose only findings may be reported later (by the cross-file phase) should not pay that. A node
inside a function is found by its first line of code: the text search is narrowed to the block of
``def name`` (inside ``class Owner`` for a method), up to the next ``def``/``class``/decorator at
the same or a lower indentation, and accepted only when the line occurs there exactly once.
"""

from __future__ import annotations

import re

import libcst as cst


def locate(
    source: str, module: cst.Module, node: cst.CSTNode, functions: list[cst.FunctionDef], owner: str | None
) -> dict[str, int] | None:
    """``{"line", "column", "end_line", "end_column"}`` (1-based, end exclusive) of ``node``'s
    first line, or ``None`` when the text alone cannot tell."""
    if not functions:
        return None
    code = module.code_for_node(node)
    first = code.split("\n", 1)[0].strip()
    if not first or code != code.strip():
        return None
    lines = source.split("\n")
    start, end = 0, len(lines)
    if owner is not None:
        found = _block(lines, rf"class\s+{re.escape(owner)}\b", start, end)
        if found is None:
            return None
        start, end = found
    for fn in reversed(functions):  # outermost first
        found = _block(lines, rf"(async\s+)?def\s+{re.escape(fn.name.value)}\b", start, end)
        if found is None:
            return None
        start, end = found
    hits = [i for i in range(start, end) if first in lines[i]]
    if len(hits) != 1:
        return None
    line = hits[0]
    column = lines[line].index(first)
    if "\n" not in code:
        return {
            "line": line + 1,
            "column": column + 1,
            "end_line": line + 1,
            "end_column": column + len(code) + 1,
        }
    # A node's code keeps its own line breaks (its continuation lines are re-indented), so its
    # last line is the source line ``end``; accepted only when the node is all of that line.
    last = code.rsplit("\n", 1)[1].strip()
    end = line + code.count("\n")
    if end >= len(lines) or lines[end].strip() != last:
        return None
    return {
        "line": line + 1,
        "column": column + 1,
        "end_line": end + 1,
        "end_column": len(lines[end].rstrip()) + 1,
    }


def _block(lines: list[str], header: str, start: int, end: int) -> tuple[int, int] | None:
    """The lines of the one block whose header matches ``header`` within ``[start, end)``."""
    pattern = re.compile(rf"^(\s*){header}")
    matches = [(i, m) for i in range(start, end) if (m := pattern.match(lines[i])) is not None]
    if len(matches) != 1:
        return None
    index, match = matches[0]
    indent = len(match.group(1).expandtabs(4))
    # The block ends at the next header at the same or a lower indentation. Ending it at any
    # dedented line would cut it short at a multi-line string's unindented lines; a block that
    # runs on too long only makes a match ambiguous (then the caller falls back), never wrong.
    stop = index + 1
    while stop < end:
        text = lines[stop].expandtabs(4)
        if _HEADER.match(text) and len(text) - len(text.lstrip()) <= indent:
            break
        stop += 1
    return index, stop


_HEADER = re.compile(r"^\s*(async\s+def|def|class)\s|^\s*@")
