"""Small syntax helpers shared by rules (no detection logic of their own)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint._templates import branches
from sessionkit.lint._walk import walk

__all__ = ["walk"]

CONFIG_OWNERS = frozenset({"config", "settings", "conf"})
SECRET_ATTRS = re.compile(r"(?i)secret_key|signing_key|jwt_secret|session_secret")


def string_value(node: cst.CSTNode | None) -> str | None:
    """The value of a plain or concatenated string literal, else ``None``."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def setting_target(ctx: FileContext, target: cst.BaseExpression) -> str | None:
    """The config key an assignment target sets, scope-aware.

    ``KEY = ...`` at module or class level (Django settings, Flask config modules and classes),
    ``app.config["KEY"] = ...`` and ``app.secret_key = ...``.
    """
    if isinstance(target, cst.Name):
        if ctx.is_import_time(target):
            return target.value
        return None
    if isinstance(target, cst.Subscript) and len(target.slice) == 1:
        index = target.slice[0].slice
        owner = target.value
        owner_name = (
            owner.attr.value
            if isinstance(owner, cst.Attribute)
            else (owner.value if isinstance(owner, cst.Name) else "")
        )
        if isinstance(index, cst.Index) and owner_name in CONFIG_OWNERS:
            return string_value(index.value)
    if isinstance(target, cst.Attribute) and SECRET_ATTRS.search(target.attr.value):
        return target.attr.value.upper()  # ``app.secret_key``, ``self.auth_secret_key``
    return None


def settings_in(ctx: FileContext, node: cst.CSTNode) -> Iterator[tuple[str, cst.BaseExpression, cst.CSTNode]]:
    """(key, value, where) for every setting that ``node`` (Assign, AnnAssign or Call) sets.

    Calls cover ``app.config.update(KEY=...)``, ``.from_mapping(KEY=...)``, ``dict(KEY=...)``
    and ``.update({"KEY": ...})``.
    """
    if isinstance(node, cst.Assign):
        for target in node.targets:
            key = setting_target(ctx, target.target)
            if key:
                yield key, node.value, target.target
    elif isinstance(node, cst.AnnAssign) and node.value is not None:
        key = setting_target(ctx, node.target)
        if key:
            yield key, node.value, node.target
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value not in SETTINGS_METHODS:
            return
        owner = node.func.value
        owner_name = (
            owner.attr.value
            if isinstance(owner, cst.Attribute)
            else (owner.value if isinstance(owner, cst.Name) else "")
        )
        if owner_name not in CONFIG_OWNERS:
            return
        if node.func.attr.value == "configure" and not ctx.refers_to(owner, {"django.conf.settings"}):
            return
        for arg in node.args:
            if arg.keyword is not None:
                yield arg.keyword.value, arg.value, arg.keyword
            elif not arg.star or arg.star == "**":
                for mapping in _mappings(ctx, arg.value):
                    yield from dict_entries(mapping)


SETTINGS_METHODS = frozenset({"update", "from_mapping", "setdefault", "configure"})


