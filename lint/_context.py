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

from sessionkit.lint._bindings import Bindings
from sessionkit.lint._guards import Guards
from sessionkit.lint._handlers import ModuleFacts, analyse, is_view_class, singletons
from sessionkit.lint._walk import children
from sessionkit.lint._walk import walk as _walk

#: A development settings module: ``settings/dev.py``, ``config/settings/local.py``,
#: ``dev_settings.py``, ``settings_devel.py``, ``devproject/settings.py``; not any ``local.py``
#: (``storage/local.py`` is a local storage backend, which production may well run).
DEV_FILE = re.compile(
    r"(^|/)(settings|configs?|conf|environments?|envs?)/(\w+/)?(dev|devel|develop|development|local|ci)\.py$"
    r"|(^|/)(dev|devel|develop|development|local|ci)_(settings|config)\.py$"
    r"|(^|/)(settings|config)_(dev|devel|develop|development|local|ci)\.py$"
    r"|(^|/)(dev|devel|development)_?(project|site)/settings\.py$"
)
#: Test configuration: a settings module for tests, or a config class named like ``TestingConfig``.
TEST_FILE = re.compile(
    r"(^|/)((settings|configs?|conf)/(tests?|testing)|(tests?|testing)_(settings|config)"
    r"|(settings|config)_(tests?|testing)|conftest)\.py$"
)
#: A config class for tests (``TestingConfig``, ``TestSettings``, ``Testing``) or a test case; not
#: every class whose name mentions tests (a ``TestConsumer`` websocket consumer serves traffic).
TEST_CLASS = re.compile(r"Test(ing)?\w*(Conf\w*|Settings|Case)$|^(Test|Testing)$")
SETTINGS_FILE = re.compile(r"(^|/)(settings|config|conf|configuration)(/[^/]+|_?\w*)?\.py$")


