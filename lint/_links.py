"""The project's own call graph across files, read lexically (no parse, so it costs a regex pass).

A module that handles requests (it matches the handler vocabulary) and calls, inside a function
body, a function it imported from another module of the project makes that function run at
request time. Per file this records *which imported names are called in function bodies*
(:func:`scan`); the cross-file phase joins those records with the functions that change
process-wide state but are not request handlers themselves (:func:`reached`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sessionkit.lint._vocab import HANDLER_PATTERN, STARTUP_NAMES, STARTUP_PREFIXES

_HANDLER = re.compile(HANDLER_PATTERN.encode())
_FROM = re.compile(rb"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.M)
_IMPORT = re.compile(rb"^[ \t]*import[ \t]+([\w. \t,]+)", re.M)
_LINE = re.compile(rb"^([ \t]*)(?:async[ \t]+)?(def[ \t]+(\w+)|if[ \t]+__name__\b)?[^\n]*", re.M)
_CALL = re.compile(rb"(?<![\w.])(\w+(?:\.\w+)?)\s*\(")
_NOT_CALLS = frozenset({"if", "elif", "while", "for", "return", "yield", "await", "not", "and", "or", "in"})


def scan(data: bytes) -> dict[str, Any]:
    """``{"calls": [[module, symbol], ...]}`` for a module that handles requests, else ``{}``.

    ``module`` is spelled as imported (leading dots for relative imports); ``symbol`` is the name
    called (``add_item``) or ``name.attr`` for a call on an imported object or module
    (``manager.connect``, ``services.add_item``). Star imports record every called bare name.
    """
    if b"import" not in data or _HANDLER.search(data) is None:
        return {}
    imported: dict[str, tuple[str, str]] = {}  # local name -> (module, imported name or "")
    stars: list[str] = []
    for match in _FROM.finditer(data):
        module = match.group(1).decode()
        names = match.group(2).decode().strip("() \t\r\n\\")
        if names == "*":
            stars.append(module)
            continue
        for part in names.replace("\\\n", " ").split(","):
            words = part.split()
            if not words:
                continue
            local = words[-1] if len(words) == 3 and words[1] == "as" else words[0]
            imported[local] = (module, words[0])
    for match in _IMPORT.finditer(data):
        for part in match.group(1).decode().split(","):
            words = part.split()
            if len(words) == 3 and words[1] == "as":
                imported[words[2]] = (words[0], "")
            elif len(words) == 1:
                imported[words[0].split(".")[0]] = (words[0].split(".")[0], "")
    if not imported and not stars:
        return {}
    called: set[str] = set()
    for line in _body_lines(data):
        called.update(c.decode() for c in _CALL.findall(line))
    calls: set[tuple[str, str]] = set()
    for name in called:
        head, _, attr = name.partition(".")
        if head in _NOT_CALLS:
            continue
        if head in imported:
            module, symbol = imported[head]
            if symbol:
                calls.add((module, f"{symbol}.{attr}" if attr else symbol))
            elif attr:
                calls.add((module, attr))
        elif not attr:
            calls.update((module, head) for module in stars)
    return {"calls": sorted([m, s] for m, s in calls)} if calls else {}


def _body_lines(data: bytes) -> list[bytes]:
    """Lines inside functions that may run per request: not module level, not in a function named
    like a startup hook (``create_app``, ``lifespan``...), not under ``if __name__ == "__main__"``."""
    out: list[bytes] = []
    skip_below: int | None = None  # indentation of the skipped block's header
    for match in _LINE.finditer(data):
        indent = len(match.group(1).expandtabs(4))
        line = match.group(0)
        if not line.strip():
            continue
        if skip_below is not None and indent > skip_below:
            continue
        skip_below = None
        if match.group(2) is not None:
            name = match.group(3)
            if name is None or _startup(name.decode()):
                skip_below = indent
                continue
        if indent:
            out.append(line)
    return out


def _startup(name: str) -> bool:
    return (
        name in STARTUP_NAMES or name.startswith(STARTUP_PREFIXES) or "lifespan" in name or "startup" in name
    )


def module_names(path: str) -> set[str]:
    """Dotted names under which the file ``path`` may be imported (every package suffix)."""
    stem = path[:-3] if path.endswith(".py") else path
    parts = [p for p in stem.split("/") if p not in {"", "."}]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return {".".join(parts[i:]) for i in range(len(parts))}


def _absolute(importer: str, module: str) -> str:
    """``module`` as imported by the file ``importer``, relative imports made absolute."""
    if not module.startswith("."):
        return module
    level = len(module) - len(module.lstrip("."))
    base = posixpath.dirname(importer)
    for _ in range(level - 1):
        base = posixpath.dirname(base)
    rest = module.lstrip(".")
    joined = "/".join(p for p in (base, rest.replace(".", "/")) if p)
    return joined.replace("/", ".")


def reached(
    facts: Mapping[str, Mapping[str, Any]], wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """For each ``(path, function)`` in ``wanted``, the first request-handling module calling it.

    ``function`` is ``name`` for a module-level function or ``instance.method`` for a method of a
    module-level object.
    """
    targets: dict[tuple[str, str], tuple[str, str]] = {}
    for path, function in wanted:
        for name in module_names(path):
            targets[(name, function)] = (path, function)
            if "." not in function:  # ``from pkg import module`` then ``module.function()``
                targets[(f"{name.rpartition('.')[0]}", f"{name.rpartition('.')[2]}.{function}")] = (
                    path,
                    function,
                )
    out: dict[tuple[str, str], str] = {}
    if not targets:
        return out
    for importer, own in sorted(facts.items()):
        for module, symbol in own.get("calls", ()):
            hit = targets.get((_absolute(importer, module), symbol))
            if hit is not None and hit[0] != importer:
                out.setdefault(hit, importer)
    return out