def _mappings(ctx: FileContext, value: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The dict literals (or ``dict(...)`` calls) that ``value`` is, or that the name ``value``
    was assigned in its scope: ``settings.configure(**SETTINGS)``, ``app.config.update(CONFIG)``."""
    if isinstance(value, cst.Dict | cst.Call):
        yield value
        return
    if not isinstance(value, cst.Name):
        return
    scope = ctx.scopes.get(value)
    if callable(scope):
        scope = scope()
    if scope is None or value.value not in scope:
        return
    for assignment in scope[value.value]:
        target = getattr(assignment, "node", None)
        holder = ctx.parents.get(target) if target is not None else None
        if isinstance(holder, cst.AssignTarget):
            holder = ctx.parents.get(holder)
            if isinstance(holder, cst.Assign) and len(holder.targets) == 1:
                yield holder.value
        elif isinstance(holder, cst.AnnAssign) and holder.value is not None and holder.target is target:
            yield holder.value


def dict_entries(node: cst.CSTNode) -> Iterator[tuple[str, cst.BaseExpression, cst.CSTNode]]:
    """String-keyed entries of a dict literal or ``dict(...)`` call."""
    if isinstance(node, cst.Dict):
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = string_value(element.key)
                if key is not None:
                    yield key, element.value, element.key
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict":
        for arg in node.args:
            if arg.keyword is not None:
                yield arg.keyword.value, arg.value, arg.keyword


def literal_or_default(
    ctx: FileContext, value: cst.BaseExpression, wanted: Collection[str] = ()
) -> tuple[str | None, cst.CSTNode]:
    """A string setting value, looking through ``os.environ.get("X", "default")``-style reads,
    ``a or b`` fallbacks and ``a if DEBUG else b`` choices.

    Returns the string and the node holding it (so a guard can be computed for it). Where the
    value has alternatives, the first one in ``wanted`` wins (so the production branch of
    ``"null" if DEBUG else "simple"`` is seen), else the first string found.
    """
    found = list(_alternatives(ctx, value))
    for text, holder in found:
        if text in wanted:
            return text, holder
    return found[0] if found else (None, value)


def module_value(ctx: FileContext, name: cst.Name) -> cst.BaseExpression | None:
    """The value of the one module-level ``NAME = value`` statement binding ``name``, if the name
    is bound exactly once (a constant such as ``BROADCAST_URL = os.environ.get(...)``)."""
    values = ctx.memo.get("module_values")
    if not isinstance(values, dict):
        values = {}
        counts: dict[str, int] = {}
        for stmt in ctx.module.body:
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.Assign | cst.AnnAssign):
                    if isinstance(small, cst.Assign):
                        targets = [t.target for t in small.targets]
                    else:
                        targets = [small.target]
                    for target in targets:
                        if isinstance(target, cst.Name) and small.value is not None:
                            counts[target.value] = counts.get(target.value, 0) + 1
                            values[target.value] = small.value
        values = {k: v for k, v in values.items() if counts[k] == 1}
        ctx.memo["module_values"] = values
    if ctx.module_binding(name) is None and not ctx.is_import_time(name):
        return None
    found = values.get(name.value)
    return found if isinstance(found, cst.BaseExpression) else None


def _alternatives(
    ctx: FileContext, value: cst.BaseExpression, depth: int = 0
) -> Iterator[tuple[str, cst.CSTNode]]:
    text = string_value(value)
    if text is not None:
        yield text, value
        if "{%" in text:  # a templated config file: each branch is a possible value
            yield from ((piece, value) for piece in branches(text))
    elif isinstance(value, cst.Call) and ctx.is_env_read(value):
        for arg in value.args[1:]:
            if arg.keyword is None or arg.keyword.value == "default":
                yield from _alternatives(ctx, arg.value, depth)
    elif isinstance(value, cst.BooleanOperation):
        yield from _alternatives(ctx, value.left, depth)
        yield from _alternatives(ctx, value.right, depth)
    elif isinstance(value, cst.IfExp):
        yield from _alternatives(ctx, value.body, depth)
        yield from _alternatives(ctx, value.orelse, depth)
    elif isinstance(value, cst.Name) and depth < 3:
        bound = module_value(ctx, value)
        if bound is not None:
            yield from _alternatives(ctx, bound, depth + 1)


SERVE_CALLS = frozenset({"run", "run_app", "serve", "run_simple"})


def under_main_guard(ctx: FileContext, node: cst.CSTNode) -> bool:
    """Inside ``if __name__ == "__main__":`` that does not also start the web app there.

    A script's main block runs once, in a process of its own, unless that block is how the web
    server is started (``app.run()``, ``uvicorn.run(...)``, ``web.run_app(app)``): then the code
    beside it runs in the web process.
    """
    for parent in ctx.ancestors(node):
        if isinstance(parent, cst.If) and "__main__" in ctx.module.code_for_node(parent.test):
            return not any(
                isinstance(sub, cst.Call)
                and isinstance(sub.func, cst.Attribute | cst.Name)
                and (sub.func.attr if isinstance(sub.func, cst.Attribute) else sub.func).value in SERVE_CALLS
                for sub in walk(parent.body)
            )
    return False