class FileContext(Bindings, Guards):
    """What a rule sees of one file."""

    def __init__(
        self, path: str, module: cst.Module, parents: Mapping[cst.CSTNode, cst.CSTNode] | None = None
    ) -> None:
        self.path = path
        self.module = module
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        #: Parent links; the engine fills them during its single walk (ParentNodeProvider's job,
        #: done without a second traversal). Standalone use falls back to the provider.
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = (
            parents if parents is not None else self.wrapper.resolve(ParentNodeProvider)
        )
        #: The decoded source, when the engine has it (cheap text searches; see ``_locate``).
        self.source: str | None = None
        #: Project-wide facts for the cross-file phase (JSON-serialisable; cached with the result).
        self.facts: dict[str, Any] = {}
        #: Per-file analyses shared between rules (never serialised).
        self.memo: dict[str, Any] = {}
        self._locals_memo: dict[cst.FunctionDef, frozenset[str]] = {}
        #: Every node in document order; the engine fills it during its single walk.
        self.order: list[cst.CSTNode] | None = None
        self._by_type: dict[type, list[cst.CSTNode]] | None = None

    def nodes(self, *types: type[cst.CSTNode]) -> list[cst.CSTNode]:
        """Every node of one of ``types``, in document order (from the engine's walk when there
        was one, so rules need not walk the tree again)."""
        if self.order is None:
            self.order = list(_walk(self.module))
        if self._by_type is None:
            by_type: dict[type, list[cst.CSTNode]] = {}
            for node in self.order:
                by_type.setdefault(type(node), []).append(node)
            self._by_type = by_type
        if len(types) == 1:
            return self._by_type.get(types[0], [])
        wanted = set(types)
        return [node for node in self.order if type(node) in wanted]

    @cached_property
    def scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        # Scope and qualified-name metadata are resolved on first use: rules look names up only
        # for candidate nodes, so files without candidates never pay for them.
        return self.wrapper.resolve(ScopeProvider)

    @cached_property
    def qualified(self) -> Mapping[cst.CSTNode, Collection[QualifiedName]]:
        return self.wrapper.resolve(QualifiedNameProvider)

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
        fast = self._fast_qname(node)
        if fast is not None:
            return {fast}
        value = self.qualified.get(node, ())
        if callable(value):  # libcst stores some metadata as lazily computed values
            value = value()
        return {q.name for q in value}

    def calls(self, node: cst.CSTNode, names: Collection[str]) -> bool:
        """``node`` is a call whose callee resolves to one of ``names``."""
        return isinstance(node, cst.Call) and self.refers_to(node.func, names)

    def refers_to(self, node: cst.CSTNode, names: Collection[str]) -> bool:
        """``node`` resolves to one of the qualified ``names``.

        Cheap syntactic checks run first, so scope metadata is computed only for real candidates:
        ``a.b.c`` can only be spelled ``...c``, and a dotted chain can only resolve to an
        imported name if its head was bound by an import (or is a builtin named in ``names``).
        """
        head, tail = _head_tail(node)
        if tail is None:
            return False  # calls, subscripts, literals never *are* an imported name
        if tail is not None:
            bound = self.imported
            if tail not in _tails(names) and tail not in self.aliases:
                return False
            if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name | cst.Attribute):
                prev = _head_tail(node.value)[1]
                if (prev, tail) not in _pairs(names) and prev not in self.aliases:
                    return False
            if head is not None and head not in bound and not self.star_import:
                if f"builtins.{head}" not in names:
                    return False
                if isinstance(node, cst.Name) and head not in self.defined:
                    return True  # an unshadowed builtin such as ``open`` or ``dict``
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

    def is_request_time(self, node: cst.CSTNode, runs: bool = False) -> bool:
        """``node`` runs while a request is handled; with ``runs`` also in a thread, pool or timer
        that request-time code starts (see ``ModuleFacts.run_by_request``)."""
        facts = self.functions
        for fn in self.enclosing_functions(node):
            if fn in facts.startup:
                return False
            if fn in facts.request_time or (runs and fn in facts.run_by_request):
                return True
        return False

    def deferred(self, node: cst.CSTNode) -> str | None:
        """The name other modules call the function around ``node`` by, when it is neither
        startup code nor a request handler of this module: ``name`` for a module-level function,
        ``instance.method`` for a method of a module-level object, ``Class().method`` for a method
        of a class other modules may instantiate. The cross-file phase decides
        whether request handlers elsewhere in the project call it."""
        functions = self.enclosing_functions(node)
        if not functions or any(fn in self.functions.startup for fn in functions):
            return None
        outer = functions[-1]
        holder = self.parents.get(outer)
        if isinstance(holder, cst.Module):
            return outer.name.value
        owner = self.parents.get(holder) if holder is not None else None
        if isinstance(owner, cst.ClassDef) and isinstance(self.parents.get(owner), cst.Module):
            for instance, cls in singletons(self.module).items():
                if cls is owner:
                    return f"{instance}.{outer.name.value}"
            if any(_decorator_name(d) in {"classmethod", "staticmethod"} for d in outer.decorators):
                return f"{owner.name.value}.{outer.name.value}"  # called as ``Class.method()``
            if outer.name.value != "__init__" and not is_view_class(owner):
                # A class instantiated elsewhere (``broker = Broker()`` in the app module,
                # ``app.events = EventManager()`` in a factory): ``Class().method``.
                return f"{owner.name.value}().{outer.name.value}"
        return None

    @cached_property
    def module_level_names(self) -> frozenset[str]:
        """Names bound by the module's own statements (not inside functions or classes)."""
        found: set[str] = set()
        stack: list[cst.CSTNode] = list(self.module.body)
        while stack:
            node = stack.pop()
            if isinstance(node, cst.FunctionDef | cst.ClassDef):
                found.add(node.name.value)
                continue
            if isinstance(node, cst.AssignTarget | cst.AnnAssign | cst.AugAssign | cst.For):
                _bound(node.target, found)
            elif isinstance(node, cst.WithItem) and node.asname is not None:
                _bound(node.asname.name, found)
            elif isinstance(node, cst.Lambda):
                continue
            stack.extend(children(node))
        for node in self.nodes(cst.Global):  # ``global X`` then ``X = ...`` in a function binds it too
            if isinstance(node, cst.Global):
                found.update(item.name.value for item in node.names)
        for node in self.nodes(cst.ImportFrom):  # ``from ..state import rooms`` binds ``rooms``
            if (
                isinstance(node, cst.ImportFrom)
                and node.relative
                and not isinstance(node.names, cst.ImportStar)
            ):
                for alias in node.names:
                    local = alias.asname.name if alias.asname is not None else alias.name
                    if isinstance(local, cst.Name):
                        found.add(local.value)
        return frozenset(found) | frozenset(self.import_table)

    def _locals(self, fn: cst.FunctionDef) -> frozenset[str]:
        cached = self._locals_memo.get(fn)
        if cached is not None:
            return cached
        params = fn.params
        found = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                found.add(star.name.value)
        declared: set[str] = set()
        stack: list[cst.CSTNode] = [fn.body]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.FunctionDef | cst.ClassDef):
                found.add(node.name.value)
                continue
            if isinstance(node, cst.Lambda):
                continue
            if isinstance(node, cst.Global | cst.Nonlocal):
                declared.update(item.name.value for item in node.names)
            elif isinstance(node, cst.AssignTarget | cst.AnnAssign | cst.AugAssign | cst.For | cst.CompFor):
                _bound(node.target, found)
            elif isinstance(node, cst.WithItem) and node.asname is not None:
                _bound(node.asname.name, found)
            elif isinstance(node, cst.ExceptHandler) and node.name is not None:
                _bound(node.name.name, found)
            elif isinstance(node, cst.NamedExpr):
                _bound(node.target, found)
            elif isinstance(node, cst.ImportAlias):
                local = node.asname.name if node.asname is not None else node.name
                if isinstance(local, cst.Name):
                    found.add(local.value)
                elif isinstance(local, cst.Attribute):
                    found.add(self.module.code_for_node(local).split(".")[0])
            stack.extend(children(node))
        result = frozenset(found - declared)
        self._locals_memo[fn] = result
        return result

    def is_websocket_handler(self, node: cst.CSTNode) -> bool:
        return any(fn in self.functions.websocket_handlers for fn in self.enclosing_functions(node))

    def module_binding(self, name: cst.CSTNode) -> str | None:
        """The module-level name that ``name`` (used inside a function) refers to, if any."""
        if not isinstance(name, cst.Name):
            return None
        if not self.star_import:
            # Syntactic scoping (no scope analysis): bound at module level, and not a parameter or
            # local of any enclosing function (unless declared ``global`` there).
            functions = self.enclosing_functions(name)
            if not functions or name.value not in self.module_level_names:
                return None
            if any(name.value in self._locals(fn) for fn in functions):
                return None
            return name.value
        scope = self.scopes.get(name)
        if callable(scope):
            scope = scope()
        if scope is None or isinstance(scope, GlobalScope) or name.value not in scope:
            return None
        assignments = scope[name.value]
        if assignments and all(isinstance(a.scope, GlobalScope) for a in assignments):
            return name.value
        return None

    def in_test_config(self, node: cst.CSTNode) -> bool:
        """``node`` is test configuration (a tests settings module, a ``TestingConfig`` class):
        it never runs in production, so rules do not report it."""
        if TEST_FILE.search(self.path):
            return True
        return any(
            isinstance(a, cst.ClassDef) and TEST_CLASS.search(a.name.value) for a in self.ancestors(node)
        )


