"""Why a value may not apply in production: environment-variable defaults, ``or`` fallbacks,
``if DEBUG:``-style branches, development config classes and files. ``FileContext`` mixes these in."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

import libcst as cst

from sessionkit.lint._devonly import branch_off_in_production
from sessionkit.lint._walk import walk as _walk

ENV_GETTERS = frozenset(
    {
        "os.environ.get",
        "os.getenv",
        "os.environ.setdefault",
        "environ.get",
        "decouple.config",
        "os.environ.__getitem__",
    }
)
#: Callables named like this are env readers (django-environ ``env(...)``, python-decouple).
ENV_CALLABLE_NAMES = frozenset({"env", "config", "getenv", "get_env", "env_var", "get_env_variable"})
ENV_METHODS = frozenset({"str", "bool", "int", "get_value", "db", "cache", "url"})
#: Last names an environment read can be called by (``os.getenv``, ``environ.get``, ``env.bool``...).
_ENV_TAILS = (
    frozenset(n.rsplit(".", 1)[-1] for n in ENV_GETTERS) | ENV_CALLABLE_NAMES | ENV_METHODS | {"getenv"}
)
GUARD_WORDS = re.compile(
    r"\b(DEBUG|TESTING|TEST|DEVELOPMENT|DEV|LOCAL|environ|getenv|ENV|ENVIRONMENT|argv|pytest)\b"
)
DEV_CLASS = re.compile(r"(Dev|Develop|Local|Debug)")
#: A configuration class for development only (``DevelopmentConfig``, ``LocalSettings``).
DEV_CONFIG_CLASS = re.compile(
    r"^_?(Dev|Develop|Development|Local|Debug)[A-Za-z]*(Config|Settings|Configuration|Conf)$"
)


class Guards:
    """Environment reads and guards (``module``, ``ancestors``, ``qnames``, ``refers_to`` and
    ``is_dev_file`` come from the host)."""

    module: cst.Module
    _module_assignments: dict[str, cst.BaseExpression | None] | None = None

    @property
    def is_dev_file(self) -> bool:
        raise NotImplementedError

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        raise NotImplementedError

    def qnames(self, node: cst.CSTNode) -> set[str]:
        raise NotImplementedError

    def refers_to(self, node: cst.CSTNode, names: Collection[str]) -> bool:
        raise NotImplementedError

    def module_assignment(self, name: str) -> cst.BaseExpression | None:
        """The value of the one module-level ``name = value`` statement, if there is exactly one."""
        values = self._module_assignments
        if values is None:
            values = {}
            for stmt in self.module.body:
                for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        target = small.targets[0].target
                        if isinstance(target, cst.Name):
                            values[target.value] = None if target.value in values else small.value
            self._module_assignments = values
        return values.get(name)

    def dev_only(self, node: cst.CSTNode) -> str | None:
        """Why ``node`` never runs in production (see ``_devonly``), or ``None``."""
        child = node
        for parent in self.ancestors(node):
            if isinstance(parent, cst.If | cst.IfExp) and child is parent.body:
                why = branch_off_in_production(parent.test, self.is_env_read, self.module_assignment)
                if why:
                    return why
            if isinstance(parent, cst.ClassDef) and DEV_CONFIG_CLASS.match(parent.name.value):
                return f"in development config class {parent.name.value}"
            child = parent
        return "in a development settings file" if self.is_dev_file else None

    def is_env_read(self, node: cst.CSTNode) -> str | None:
        """If ``node`` reads an environment variable, a short description of it."""
        if isinstance(node, cst.Subscript):
            if self.refers_to(node.value, {"os.environ"}):
                return "os.environ[...]"
            return None
        if not isinstance(node, cst.Call):
            return None
        func = node.func
        tail = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        if tail not in _ENV_TAILS:
            return None  # cheap syntactic check first: qualified names cost a scope analysis
        is_env = self.refers_to(func, ENV_GETTERS) or (
            tail == "getenv" and any(n.endswith(".getenv") for n in self.qnames(func))
        )
        if not is_env and isinstance(func, cst.Name) and func.value in ENV_CALLABLE_NAMES:
            is_env = True
        if not is_env and isinstance(func, cst.Attribute) and func.attr.value in ENV_METHODS:
            is_env = isinstance(func.value, cst.Name) and func.value.value in {"env", "environ"}
        if not is_env:
            return None
        if node.args and isinstance(node.args[0].value, cst.SimpleString):
            return f"environment variable {node.args[0].value.evaluated_value!s}"
        return "an environment variable"

    def guard(self, node: cst.CSTNode) -> str | None:
        """Why ``node`` may not apply in production: an env-var default, ``or`` fallback, or
        an ``if DEBUG``-style branch. ``None`` when unguarded."""
        child = node
        for parent in self.ancestors(node):
            if isinstance(parent, cst.Call) and child is not parent.func:
                read = self.is_env_read(parent)
                if read:
                    return f"used only when {read} is unset"
            if isinstance(parent, cst.BooleanOperation) and child is parent.right:
                for sub in _walk(parent.left):
                    read = self.is_env_read(sub)
                    if read:
                        return f"used only when {read} is unset"
            if isinstance(parent, cst.If | cst.IfExp) and child is not parent.test:
                test = self.module.code_for_node(parent.test)
                if GUARD_WORDS.search(test) or any(self.is_env_read(s) for s in _walk(parent.test)):
                    return f"inside `if {test}`"
            if isinstance(parent, cst.FunctionDef | cst.ClassDef):
                if isinstance(parent, cst.ClassDef) and DEV_CLASS.search(parent.name.value):
                    return f"in config class {parent.name.value}"
                break
            child = parent
        if self.is_dev_file:
            return "in a development/test settings file"
        return None
