"""What is a mutable container: the constructors, and the classes that keep containers on ``self``.

Shared by the state rules (``_state``): a module-level ``dict``/``list``/``deque``/``Queue``/cachetools
cache, and a registry class (``self.connections = set()`` in ``__init__``) that becomes process-wide
state once some module keeps an instance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Literal

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint._handlers import is_view_class, singletons
from sessionkit.lint._walk import walk

Kind = Literal["container", "queue", "cache"]

CONTAINER_CALLS: dict[str, Kind] = {
    "builtins.dict": "container",
    "builtins.list": "container",
    "builtins.set": "container",
    "collections.defaultdict": "container",
    "collections.OrderedDict": "container",
    "collections.Counter": "container",
    "collections.deque": "queue",
    "queue.Queue": "queue",
    "queue.SimpleQueue": "queue",
    "queue.LifoQueue": "queue",
    "queue.PriorityQueue": "queue",
    "asyncio.Queue": "queue",
    "asyncio.queues.Queue": "queue",
    "multiprocessing.Queue": "queue",
    "cachetools.TTLCache": "cache",
    "cachetools.LRUCache": "cache",
    "cachetools.LFUCache": "cache",
    "cachetools.Cache": "cache",
    "weakref.WeakValueDictionary": "container",
    "weakref.WeakSet": "container",
}
_CONTAINER_NAMES = frozenset(CONTAINER_CALLS)
_BUILTIN_CONTAINERS = frozenset({"dict", "list", "set"})
SENDS = re.compile(r"^(send\w*|put\w*|emit|write\w*)$")


def container_kind(ctx: FileContext, value: cst.BaseExpression) -> Kind | None:
    if isinstance(value, cst.List | cst.Dict | cst.Set | cst.ListComp | cst.DictComp | cst.SetComp):
        return "container"
    if isinstance(value, cst.Call):
        func = value.func.value if isinstance(value.func, cst.Subscript) else value.func
        if isinstance(func, cst.Name) and func.value in _BUILTIN_CONTAINERS and func.value not in ctx.defined:
            return "container"  # an unshadowed ``dict()``/``list()``/``set()``: no scope analysis needed
        if ctx.refers_to(func, _CONTAINER_NAMES):
            for name in ctx.qnames(func):
                if name in CONTAINER_CALLS:
                    return CONTAINER_CALLS[name]
    return None


#: A class that talks to a shared bus or store keeps only local copies of what it fans out.
_SHARED_BACKEND = re.compile(r"(?i)redis|pubsub|kafka|rabbit|amqp|nats")


def holder_classes(ctx: FileContext) -> dict[cst.ClassDef, dict[str, Kind]]:
    """Module-level classes (not views) that keep containers on ``self`` (set in ``__init__``),
    with those containers: a registry or manager that becomes process-wide state once some module
    instantiates it. Classes that talk to a shared bus are left out."""
    cached = ctx.memo.get("holders")
    if isinstance(cached, dict):
        return cached
    out: dict[cst.ClassDef, dict[str, Kind]] = {}
    for stmt in ctx.module.body:
        if isinstance(stmt, cst.ClassDef) and not is_view_class(stmt):
            attrs = _self_containers(ctx, stmt)
            if attrs and not _talks_to_shared_bus(stmt):
                out[stmt] = attrs
    ctx.memo["holders"] = out
    return out


def _talks_to_shared_bus(cls: cst.ClassDef) -> bool:
    """A name, attribute or string in the class mentions Redis, pub/sub or a broker (read from
    the nodes: generating the class's source code again would cost more than parsing it)."""
    for node in walk(cls.body):
        if isinstance(node, cst.Name | cst.SimpleString) and _SHARED_BACKEND.search(node.value):
            return True
    return False


def _self_containers(ctx: FileContext, cls: cst.ClassDef) -> dict[str, Kind]:
    """``self.attr = <container>`` in ``__init__``."""
    found: dict[str, Kind] = {}
    for stmt in cls.body.body:
        if not (isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__"):
            continue
        for target, kind in assigned_containers(ctx, walk(stmt.body)):
            if isinstance(target, cst.Attribute) and _is_self(target.value):
                found[target.attr.value] = kind
    return found


def assigned_containers(
    ctx: FileContext, nodes: Iterable[cst.CSTNode]
) -> Iterator[tuple[cst.BaseExpression, Kind]]:
    """``(target, kind)`` for every assignment among ``nodes`` whose value is a container."""
    for node in nodes:
        if isinstance(node, cst.Assign):
            targets, value = [target.target for target in node.targets], node.value
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        kind = container_kind(ctx, value)
        if kind is not None:
            for target in targets:
                yield target, kind


def self_attr_in(node: cst.CSTNode) -> str | None:
    """``attr`` of the first ``self.attr`` in ``node`` (``self.clients``, ``self.clients.values()``)."""
    for sub in walk(node):
        if isinstance(sub, cst.Attribute) and _is_self(sub.value):
            return sub.attr.value
    return None


def sends(nodes: list[cst.CSTNode]) -> bool:
    """One of ``nodes`` calls ``.send...()``, ``.put...()``, ``.emit()`` or ``.write...()``."""
    return any(
        isinstance(sub, cst.Call) and isinstance(sub.func, cst.Attribute) and SENDS.match(sub.func.attr.value)
        for sub in nodes
    )


def _is_self(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


def imported_from(ctx: FileContext) -> dict[str, tuple[str, str]]:
    """Local name -> (module as spelled, name) for every ``from module import name``."""
    cached = ctx.memo.get("imported_from")
    if isinstance(cached, dict):
        return cached
    out: dict[str, tuple[str, str]] = {}
    for node in ctx.nodes(cst.ImportFrom):
        if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
            continue
        dots = "." * len(node.relative)
        module = dots + (ctx.module.code_for_node(node.module) if node.module is not None else "")
        for alias in node.names:
            if isinstance(alias.name, cst.Name):
                local = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(local, cst.Name):
                    out[local.value] = (module, alias.name.value)
    ctx.memo["imported_from"] = out
    return out


#: Calls that fetch what a cache keeps: ``load_data()``, ``db.find_one(...)``, ``fetch(url)``.
_LOADERS = re.compile(
    r"(?i)^_*(load|fetch|find|query|get|read|select|compute|download|request|lookup|resolve)"
)


def filled_on_miss(
    ctx: FileContext, resolve: Callable[[cst.BaseExpression, cst.CSTNode], str | None]
) -> set[str]:
    """Containers filled when a key is missing (``if key not in self.users: doc = await
    db.find_one(...)``, ``if uid not in CACHE: CACHE[uid] = load(uid)``): a memo of data kept
    elsewhere, whatever the container is named. ``resolve`` names the container an expression is."""
    cached = ctx.memo.get("filled_on_miss")
    if isinstance(cached, set):
        return cached
    out: set[str] = set()
    for node in ctx.nodes(cst.If):
        test = node.test if isinstance(node, cst.If) else None
        if not isinstance(test, cst.Comparison) or not isinstance(node, cst.If):
            continue
        for target in test.comparisons:
            if not isinstance(target.operator, cst.NotIn):
                continue
            holder = target.comparator
            if isinstance(holder, cst.Call) and isinstance(holder.func, cst.Attribute):
                holder = holder.func.value  # ``role not in self.info.get(company, {})``
            name = resolve(holder, node)
            if name is not None and _loads(node.body):
                out.add(name)
    ctx.memo["filled_on_miss"] = out
    return out


def _loads(body: cst.CSTNode) -> bool:
    for sub in walk(body):
        if isinstance(sub, cst.Await):
            return True
        if isinstance(sub, cst.Call):
            func = sub.func
            name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
            if isinstance(name, str) and _LOADERS.match(name):
                return True
    return False


def module_containers(ctx: FileContext) -> dict[str, Kind]:
    """Names bound at module level to a mutable container."""
    found: dict[str, Kind] = {}
    for stmt in _top_level(ctx.module.body):
        if isinstance(stmt, cst.Assign):
            targets = [t.target for t in stmt.targets]
            value: cst.BaseExpression | None = stmt.value
        elif isinstance(stmt, cst.AnnAssign):
            targets, value = [stmt.target], stmt.value
        else:
            continue
        kind = container_kind(ctx, value) if value is not None else None
        if kind is None:
            continue
        for target in targets:
            if isinstance(target, cst.Name):
                found[target.value] = kind
    for view in ctx.module.body:
        if isinstance(view, cst.ClassDef) and is_view_class(view):
            for t, kind in assigned_containers(ctx, _top_level(view.body.body)):
                if isinstance(t, cst.Name):
                    found[f"{view.name.value}.{t.value}"] = kind
    instances = singletons(ctx.module)
    for cls, attrs in holder_classes(ctx).items():
        if cls in instances.values():
            continue
        for attr, kind in attrs.items():
            found[f"{cls.name.value}.{attr}"] = kind
    for instance, cls in instances.items():
        for t, kind in assigned_containers(ctx, walk(cls.body)):
            if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name):
                if t.value.value == "self":
                    found[f"{instance}.{t.attr.value}"] = kind
            elif isinstance(t, cst.Name):
                found[f"{instance}.{t.value}"] = kind
    return found


def class_attributes(ctx: FileContext) -> dict[str, Kind]:
    """``Class.attr`` for each container a module-level class keeps in its body (``SUCCESS = {...}``
    on ``class Reply:``): changed through the class (``Reply.SUCCESS.update(...)``), it is one object
    for the whole process. Only the spelling through the class counts: ``self.attr`` of a model or
    dataclass is often a per-instance default."""
    found: dict[str, Kind] = {}
    for cls in ctx.module.body:
        if isinstance(cls, cst.ClassDef) and not is_view_class(cls):
            for t, kind in assigned_containers(ctx, _top_level(cls.body.body)):
                if isinstance(t, cst.Name):
                    found[f"{cls.name.value}.{t.value}"] = kind
    return found


def shared_class_attribute(cls: cst.ClassDef, attr: str) -> bool:
    """``attr``, a container in the body of the plain class ``cls`` (no base class: not a model,
    dataclass or settings class, whose fields are per-instance defaults), is never rebound on an
    instance (``self.attr = ...``): ``self.attr[k] = v`` changes the one object every instance
    shares."""
    if cls.bases or cls.decorators:
        return False
    for node in walk(cls.body):
        if isinstance(node, cst.AssignTarget | cst.AnnAssign):
            target = node.target
            if (
                isinstance(target, cst.Attribute)
                and target.attr.value == attr
                and isinstance(target.value, cst.Name)
                and target.value.value == "self"
            ):
                return False
    return True


def _top_level(body: object) -> list[cst.BaseSmallStatement]:
    out: list[cst.BaseSmallStatement] = []
    for stmt in body if isinstance(body, list | tuple) else ():
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        elif isinstance(stmt, cst.If | cst.Try):
            out.extend(_top_level(stmt.body.body))
    return out
