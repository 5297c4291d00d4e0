"""Configuration that production does not run: development-only branches, classes and files.

The linter's settings policy (docs/rules.md, "Which settings count"): a value that applies only
in development or tests is not reported at all, because CI should fail on what production runs.
Development-only means one of

- a development settings file (``settings/dev.py``, ``local_settings.py``) or a config class
  named for development (``DevelopmentConfig``, ``LocalConfig``, ``DebugConfig``);
- a branch taken only in debug or development mode (``if DEBUG:``, ``if app.debug:``,
  ``if ENV == "development":``);
- a branch taken only when an environment switch is turned on, where the switch is off when the
  variable is unset (``if os.getenv("USE_SQLITE", "False") == "True":``,
  ``LOCAL_DB = config("LOCAL_DB", default=False, cast=bool)`` then ``if LOCAL_DB:``).

A value that is the fallback when a variable is unset (``os.environ.get("DATABASE_URL",
"sqlite:///app.db")``) is what a production pod runs when nobody set the variable, so it stays
reported (one severity lower, as guarded).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import libcst as cst

#: A test naming debug or development mode by itself: ``DEBUG``, ``settings.DEBUG``, ``app.debug``.
DEBUG_NAME = re.compile(r"^(DEBUG|DEV|DEVELOPMENT|LOCAL|TESTING|debug|testing)$")
DEV_VALUE = re.compile(r"^(dev|develop|development|local|debug|test|testing)$", re.IGNORECASE)
ENV_NAME = re.compile(r"(?i)^(env|environment|app_env|flask_env|django_env|stage|mode|run_mode)$")
#: Strings that a ``cast=bool``-style reader or a hand-written comparison reads as "off".
OFF_STRINGS = frozenset({"", "0", "false", "no", "off", "n", "f"})
_MISSING = object()

EnvRead = Callable[[cst.CSTNode], "str | None"]
ModuleValue = Callable[[str], "cst.BaseExpression | None"]


def _name(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            text = index.value.evaluated_value
            return text if isinstance(text, str) else None
    return None


def _literal(node: cst.BaseExpression) -> object:
    """The value of a literal (string, number, True/False/None), else ``_MISSING``."""
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    if isinstance(node, cst.Integer):
        return int(node.value)
    if isinstance(node, cst.Name) and node.value in {"True", "False", "None"}:
        return {"True": True, "False": False, "None": None}[node.value]
    return _MISSING


def _env_default(call: cst.Call) -> object:
    """What an environment read returns when the variable is unset (``None`` without a default)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "default":
            return _literal(arg.value)
    positional = [a for a in call.args if a.keyword is None]
    return _literal(positional[1].value) if len(positional) > 1 else None


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in OFF_STRINGS
    return bool(value)


def unset_value(
    test: cst.BaseExpression, env_read: EnvRead, module_value: ModuleValue, depth: int = 0
) -> object:
    """The value of ``test`` when every environment variable it reads is unset, or ``_MISSING``
    when that cannot be read from the code."""
    if depth > 8:
        return _MISSING
    depth += 1
    if isinstance(test, cst.Name) and test.value not in {"True", "False", "None"}:
        bound = module_value(test.value)
        return unset_value(bound, env_read, module_value, depth) if bound is not None else _MISSING
    if isinstance(test, cst.Call) and env_read(test):
        return _env_default(test)
    func = test.func if isinstance(test, cst.Call) and not test.args else None
    if isinstance(func, cst.Attribute) and func.attr.value in {"lower", "upper", "strip", "casefold"}:
        inner = unset_value(func.value, env_read, module_value, depth)
        return getattr(inner, func.attr.value)() if isinstance(inner, str) else inner
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = unset_value(test.expression, env_read, module_value, depth)
        return _MISSING if inner is _MISSING else not _truthy(inner)
    if isinstance(test, cst.BooleanOperation):
        # ``not DEBUG and os.getenv("REDIS_URL") is not None``: one side decides when it is known
        sides = [unset_value(side, env_read, module_value, depth) for side in (test.left, test.right)]
        conjunction = isinstance(test.operator, cst.And)
        if any(side is not _MISSING and _truthy(side) != conjunction for side in sides):
            return not conjunction
        return _MISSING if _MISSING in sides else conjunction
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left = unset_value(test.left, env_read, module_value, depth)
        right = _literal(test.comparisons[0].comparator)
        op = test.comparisons[0].operator
        if left is _MISSING or right is _MISSING:
            return _MISSING
        if isinstance(op, cst.Equal | cst.Is):
            return left == right
        if isinstance(op, cst.NotEqual | cst.IsNot):
            return left != right
        return _MISSING
    return _literal(test)


def debug_branch(test: cst.BaseExpression) -> bool:
    """``if DEBUG:``, ``if settings.DEBUG:``, ``if app.debug:``, ``if ENV == "development":``."""
    name = _name(test)
    if name is not None and DEBUG_NAME.match(name):
        return True
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        op = test.comparisons[0].operator
        value = _literal(test.comparisons[0].comparator)
        subject = _name(test.left)
        return (
            isinstance(op, cst.Equal)
            and isinstance(value, str)
            and bool(DEV_VALUE.match(value))
            and subject is not None
            and bool(ENV_NAME.match(subject))
        )
    return False


def branch_off_in_production(
    test: cst.BaseExpression, env_read: EnvRead, module_value: ModuleValue
) -> str | None:
    """Why the body of ``if test:`` does not run in production, or ``None``."""
    if debug_branch(test):
        return "debug/development-only branch"
    value = unset_value(test, env_read, module_value)
    if value is not _MISSING and not _truthy(value) and _reads_env(test, env_read, module_value):
        return "enabled only by an environment switch that is off by default"
    return None


def _reads_env(test: cst.BaseExpression, env_read: EnvRead, module_value: ModuleValue) -> bool:
    stack: list[cst.CSTNode] = [test]
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call) and env_read(node):
            return True
        if isinstance(node, cst.Name):
            bound = module_value(node.value)
            if bound is not None and node.value not in seen:
                seen.add(node.value)
                stack.append(bound)
            continue
        stack.extend(node.children)
    return False
