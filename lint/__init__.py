"""The migration linter: finds in-process state that breaks when an app runs as several replicas.

Run it as ``sessionkit lint``; see docs/lint.md. Importing this package stays cheap (no libcst):
the console script imports it to register the subcommand.
"""

from __future__ import annotations

from sessionkit.lint._types import RULESET_VERSION, Finding, Remedy, Severity

__all__ = ["RULESET_VERSION", "Finding", "Remedy", "Severity"]
