"""Per-file context shared by every rule: metadata computed once, and scope-aware helpers."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from functools import cached_property
from typing import Any

import libcst as cst
from libcst.metadata import (
    CodeRange,
    GlobalScope,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedName,
    QualifiedNameProvider,
    Scope,
    ScopeProvider,
)
from sessionkit.lint._handlers import ModuleFacts, analyse

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
GUARD_WORDS = re.compile(r"\b(DEBUG|TESTING|DEVELOPMENT|DEV|LOCAL|environ|getenv|ENV|ENVIRONMENT)\b")
DEV_FILE = re.compile(r"(^|/)(dev|develop|development|local|test|tests|testing|ci)(_settings)?\.py$")
SETTINGS_FILE = re.compile(r"(^|/)(settings|config|conf|configuration)(/[^/]+|_?\w*)?\.py$")


class FileContext:
    """What a rule sees of one file."""

    def __init__(self, path: str, module: cst.Module) -> None:
        self.path = path
        self.module = module
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        meta = self.wrapper.resolve_many([ParentNodeProvider, ScopeProvider, QualifiedNameProvider])
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = meta[ParentNodeProvider]
        self.scopes: Mapping[cst.CSTNode, Scope | None] = meta[ScopeProvider]  # type: ignore[assignment]
        self.qualified: Mapping[cst.CSTNode, Collection[QualifiedName]] = meta[QualifiedNameProvider]  # type: ignore[assignment]
        #: Project-wide facts for the cross-file phase (JSON-serialisable; cached with the result).
        self.facts: dict[str, Any] = {}
        #: Per-file analyses shared between rules (never serialised).
        self.memo: dict[str, Any] = {}

    @cached_property
    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        # Computed only for files that have findings: it is the costliest provider.
        return self.wrapper.resolve(PositionProvider)

    @cached_property
    def functions(self) -> ModuleFacts:
        return analyse(self.module, self.qnames)

    @cached_property
    def is_settings(self) -> bool:
        """A Django settings module or a Flask config module."""
        return bool(SETTINGS_FILE.search(self.path)) or self.path.endswith("settings.py")

    @cached_property
    def is_dev_file(self) -> bool:
        return bool(DEV_FILE.search(self.path))

    # -- names -------------------------------------------------------------------------------
    def qnames(self, node: cst.CSTNode) -> set[str]:
        value = self.qualified.get(node, ())
        if callable(value):  # libcst stores some metadata as lazily computed values
            value = value()
        return {q.name for q in value}

    def calls(self, node: cst.CSTNode, names: Collection[str]) -> bool:
        """``node`` is a call whose callee resolves to one of ``names``."""
        return isinstance(node, cst.Call) and not self.qnames(node.func).isdisjoint(names)

    def refers_to(self, node: cst.CSTNode, names: Collection[str]) -> bool:
        return not self.qnames(node).isdisjoint(names)

    # -- where code runs --------------------------------------------------------------------
    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def enclosing_functions(self, node: cst.CSTNode) -> list[cst.FunctionDef]:
        return [a for a in self.ancestors(node) if isinstance(a, cst.FunctionDef)]

    def is_import_time(self, node: cst.CSTNode) -> bool:
        return not self.enclosing_functions(node)

    def is_request_time(self, node: cst.CSTNode) -> bool:
        facts = self.functions
        for fn in self.enclosing_functions(node):
            if fn in facts.startup:
                return False
            if fn in facts.request_time:
                return True
        return False

    def is_websocket_handler(self, node: cst.CSTNode) -> bool:
        return any(fn in self.functions.websocket_handlers for fn in self.enclosing_functions(node))

    def module_binding(self, name: cst.CSTNode) -> str | None:
        """The module-level name that ``name`` (used inside a function) refers to, if any."""
        if not isinstance(name, cst.Name):
            return None
        scope = self.scopes.get(name)
        if callable(scope):
            scope = scope()
        if scope is None or isinstance(scope, GlobalScope) or name.value not in scope:
            return None
        assignments = scope[name.value]
        if assignments and all(isinstance(a.scope, GlobalScope) for a in assignments):
            return name.value
        return None

    # -- guards -------------------------------------------------------------------------------
    def is_env_read(self, node: cst.CSTNode) -> str | None:
        """If ``node`` reads an environment variable, a short description of it."""
        if isinstance(node, cst.Subscript):
            if self.refers_to(node.value, {"os.environ"}):
                return "os.environ[...]"
            return None
        if not isinstance(node, cst.Call):
            return None
        func = node.func
        names = self.qnames(func)
        is_env = not names.isdisjoint(ENV_GETTERS) or any(n.endswith(".getenv") for n in names)
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
                if isinstance(parent, cst.ClassDef) and re.search(
                    r"(Dev|Develop|Local|Test|Debug)", parent.name.value
                ):
                    return f"in config class {parent.name.value}"
                break
            child = parent
        if self.is_dev_file:
            return "in a development/test settings file"
        return None


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    for child in node.children:
        yield from _walk(child)
