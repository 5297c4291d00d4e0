"""Find the Python files to lint, honouring excludes, never following a symlink loop."""

from __future__ import annotations

import errno
import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from sessionkit.lint import _diagnostics as diag
from sessionkit.lint._types import Finding


@dataclass
class Discovered:
    files: list[tuple[Path, str]] = field(default_factory=list)  # (absolute, display path)
    problems: list[Finding] = field(default_factory=list)


def display_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def excluded(rel: str, patterns: list[str]) -> bool:
    """gitignore-like: a pattern without ``/`` matches any path component, else the path."""
    parts = rel.split("/")
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if not pattern:
            continue
        if "/" in pattern:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern + "/*"):
                return True
        elif any(fnmatch.fnmatch(part, pattern) for part in parts):
            return True
    return False


#: Python config files Flask loads with ``app.config.from_pyfile(...)`` (and their templates).
PYFILE_CONFIG = re.compile(r"\.cfg(\.(template|example|sample|dist|in))?$")
NOT_PYFILE_CONFIG = frozenset({"setup.cfg", "tox.cfg", "pip.cfg", "mypy.cfg", ".coveragerc.cfg"})


def is_source(name: str) -> bool:
    """A file the linter reads: Python modules and Python-syntax config files (``*.cfg``).

    A ``*.cfg`` that turns out not to be Python (an INI file) is skipped silently by the analysis.
    """
    return name.endswith(".py") or (bool(PYFILE_CONFIG.search(name)) and name not in NOT_PYFILE_CONFIG)


def discover(paths: list[Path], root: Path, patterns: list[str]) -> Discovered:
    out = Discovered()
    seen_files: set[str] = set()
    for given in paths:
        absolute = Path(os.path.abspath(given))
        shown = display_path(absolute, root)
        try:
            st = absolute.stat()
        except OSError as exc:
            kind = diag.SYMLINK_LOOP if exc.errno == errno.ELOOP else diag.UNREADABLE
            out.problems.append(kind.finding(shown, exc.strerror or str(exc)))
            continue
        if absolute.is_dir():
            _walk(absolute, absolute, root, patterns, out, {(st.st_dev, st.st_ino)}, seen_files)
        elif not excluded(absolute.name, patterns) and shown not in seen_files:
            seen_files.add(shown)
            out.files.append((absolute, shown))
    return out


def _walk(
    directory: Path,
    base: Path,
    root: Path,
    patterns: list[str],
    out: Discovered,
    ancestors: set[tuple[int, int]],
    seen_files: set[str],
) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        out.problems.append(diag.UNREADABLE.finding(display_path(directory, root), exc.strerror or str(exc)))
        return
    for entry in entries:
        path = Path(entry.path)
        rel = path.relative_to(base).as_posix()
        if excluded(rel, patterns):
            continue
        shown = display_path(path, root)
        try:
            is_dir = entry.is_dir()
            is_file = entry.is_file()
        except OSError as exc:
            kind = diag.SYMLINK_LOOP if exc.errno == errno.ELOOP else diag.UNREADABLE
            out.problems.append(kind.finding(shown, exc.strerror or str(exc)))
            continue
        if entry.is_symlink() and not is_dir and not is_file:
            try:
                os.stat(path)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    out.problems.append(diag.SYMLINK_LOOP.finding(shown, "link resolves to itself"))
                elif entry.name.endswith(".py"):
                    out.problems.append(diag.UNREADABLE.finding(shown, "dangling symbolic link"))
            continue
        if is_dir:
            st = path.stat()
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                out.problems.append(
                    diag.SYMLINK_LOOP.finding(shown, "link points back to a parent directory")
                )
                continue
            _walk(path, base, root, patterns, out, ancestors | {key}, seen_files)
        elif is_file and is_source(entry.name) and shown not in seen_files:
            seen_files.add(shown)
            out.files.append((path, shown))
