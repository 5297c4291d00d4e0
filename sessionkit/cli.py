"""The ``sessionkit`` console script.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module is imported
only to build the parser, and imports its heavy dependencies (libcst, ruamel.yaml, frameworks)
inside its ``run`` function, so ``sessionkit --help`` works with only the core installed.

Exit codes follow linter conventions: 0 clean, 1 findings or problems, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sessionkit._version import __version__

# name -> module exposing ``register(subparsers: argparse._SubParsersAction) -> None``.
_SUBCOMMANDS: tuple[str, ...] = (
    "sessionkit.demo._cli",
    "sessionkit.lint._cli",
    "sessionkit.ingress._cli",
    "sessionkit._admin",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="sessionkit",
        description=(
            "Run web apps as many replicas without sticky sessions: Redis-backed session stores, "
            "a migration linter and a cookie-affinity fallback."
        ),
    )
    parser.add_argument("--version", action="version", version=f"sessionkit {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sessionkit`` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