_TAILS_BY_SET: dict[frozenset[str], frozenset[str]] = {}


def _tails(names: Collection[str]) -> frozenset[str]:
    key = names if isinstance(names, frozenset) else frozenset(names)
    cached = _TAILS_BY_SET.get(key)
    if cached is None:
        cached = _TAILS_BY_SET[key] = frozenset(n.rsplit(".", 1)[-1] for n in names)
    return cached


_PAIRS_BY_SET: dict[frozenset[str], frozenset[tuple[str, str]]] = {}


def _pairs(names: Collection[str]) -> frozenset[tuple[str, str]]:
    key = names if isinstance(names, frozenset) else frozenset(names)
    cached = _PAIRS_BY_SET.get(key)
    if cached is None:
        pairs = {tuple(n.split(".")[-2:]) for n in names if "." in n}
        cached = _PAIRS_BY_SET[key] = frozenset((a, b) for a, b in pairs)
    return cached


def _bound(target: cst.CSTNode, found: set[str]) -> None:
    if isinstance(target, cst.Name):
        found.add(target.value)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _bound(element.value, found)
    elif isinstance(target, cst.StarredElement):
        _bound(target.value, found)


def _head_tail(node: cst.CSTNode) -> tuple[str | None, str | None]:
    """First and last name of a dotted chain ``a.b.c``; ``(None, None)`` for anything else."""
    if isinstance(node, cst.Name):
        return node.value, node.value
    if isinstance(node, cst.Attribute):
        tail = node.attr.value
        current: cst.BaseExpression = node.value
        while isinstance(current, cst.Attribute):
            current = current.value
        return (current.value if isinstance(current, cst.Name) else None), tail
    return None, None


def _decorator_name(dec: cst.Decorator) -> str:
    expr = dec.decorator
    return expr.value if isinstance(expr, cst.Name) else ""
