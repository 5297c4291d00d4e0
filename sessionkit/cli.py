"""The ``sessionkit`` console script.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module is imported
only to build the parser, and imports its heavy dependencies (libcst, ruamel.yaml, frameworks)
inside its ``run`` function, so ``sessionkit --help`` works with only the core installed.

Exit codes follow linter conventions: 0 clean, 1 findings or problems, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import difflib
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


class _SubcommandParser(argparse.ArgumentParser):
    """A subcommand's parser: an unknown argument is reported with this subcommand's usage line and,
    when an option of its own is close, a "did you mean" hint (argparse would leave the unknown
    arguments to the top-level parser, which knows only the command names)."""

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None,
                         ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}{self._suggestion(extras)}")
        return parsed, extras

    def _suggestion(self, extras: list[str]) -> str:
        known = [opt for action in self._actions for opt in action.option_strings if opt.startswith("--")]
        for extra in extras:
            if extra.startswith("--"):
                close = difflib.get_close_matches(extra.split("=", 1)[0], known, n=1, cutoff=0.75)
                if close:
                    return f" (did you mean {close[0]}?)"
        return ""


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
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_SubcommandParser)
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
