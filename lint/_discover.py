"""Find the Python files to lint: excludes and ``.gitignore`` with gitignore semantics (pathspec),
never following a symlink loop, and an account of what was skipped.

Exclude patterns match the path relative to the project root (the directory of the pyproject
that configures the run): ``migrations`` or ``test_*.py`` match at any depth, ``/x`` and
``scripts/*`` only under the root, ``!keep.py`` re-includes. ``.gitignore`` files (in the root,
its parents up to the repository top, and every walked directory) apply to their own directory.
"""

from __future__ import annotations

import errno
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pathspec

from sessionkit.lint import _diagnostics as diag
from sessionkit.lint._types import Finding

#: Default excludes whose folders hold source worth counting when skipped (the others are
#: VCS, virtualenv, cache and dependency folders: only the folder is counted).
COUNTED = frozenset({"tests", "migrations", "build", "dist", "test_*.py", "*_test.py", "conftest.py"})
#: A skipped ``tests`` folder holding one of these is a runnable project, not only tests.
_PROJECT_FILES = re.compile(
    rb"^\s*INSTALLED_APPS\s*=|^\s*def\s+create_app\s*\(|^\s*app\s*=\s*(Flask|FastAPI|Starlette)\(", re.M
)
_PROJECT_NAMES = re.compile(r"(settings.*|__init__|app|main|wsgi|asgi|application|factory)\.py")


@dataclass
class Discovered:
    files: list[tuple[Path, str]] = field(default_factory=list)  # (absolute, display path)
    problems: list[Finding] = field(default_factory=list)
    #: Python files skipped by a default exclude, per pattern; folders skipped uncounted.
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_dirs: int = 0
    gitignored: int = 0
    #: Files named on the command line that an exclude matches (pre-commit passes staged files).
    excluded_named: int = 0
    #: Skipped folders that look like a runnable project (``tests/site/settings.py``...).
    projects: list[str] = field(default_factory=list)


#: Python config files Flask loads with ``app.config.from_pyfile(...)`` (and their templates).
PYFILE_CONFIG = re.compile(r"\.cfg(\.(template|example|sample|dist|in))?$")
NOT_PYFILE_CONFIG = frozenset({"setup.cfg", "tox.cfg", "pip.cfg", "mypy.cfg", ".coveragerc.cfg"})


def is_source(name: str) -> bool:
    """A file the linter reads: Python modules and Python-syntax config files (``*.cfg``).

    A ``*.cfg`` that turns out not to be Python (an INI file) is skipped silently by the analysis.
    """
    return name.endswith(".py") or (bool(PYFILE_CONFIG.search(name)) and name not in NOT_PYFILE_CONFIG)


def display_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


@lru_cache(maxsize=256)
def spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def excluded(rel: str, patterns: list[str], is_dir: bool = False) -> bool:
    """Whether ``rel`` (POSIX, relative to the project root) matches ``patterns`` (gitignore rules)."""
    return spec(tuple(patterns)).match_file(rel + "/" if is_dir else rel)


def _first_match(rel: str, patterns: list[str], is_dir: bool) -> str | None:
    for pattern in patterns:
        if excluded(rel, [pattern], is_dir):
            return pattern
    return None


