"""Code that is not web runtime, where in-process state cannot break a replicated app.

A finding is not reported (``runtime-only = true``, the default) when it is in:

- a Django management command (``…/management/commands/*.py``);
- a dev script or command: a path with a ``scripts``, ``tools``, ``bin`` or ``cli`` folder (relative to the
  project root);
- a command-line tool: a module that imports argparse, click or typer, registers no web route,
  creates no web app and does not start a web server;
- the ``if __name__ == "__main__":`` block of any module, unless that block starts the web server
  (``app.run(``, ``application.run(``, ``server.run(``, ``socketio.run(``, ``uvicorn.run(``,
  ``web.run_app(``, ``serve(``, ``run_simple(``);
- for the SQLite rule (SK104): a module whose SQLite use is read-only (opened with ``mode=ro`` or
  ``immutable=1``, or SQL that is ``SELECT`` only: no ``INSERT``/``UPDATE``/``DELETE``/``CREATE``/
  ``DROP``/``ALTER``/``REPLACE`` statement and no ``commit()``), such as a search index shipped
  with the repository.

Input diagnostics (``SK0xx``) are always reported. The classification reads only the file's text,
so it costs a few regular-expression searches per file that has findings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from sessionkit.lint._types import Finding

SQLITE_RULE = "SK104"
_SCRIPT_DIRS = frozenset({"scripts", "tools", "bin", "cli"})
_COMMAND = re.compile(r"(^|/)management/commands/[^/]+\.py$")
_CLI_IMPORT = re.compile(rb"^\s*(?:import|from)\s+(?:argparse|click|typer)\b", re.M)
#: ...and builds a command line (``argparse.Namespace`` in an annotation makes no tool).
_CLI_BUILT = re.compile(rb"ArgumentParser\(|@click\.|\bclick\.(?:command|group)\(|\bTyper\(|@\w+\.command\(")
_WEB = re.compile(
    rb"@\w+\.(?:route|get|post|put|patch|delete|websocket|api_route)\(|\b(?:Flask|FastAPI|Starlette|Litestar)\("
    rb"|^urlpatterns\s*=",
    re.M,
)
_SERVES = re.compile(
    rb"\b(?:app|application|server|socketio|sio)\.run\(|\b(?:uvicorn\.run|web\.run_app|serve|run_simple)\("
    rb"|\.run\(\s*transport\s*=\s*(?!['\"]stdio)"  # an MCP server on a network transport
)
_MAIN = re.compile(rb"^if\s+__name__\s*==\s*['\"]__main__['\"]\s*:", re.M)
_READ_ONLY_URI = re.compile(rb"mode=ro\b|immutable=1")
_SQL_WRITE = re.compile(rb"\b(?:INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|REPLACE)\s|\.commit\(|executescript\(")
_SQL_SELECT = re.compile(rb"\bSELECT\s")
#: The module opens the database itself (so its own queries tell whether it writes); a settings
#: module only configures it for an ORM that writes, whatever SQL text it quotes.
_OPENS_DB = re.compile(rb"\bconnect\(|\bcreate_(?:async_)?engine\(")


def _main_block(data: bytes) -> tuple[int, int, bytes] | None:
    """First and last line (1-based) of the module-level ``__main__`` block, and its text."""
    match = _MAIN.search(data)
    if match is None:
        return None
    start = data.count(b"\n", 0, match.start()) + 1
    lines = data[match.start() :].split(b"\n")
    end = start
    for offset, line in enumerate(lines[1:], start=1):
        if line.strip() and not line.startswith((b" ", b"\t", b"#")):
            break
        if line.strip():
            end = start + offset
    return start, end, b"\n".join(lines[: end - start + 1])


def file_kind(rel: str, data: bytes) -> str | None:
    """``"management command"``, ``"dev script"``, ``"command-line tool"`` or ``None`` (runtime)."""
    if _COMMAND.search(rel):
        return "management command"
    if _SCRIPT_DIRS.intersection(PurePosixPath(rel).parts[:-1]):
        return "dev script"
    cli = _CLI_IMPORT.search(data) and _CLI_BUILT.search(data)
    if cli and not _WEB.search(data) and not _SERVES.search(data):
        return "command-line tool"
    return None


def not_runtime(finding: Finding, rel: str, data: bytes | None) -> bool:
    """Whether ``finding`` (in the file ``rel`` with content ``data``) is outside web runtime."""
    if finding.code.startswith("SK0") or data is None:
        return False
    if file_kind(rel, data) is not None:
        return True
    block = _main_block(data)
    if block is not None and block[0] <= finding.line <= block[1] and not _SERVES.search(block[2]):
        return True
    if finding.code != SQLITE_RULE:
        return False
    if _OPENS_DB.search(data) is None:
        return False
    selects_only = _SQL_SELECT.search(data) is not None and _SQL_WRITE.search(data) is None
    return selects_only or _READ_ONLY_URI.search(data) is not None


def split(
    findings: list[Finding], rel_of: Mapping[str, str], contents: Mapping[str, bytes]
) -> tuple[list[Finding], list[Finding]]:
    """``(runtime findings, findings in code that is not web runtime)``."""
    kept: list[Finding] = []
    dropped: list[Finding] = []
    for f in findings:
        target = dropped if not_runtime(f, rel_of.get(f.path, f.path), contents.get(f.path)) else kept
        target.append(f)
    return kept, dropped
