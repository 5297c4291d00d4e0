"""Which functions run at request time, and which at startup, in one module.

A function runs at request time when a framework calls it per request: it is decorated as a route
(Flask ``@app.route``/``@bp.get``, FastAPI/Starlette ``@app.get``/``@router.post``, Litestar
``@get``, Socket.IO ``@sio.on``), registered with ``Route(...)``/``path(...)``/``add_url_rule``,
is a method of a class-based view, or takes the request as its first parameter. Functions that those
call by name within the same module run at request time too. Startup hooks (``on_event("startup")``,
lifespans, ``before_serving``, app factories, ``AppConfig.ready``) never do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from sessionkit.lint._vocab import (
    AIOHTTP_ROUTE_DEFS,
    AIOHTTP_SIGNALS,
    LITESTAR_HANDLERS,
    RAW_APP_SIGNATURES,
    REGISTRATION_FUNCS,
    REGISTRATION_KWARGS,
    REQUEST_ANNOTATIONS,
    REQUEST_DECORATOR_QNAMES,
    REQUEST_PARAM_NAMES,
    ROUTE_ATTRS,
    STARTUP_ATTRS,
    STARTUP_EVENTS,
    STARTUP_NAMES,
    VIEW_METHODS,
    WEBSOCKET_ATTRS,
    is_view_base,
)
from sessionkit.lint._walk import children

_QUALIFIED_TAILS = frozenset(
    {n.rsplit(".", 1)[-1] for n in REQUEST_DECORATOR_QNAMES}
    | LITESTAR_HANDLERS
    | {"asynccontextmanager", "contextmanager"}
)


#: Calls that run a callable they are given (a thread, a pool, a timer). Not FastAPI's
#: ``background_tasks.add_task(job)``: the job-queue rule reports that start, with the status the
#: job writes, as one hazard.
_RUNNERS = frozenset(
    {
        "submit",
        "start_background_task",
        "run_in_executor",
        "Thread",
        "Timer",
        "Process",
        "spawn",
        "call_soon",
        "call_later",
        "to_thread",
        "run_in_threadpool",
        "run_sync",
    }
)


def is_event_namespace(cls: cst.ClassDef) -> bool:
    """A Socket.IO class-based namespace (``socketio.Namespace``/``AsyncNamespace``, Flask-SocketIO
    ``Namespace``): every ``on_<event>`` method handles an event of a connected client."""
    return any(_dotted(base.value).rsplit(".", 1)[-1].endswith("Namespace") for base in cls.bases)


@dataclass
class ModuleFacts:
    """Result of :func:`analyse`: sets of ``FunctionDef`` nodes (compared by identity)."""

    functions: list[cst.FunctionDef] = field(default_factory=list)
    handlers: set[cst.FunctionDef] = field(default_factory=set)
    websocket_handlers: set[cst.FunctionDef] = field(default_factory=set)
    request_time: set[cst.FunctionDef] = field(default_factory=set)
    startup: set[cst.FunctionDef] = field(default_factory=set)
    #: Run in a thread, pool or timer that request-time code starts (``executor.submit(job)``):
    #: what they change is process state a request made, but they are no part of the request.
    run_by_request: set[cst.FunctionDef] = field(default_factory=set)


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return _dotted(node.func)
    return ""


class _Collector:
    """Functions (with their owning class), calls per function, route registrations."""

    def __init__(self) -> None:
        self.functions: list[tuple[cst.FunctionDef, cst.ClassDef | None]] = []
        self.calls: dict[cst.FunctionDef, set[str]] = {}
        #: Callables each function hands to a thread, a pool or a timer (``executor.submit(job)``).
        self.runs: dict[cst.FunctionDef, set[str]] = {}
        self.registered: set[str] = set()
        self.registered_startup: set[str] = set()

    def run(self, module: cst.Module) -> None:
        # Iterative walk carrying (innermost function, direct owner class) per node.
        stack: list[tuple[cst.CSTNode, cst.FunctionDef | None, cst.ClassDef | None]] = [(module, None, None)]
        while stack:
            node, fn, cls = stack.pop()
            inner_fn, inner_cls = fn, None
            if isinstance(node, cst.FunctionDef):
                self.functions.append((node, cls))
                self.calls[node] = set()
                inner_fn = node
            elif isinstance(node, cst.ClassDef):
                inner_cls = node
            elif isinstance(node, cst.Call):
                self._call(node, fn)
            if isinstance(node, cst.IndentedBlock | cst.SimpleStatementSuite):
                inner_cls = cls  # a class body's statements keep the class as owner
            if isinstance(node, cst.FunctionDef):
                # Decorators, defaults and annotations run where the function is defined.
                stack.append((node.body, inner_fn, inner_cls))
                outer = [node.params, *node.decorators]
                stack.extend((kid, fn, cls) for kid in reversed(outer))
                continue
            stack.extend((kid, inner_fn, inner_cls) for kid in reversed(list(children(node))))

    def _call(self, node: cst.Call, fn: cst.FunctionDef | None) -> None:
        name = _dotted(node.func)
        if fn is not None and name:
            parts = name.split(".")
            if len(parts) == 1 or parts[0] in {"self", "cls"}:
                self.calls[fn].add(parts[-1])
            elif len(parts) == 2:
                self.calls[fn].add(name)  # ``manager.connect()``: resolved via module singletons
        last = name.rsplit(".", 1)[-1]
        if fn is not None and last in _RUNNERS:
            # ``executor.submit(work, ...)``, ``Thread(target=work)``, ``Timer(5, work)``:
            # the callable runs because this function ran (per request, if this one does).
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value not in {"target", "func", "function", "fn"}:
                    continue
                target = _dotted(arg.value) if isinstance(arg.value, cst.Name | cst.Attribute) else ""
                parts = target.split(".")
                if len(parts) == 1 or (len(parts) == 2 and parts[0] in {"self", "cls"}):
                    self.runs.setdefault(fn, set()).add(parts[-1])
        parts = name.split(".")
        route_def = len(parts) == 2 and parts[0] == "web" and last in AIOHTTP_ROUTE_DEFS
        if last in REGISTRATION_FUNCS or route_def:
            for arg in node.args:
                if isinstance(arg.value, cst.Name | cst.Attribute) and (
                    arg.keyword is None or arg.keyword.value in REGISTRATION_KWARGS
                ):
                    self.registered.add(_dotted(arg.value).rsplit(".", 1)[-1])
        if len(parts) >= 2 and parts[-2] in AIOHTTP_SIGNALS and last in {"append", "insert", "extend"}:
            for arg in node.args:
                items = arg.value.elements if isinstance(arg.value, cst.List | cst.Tuple) else [arg.value]
                for item in items:
                    inner = item.value if isinstance(item, cst.BaseElement) else item
                    if isinstance(inner, cst.Name | cst.Attribute):
                        self.registered_startup.add(_dotted(inner).rsplit(".", 1)[-1])
        if last == "add_event_handler" and len(node.args) >= 2:
            self.registered_startup.add(_dotted(node.args[1].value))
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in {"lifespan", "on_startup", "on_shutdown"}:
                value = arg.value
                items = value.elements if isinstance(value, cst.List | cst.Tuple) else [value]
                for item in items:
                    inner = item.value if isinstance(item, cst.BaseElement) else item
                    if isinstance(inner, cst.BaseExpression):
                        self.registered_startup.add(_dotted(inner))


def is_view_class(cls: cst.ClassDef) -> bool:
    """A class-based view (Django ``View``/DRF ``APIView``, Flask ``MethodView``, Starlette
    ``HTTPEndpoint``, Litestar ``Controller``...): one class shared by every request."""
    return any(is_view_base(_dotted(base.value).rsplit(".", 1)[-1]) for base in cls.bases)


def _first_param(fn: cst.FunctionDef, in_class: bool) -> cst.Param | None:
    params = [*fn.params.posonly_params, *fn.params.params]
    if in_class and params and params[0].name.value in {"self", "cls"}:
        params = params[1:]
    return params[0] if params else None


def _takes_request(fn: cst.FunctionDef, in_class: bool) -> bool:
    names = tuple(p.name.value for p in fn.params.params)
    if in_class and names and names[0] in {"self", "cls"}:
        names = names[1:]
    if names in RAW_APP_SIGNATURES:  # a raw ASGI/WSGI application is called per request
        return True
    first = _first_param(fn, in_class)
    candidates = [first] if first is not None else []
    candidates += [p for p in fn.params.params if p.annotation is not None]
    for param in candidates:
        if param is first and param.name.value in REQUEST_PARAM_NAMES:
            return True
        if param.annotation is not None:
            ann = _dotted(param.annotation.annotation).rsplit(".", 1)[-1]
            if ann in REQUEST_ANNOTATIONS:
                return True
    return False


def _route_aliases(module: cst.Module) -> dict[str, str]:
    """``rt = app.route`` at module level: ``{"rt": "route"}`` (the decorator is then ``@rt(...)``)."""
    out: dict[str, str] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if (
                    isinstance(small, cst.Assign)
                    and isinstance(small.value, cst.Attribute)
                    and small.value.attr.value in ROUTE_ATTRS
                ):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            out[target.target.value] = small.value.attr.value
    return out


def _classify_decorator(
    dec: cst.Decorator, qnames: Callable[[cst.CSTNode], set[str]], aliases: dict[str, str] | None = None
) -> str:
    """'request', 'websocket', 'startup' or ''."""
    expr = dec.decorator
    func = expr.func if isinstance(expr, cst.Call) else expr
    if aliases and isinstance(func, cst.Name) and func.value in aliases:
        return "websocket" if aliases[func.value] in WEBSOCKET_ATTRS else "request"
    tail = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    names = qnames(func) if tail in _QUALIFIED_TAILS else set()
    if names & REQUEST_DECORATOR_QNAMES:
        return "request"
    if any(
        n.startswith(("litestar.", "starlite.")) and n.rsplit(".", 1)[-1] in LITESTAR_HANDLERS for n in names
    ):
        return "websocket" if any("websocket" in n for n in names) else "request"
    if names & {"contextlib.asynccontextmanager", "contextlib.contextmanager"}:
        return ""
    if isinstance(func, cst.Attribute):
        attr = func.attr.value
        if attr in {"on_event", "on"} and isinstance(expr, cst.Call) and expr.args:
            first = expr.args[0].value
            if isinstance(first, cst.SimpleString) and first.evaluated_value in STARTUP_EVENTS:
                return "startup"
        if attr in STARTUP_ATTRS or _dotted(func).startswith(("click.", "app.cli", "cli.")):
            return "startup"
        if attr in WEBSOCKET_ATTRS:
            return "websocket"
        if attr in ROUTE_ATTRS:
            return "request"
    return ""


def analyse(module: cst.Module, qnames: Callable[[cst.CSTNode], set[str]]) -> ModuleFacts:
    """Classify every function of ``module``."""
    collector = _Collector()
    collector.run(module)
    facts = ModuleFacts(functions=[fn for fn, _ in collector.functions])
    by_name: dict[str, list[cst.FunctionDef]] = {}
    aliases = _route_aliases(module)
    for fn, owner in collector.functions:
        name = fn.name.value
        by_name.setdefault(name, []).append(fn)
        kinds = {_classify_decorator(dec, qnames, aliases) for dec in fn.decorators}
        in_class = owner is not None
        if (
            "startup" in kinds
            or name in collector.registered_startup
            or (name in STARTUP_NAMES and "request" not in kinds and "websocket" not in kinds)
        ):
            facts.startup.add(fn)
            continue
        if "lifespan" in name:
            facts.startup.add(fn)
            continue
        if "websocket" in kinds:
            facts.handlers.add(fn)
            facts.websocket_handlers.add(fn)
        elif (
            "request" in kinds
            or name in collector.registered
            or _takes_request(fn, in_class)
            or (owner is not None and name in VIEW_METHODS and is_view_class(owner))
            or (owner is not None and name.startswith("on_") and is_event_namespace(owner))
        ):
            facts.handlers.add(fn)
        first = _first_param(fn, in_class)
        if first is not None and first.name.value in {"websocket", "ws"}:
            facts.websocket_handlers.add(fn)
    methods = _singleton_methods(module, collector)

    def reach(start: set[cst.FunctionDef], runs: bool) -> set[cst.FunctionDef]:
        pending = list(start)
        seen = set(pending)
        while pending:
            fn = pending.pop()
            callees = collector.calls.get(fn, set()) | (collector.runs.get(fn, set()) if runs else set())
            for callee in callees:
                targets = methods.get(callee, []) if "." in callee else by_name.get(callee, [])
                for target in targets:
                    if target not in seen and target not in facts.startup:
                        seen.add(target)
                        pending.append(target)
        return seen

    facts.request_time = reach(set(facts.handlers), runs=False)
    if collector.runs:
        facts.run_by_request = reach(facts.request_time, runs=True) - facts.request_time
    return facts


def singletons(module: cst.Module) -> dict[str, cst.ClassDef]:
    """Module-level ``name = SomeClass(...)`` where ``SomeClass`` is defined in this module."""
    classes = {stmt.name.value: stmt for stmt in module.body if isinstance(stmt, cst.ClassDef)}
    found: dict[str, cst.ClassDef] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if (
                isinstance(small, cst.Assign)
                and isinstance(small.value, cst.Call)
                and isinstance(small.value.func, cst.Name)
                and small.value.func.value in classes
            ):
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        found[target.target.value] = classes[small.value.func.value]
    return found


def _singleton_methods(module: cst.Module, collector: _Collector) -> dict[str, list[cst.FunctionDef]]:
    """``"manager.connect"`` -> the ``connect`` method(s) of the class ``manager`` instantiates;
    ``"File.store"`` -> the ``store`` method of the module's class ``File``."""
    out: dict[str, list[cst.FunctionDef]] = {}
    instances = singletons(module)
    classes = {id(stmt) for stmt in module.body if isinstance(stmt, cst.ClassDef)}
    for fn, owner in collector.functions:
        if owner is None:
            continue
        if id(owner) in classes:  # ``File.store(...)``: a static or class method called by name
            out.setdefault(f"{owner.name.value}.{fn.name.value}", []).append(fn)
        for name, cls in instances.items():
            if cls is owner:
                out.setdefault(f"{name}.{fn.name.value}", []).append(fn)
    return out