class _Walker:
    def __init__(
        self, root: Path, cwd: Path, patterns: list[str], defaults: frozenset[str], git: bool
    ) -> None:
        self.root, self.cwd, self.patterns, self.defaults, self.git = root, cwd, patterns, defaults, git
        self.out = Discovered()
        self.seen: set[str] = set()
        self.ignores: dict[Path, pathspec.GitIgnoreSpec | None] = {}
        self.chains: dict[Path, list[tuple[Path, pathspec.GitIgnoreSpec]]] = {}

    def rel(self, path: Path, anchor: Path) -> str:
        return path.relative_to(anchor).as_posix()

    def gitignored(self, path: Path, is_dir: bool) -> bool:
        if not self.git:
            return False
        for directory, ignore in self._chain(path.parent):
            if ignore.match_file(path.relative_to(directory).as_posix() + "/" * is_dir):
                return True
        return False

    def _chain(self, directory: Path) -> list[tuple[Path, pathspec.GitIgnoreSpec]]:
        """The ``.gitignore`` specs that apply in ``directory``: up to the repository top, or
        up to the project root outside a repository."""
        if directory not in self.chains:
            own = self._ignore_file(directory)
            here = [(directory, own)] if own is not None else []
            top = (directory / ".git").exists() or directory == self.root or directory.parent == directory
            self.chains[directory] = here + ([] if top else self._chain(directory.parent))
        return self.chains[directory]

    def _ignore_file(self, directory: Path) -> pathspec.GitIgnoreSpec | None:
        if directory not in self.ignores:
            try:
                lines = (directory / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            self.ignores[directory] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self.ignores[directory]

    def skip(self, path: Path, rel: str, is_dir: bool) -> bool:
        if not excluded(rel, self.patterns, is_dir):
            if self.gitignored(path, is_dir):
                self.out.gitignored += 1
                return True
            return False
        pattern = _first_match(rel, self.patterns, is_dir)
        if pattern in self.defaults:
            if pattern not in COUNTED:
                self.out.skipped_dirs += is_dir
            elif is_dir:
                self._count(path, pattern)
            elif path.name.endswith(".py"):
                self.out.skipped[pattern] += 1
        return True

    def _count(self, directory: Path, pattern: str) -> None:
        project: Path | None = None
        for top, dirs, names in os.walk(directory):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in {"__pycache__", "node_modules"}]
            for name in names:
                if not name.endswith(".py"):
                    continue
                self.out.skipped[pattern] += 1
                if project is None and pattern == "tests" and _PROJECT_NAMES.fullmatch(name):
                    project = Path(top) if _looks_like_project(Path(top) / name) else None
        if project is not None:
            self.out.projects.append(display_path(project, self.cwd))

    def walk(self, directory: Path, anchor: Path, ancestors: set[tuple[int, int]]) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            shown = display_path(directory, self.cwd)
            self.out.problems.append(diag.UNREADABLE.finding(shown, exc.strerror or str(exc)))
            return
        for entry in entries:
            path = Path(entry.path)
            shown = display_path(path, self.cwd)
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError as exc:
                kind = diag.SYMLINK_LOOP if exc.errno == errno.ELOOP else diag.UNREADABLE
                self.out.problems.append(kind.finding(shown, exc.strerror or str(exc)))
                continue
            if self.skip(path, self.rel(path, anchor), is_dir):
                continue
            if entry.is_symlink() and not is_dir and not is_file:
                self._broken_link(path, shown, entry.name)
                continue
            if is_dir:
                st = path.stat()
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    problem = diag.SYMLINK_LOOP.finding(shown, "link points back to a parent directory")
                    self.out.problems.append(problem)
                    continue
                self.walk(path, anchor, ancestors | {key})
            elif is_file and is_source(entry.name):
                self.add(path, shown)

    def _broken_link(self, path: Path, shown: str, name: str) -> None:
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self.out.problems.append(diag.SYMLINK_LOOP.finding(shown, "link resolves to itself"))
            elif name.endswith(".py"):
                self.out.problems.append(diag.UNREADABLE.finding(shown, "dangling symbolic link"))

    def add(self, path: Path, shown: str) -> None:
        if shown not in self.seen:
            self.seen.add(shown)
            self.out.files.append((path, shown))


def _looks_like_project(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return _PROJECT_FILES.search(handle.read(200_000)) is not None
    except OSError:
        return False


def discover(
    paths: list[Path],
    cwd: Path,
    patterns: list[str],
    root: Path | None = None,
    defaults: frozenset[str] = frozenset(),
    respect_gitignore: bool = True,
) -> Discovered:
    """Python files under ``paths`` (display paths relative to ``cwd``), excludes relative to ``root``.

    A file named explicitly is linted whatever its extension, unless an exclude matches its name.
    """
    walker = _Walker(root or cwd, cwd, patterns, defaults, respect_gitignore)
    for given in paths:
        absolute = Path(os.path.abspath(given))
        shown = display_path(absolute, cwd)
        try:
            st = absolute.stat()
        except OSError as exc:
            kind = diag.SYMLINK_LOOP if exc.errno == errno.ELOOP else diag.UNREADABLE
            walker.out.problems.append(kind.finding(shown, exc.strerror or str(exc)))
            continue
        if absolute.is_dir():
            # Patterns match from the project root, unless the directory given is itself
            # excluded there (`sessionkit lint tests/`): then from that directory.
            anchor = walker.root
            if not absolute.is_relative_to(anchor) or (
                absolute != anchor and excluded(absolute.relative_to(anchor).as_posix(), patterns, True)
            ):
                anchor = absolute
            walker.walk(absolute, anchor, {(st.st_dev, st.st_ino)})
        elif not excluded(absolute.name, patterns):
            walker.add(absolute, shown)
        else:
            walker.out.excluded_named += 1
    return walker.out
