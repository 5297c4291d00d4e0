"""What every input passes before libcst sees it: a regular file, a decodable text, a parse by
CPython's own parser at a nesting depth libcst's native parser survives.

CPython's parser fails cleanly (``SyntaxError``, ``RecursionError``, ``MemoryError``) on inputs
that crash libcst's native parser or make it grow super-linearly (``x = ----…1``, a 40 KB ``+``
chain, ``2 ** 2 ** …``). It also gives every file, prefiltered or not, its syntax diagnostic.
"""

from __future__ import annotations

import ast
import os
import stat
import sys
from pathlib import Path

from sessionkit.lint import _diagnostics as diag
from sessionkit.lint._analyze import decode
from sessionkit.lint._types import Finding

#: Building the AST costs CPython about one unit of its recursion limit per three nesting levels
#: (counted above the caller's own depth), so 200 rejects expressions nested deeper than about
#: 600 levels. libcst parses those in well under a second; a few thousand levels take it seconds,
#: and deeper ones crash it.
_PARSE_RECURSION_LIMIT = 200
#: On interpreters whose AST construction ignores the recursion limit (3.12+), the nesting is
#: measured explicitly, only for files with a line this long (every hostile input has one).
_LONG_LINE = 1000
_MAX_DEPTH = 600
_PY2_HINTS = (
    "Missing parentheses in call to 'print'",
    "Missing parentheses in call to 'exec'",
    "multiple exception types must be parenthesized",
)
_KINDS = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def read_source(path: Path, display: str, max_bytes: int) -> bytes | Finding:
    """The bytes of a regular file, or the diagnostic that replaces them (never blocks).

    Opened non-blocking so a FIFO cannot hang the run; devices (``/dev/zero``) and sockets are
    refused before a byte is read; files over ``max_bytes`` are not read at all.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return diag.UNREADABLE.finding(display, exc.strerror or str(exc))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            return diag.UNREADABLE.finding(display, f"{kind}, not a regular file; skipped")
        if info.st_size > max_bytes:
            return diag.TOO_LARGE.finding(display, f"{info.st_size} bytes > {max_bytes}")
        try:
            return handle.read(max_bytes + 1)
        except OSError as exc:
            return diag.UNREADABLE.finding(display, exc.strerror or str(exc))


def _depth(tree: ast.AST) -> int:
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def check_syntax(display: str, data: bytes) -> Finding | None:
    """``SK001``/``SK002``/``SK003`` when CPython cannot parse ``data`` safely, else ``None``.

    Binary and oversized inputs are left to the analysis, which reports them (``SK004``/``SK006``).
    """
    if b"\x00" in data[:8192] or not data.strip():
        return None
    if decode(data) is None:
        return diag.NOT_UTF8.finding(display)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames() + _PARSE_RECURSION_LIMIT)  # the depth of this call does not count
    try:
        tree = ast.parse(data, display)
    except SyntaxError as exc:
        message = str(exc.msg)
        if "nest" not in message and _newer_syntax(data):
            return None  # e.g. a 3.12 f-string on an older interpreter: libcst reads it
        kind = diag.PYTHON2 if message.startswith(_PY2_HINTS) else diag.SYNTAX_ERROR
        return kind.finding(display, message, exc.lineno or 1, max((exc.offset or 1) - 1, 0))
    except (RecursionError, MemoryError):
        return diag.SYNTAX_ERROR.finding(display, "nesting too deep for the parser")
    except ValueError as exc:  # e.g. a null byte past the binary sniff
        return diag.SYNTAX_ERROR.finding(display, str(exc))
    finally:
        sys.setrecursionlimit(limit)
    if max(map(len, data.splitlines()), default=0) > _LONG_LINE and _depth(tree) > _MAX_DEPTH:
        return diag.SYNTAX_ERROR.finding(display, "nesting too deep for the parser")
    return None


def _newer_syntax(data: bytes) -> bool:
    """Whether libcst parses what this interpreter's parser rejected (syntax of a newer Python).

    Runs in the limited worker, like every libcst parse."""
    import libcst as cst

    try:
        cst.parse_module(data)
    except Exception:
        return False
    return True


def _frames() -> int:
    frame, count = sys._getframe(), 0
    while frame is not None:
        frame, count = frame.f_back, count + 1  # type: ignore[assignment]
    return count
