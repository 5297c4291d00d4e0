"""Cross-file phase: decisions that depend on several files (Django settings split over modules).

Each file's analysis leaves JSON facts; every rule that overrides :meth:`Rule.project` gets all
of them once per run. The engine knows no rule: it asks the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sessionkit.lint import _diagnostics as diag
from sessionkit.lint._rule import Rule
from sessionkit.lint._types import Finding


def resolve(facts: dict[str, dict[str, Any]], rules: Iterable[type[Rule]] | None = None) -> list[Finding]:
    """Findings of every rule's cross-file hook over ``facts`` (``{path: facts}``).

    A hook that fails (a bug, or facts of a shape it did not expect) costs only its own findings:
    it is reported as ``SK008`` on the first file with facts, and every other hook still runs.
    """
    if rules is None:
        from sessionkit.lint.rules import ALL_RULES

        rules = ALL_RULES
    out: list[Finding] = []
    for rule in rules:
        try:
            out.extend(rule.project(facts))
        except Exception as exc:
            where = min(facts) if facts else "."
            out.append(diag.INTERNAL_ERROR.finding(where, f"cross-file check of {rule.code}: {exc!r}"))
    return out
