"""``[tool.sessionkit.lint]`` in pyproject.toml, validated, merged with CLI overrides."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sessionkit.lint._types import SEVERITIES, Severity

DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".sessionkit_cache",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    "migrations",
    "tests",
    "test_*.py",
    "*_test.py",
    "conftest.py",
)


#: The keys ``[tool.sessionkit]`` may hold.
KNOWN_TABLES: tuple[str, ...] = ("lint",)


class ConfigError(ValueError):
    """Bad configuration or flags; the CLI exits with code 2 and prints the message."""


@dataclass
class Config:
    """Effective settings. Field names are the TOML keys with ``-`` replaced by ``_``."""

    select: list[str] = field(default_factory=lambda: ["SK"])
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    severity: Severity = "info"
    cache_dir: str | None = None
    baseline: str | None = None
    max_file_size: int = 2_000_000
    #: Per-file limits of the worker that parses and analyses it (SK009 past them).
    file_timeout: float = 60.0
    file_memory_mb: int = 2048
    #: Leave out findings in code that is not web runtime (CLI tools, dev scripts, commands).
    runtime_only: bool = True
    root: Path = field(default_factory=Path.cwd)
    #: From ``[tool.ruff]``/``[tool.black]`` (fixes keep to it); not a ``[tool.sessionkit.lint]`` key.
    line_length: int = 88

    def set(self, key: str, value: Any, source: str) -> None:
        """Set one option from ``source`` (a file name or ``--flag``), validating its type."""
        name = key.replace("-", "_")
        known = {f.name for f in fields(self)} - {"root", "line_length"}
        if name not in known:
            names = ", ".join(sorted(k.replace("_", "-") for k in known))
            raise ConfigError(f"{source}: unknown option `{key}` (known: {names})")
        if name in {"select", "ignore", "exclude", "extend_exclude"}:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ConfigError(f"{source}: `{key}` must be a list of strings")
            if name in {"select", "ignore"}:
                _check_codes(value, source, key)
        elif name == "per_file_ignores":
            if not (
                isinstance(value, dict)
                and all(isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values())
            ):
                raise ConfigError(f"{source}: `{key}` must map glob patterns to lists of codes")
            for codes in value.values():
                _check_codes(codes, source, key)
        elif name == "severity":
            if value not in SEVERITIES:
                raise ConfigError(f"{source}: `{key}` must be one of {', '.join(SEVERITIES)}, not {value!r}")
        elif name in {"max_file_size", "file_memory_mb"}:
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{source}: `{key}` must be a positive integer")
        elif name == "runtime_only":
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: `{key}` must be true or false")
        elif name == "file_timeout":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{source}: `{key}` must be a positive number of seconds")
        elif name in {"cache_dir", "baseline"} and not isinstance(value, str):
            raise ConfigError(f"{source}: `{key}` must be a string")
        setattr(self, name, value)

    def resolve_paths(self, base: Path) -> None:
        """Make ``baseline`` and ``cache-dir`` absolute, relative to ``base``."""
        if self.baseline is not None:
            self.baseline = os.path.join(base, os.path.expanduser(self.baseline))
        if self.cache_dir is not None:
            self.cache_dir = os.path.join(base, os.path.expanduser(self.cache_dir))


def _check_codes(codes: list[str], source: str, key: str) -> None:
    from sessionkit.lint._diagnostics import ALL_DIAGNOSTICS
    from sessionkit.lint.rules import ALL_RULES

    known = [r.code for r in ALL_RULES] + [d.code for d in ALL_DIAGNOSTICS]
    for code in codes:
        if code != "ALL" and not any(k.startswith(code.upper()) for k in known):
            raise ConfigError(f"{source}: `{key}` has unknown rule code {code!r}")


def find_pyproject(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(pyproject: Path | None) -> Config:
    """Read ``[tool.sessionkit.lint]``; a missing file or table gives the defaults."""
    config = Config()
    if pyproject is None:
        return config
    config.root = Path(os.path.abspath(pyproject.parent))
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read configuration: {exc}") from exc
    config.line_length = _line_length(data)
    tool = data.get("tool", {}).get("sessionkit", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{pyproject}: [tool.sessionkit] must be a table")
    for key in tool:
        if key not in KNOWN_TABLES:
            known = ", ".join(KNOWN_TABLES)
            raise ConfigError(f"{pyproject.name} [tool.sessionkit]: unknown option `{key}` (known: {known})")
    table = tool.get("lint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.sessionkit.lint] must be a table")
    for key, value in table.items():
        config.set(key, value, f"{pyproject.name} [tool.sessionkit.lint]")
    # Paths in the file are relative to the file's directory, wherever the run starts (as ruff).
    config.resolve_paths(config.root)
    return config


def _line_length(pyproject: object) -> int:
    """The project's line length: ``[tool.ruff]``, then ``[tool.black]``, else black's 88."""
    if isinstance(pyproject, dict):
        tool = pyproject.get("tool", {})
        for section in ("ruff", "black"):
            value = tool.get(section, {}).get("line-length") if isinstance(tool, dict) else None
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return 88
