"""Module-level mutable containers and where request-time code mutates them.

Shared by the module-state, memoization, websocket-registry and job-queue rules: each mutation is
classified once, and exactly one of those rules reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint._handlers import singletons
from sessionkit.lint._walk import walk
from sessionkit.lint.rules._aliases import element_source, first_attribute, root_name, statement_id
from sessionkit.lint.rules._containers import (
    Kind,
    class_attributes,
    filled_on_miss,
    holder_classes,
    imported_from,
    module_containers,
    self_attr_in,
    sends,
    shared_class_attribute,
)
from sessionkit.lint.rules._names import (
    APP_HELD,
    FAN_OUT,
    GROUP_NAMES,
    JOB_NAMES,
    JOB_STORE_NAMES,
    MUTATORS,
    PUSH_NAMES,
    SOCKETS_NAMED,
    WS_NAMES,
    app_held,
    cache_named,
    puts_message,
    rate_named,
    session_ids_named,
    session_store,
    starts_job,
)
from sessionkit.lint.rules._registry import (
    connection_id,
    record_field,
    socket_value,
    takes_websocket,
)

Role = Literal["state", "websocket", "jobs", "cache", "app", "sessions", "ratelimit"]


@dataclass(frozen=True)
class Mutation:
    node: cst.CSTNode
    name: str
    role: Role
    #: Not in a request handler of this module: the function other modules call (see
    #: ``FileContext.deferred``); the cross-file phase decides.
    deferred: str | None = None
    #: For a ``jobs`` mutation at the call that runs the job in this process (``add_task``,
    #: ``Thread(...)``): the name of the status store the handler also writes.
    started: bool = False


def request_time_mutations(ctx: FileContext) -> list[Mutation]:
    """Every request-time mutation of a module-level container, classified by role."""
    cached = ctx.memo.get("mutations")
    if isinstance(cached, list):
        return cached
    out: list[Mutation] = []
    containers = module_containers(ctx)
    through_class = {k: v for k, v in class_attributes(ctx).items() if k not in containers}
    shared = sorted(n for n in containers if "." not in n or n.partition(".")[0] in singletons(ctx.module))
    if shared or through_class:  # other modules may import and mutate them (see ``links.reached``)
        ctx.facts["containers"] = sorted({*shared, *through_class})
    if not ctx.functions.functions:
        ctx.memo["mutations"] = out
        return out
    if (
        containers
        or through_class
        or singletons(ctx.module)
        or APP_HELD.search(ctx.source if ctx.source is not None else ctx.module.code)
        or imported_from(ctx)
    ):
        collector = _Mutations(ctx, {**containers, **through_class}, set(through_class))
        for node in ctx.nodes(*_DISPATCH):
            _DISPATCH[type(node)](collector, node)
        # One container, one role: a registry is a registry where sockets leave it too (a
        # `remove(conn)` in `disconnect()` carries no websocket hint of its own).
        # A dict of player records keyed by the connection's id (``players[sid] = {"score": 0}``)
        # is game state wherever it changes, also where a connection's entry leaves it.
        records = collector.records
        registries = {m.name for m in collector.found if m.role == "websocket"} - records
        out = [
            Mutation(m.node, m.name, "state", m.deferred)
            if m.name in records and m.role == "websocket"
            else Mutation(m.node, m.name, "websocket", m.deferred)
            if m.name in registries and m.role in ("state", "app")
            # a matchmaking ``queue`` of player records: game state, not a job queue
            else Mutation(m.node, m.name, "state", m.deferred)
            if m.role == "jobs" and m.name.partition("[")[0] in collector.member_lists
            else m
            for m in collector.found
        ]
        out = _jobs_started_here(ctx, out, containers)
    ctx.memo["mutations"] = out
    return out


#: Methods that containers and many other objects have alike (``cache.update()``, ``queue.put()``).
_AMBIGUOUS = frozenset({"update", "pop", "clear", "remove", "put", "put_nowait", "get"})


def _extension_call(held: cst.BaseExpression, where: cst.CSTNode) -> bool:
    """``current_app.cache.update(...)``: Flask and Quart hang extension objects off the app
    (``current_app.cache``, ``current_app.db``), so a method that containers and those objects
    share says nothing about a container; ``current_app.games[k] = v`` still does."""
    return (
        isinstance(held, cst.Attribute)
        and isinstance(held.value, cst.Name)
        and held.value.value == "current_app"
        and isinstance(where, cst.Call)
        and isinstance(where.func, cst.Attribute)
        and where.func.value is held
        and where.func.attr.value in _AMBIGUOUS
    )


def _app_role(held: str, role: Role) -> Role:
    """The role of a container kept on the application object: its own state, unless its name
    says it holds the websockets themselves (``app["ws_connections"][uid] = resp``), a registry."""
    if role != "state":
        return role
    key = held.removeprefix("app").strip("[]'\".")
    return "websocket" if SOCKETS_NAMED.search(key) else "app"


def _jobs_started_here(
    ctx: FileContext, found: list[Mutation], containers: dict[str, Kind]
) -> list[Mutation]:
    """A container named for its jobs (``jobs``, ``task_status``, ``active_runs``) is an in-process job
    store (SK115) at every statement that writes it; another job-ish name (``results``, ``status``)
    is module state. A handler that also starts the job in this process: the start
    (``background_tasks.add_task(work, jid)``, ``Thread(target=work).start()``) is an SK115 of its
    own, each at the line a person changes."""
    out: list[Mutation] = []
    for m in found:
        functions = ctx.enclosing_functions(m.node)
        if m.role != "jobs" or containers.get(m.name) == "queue" or not functions:
            out.append(m)
            continue
        start = next((call for call in walk(functions[0].body) if starts_job(call)), None)
        role: Role = "jobs" if JOB_STORE_NAMES.search(m.name.partition("[")[0]) else "state"
        out.append(Mutation(m.node, m.name, role, m.deferred))
        if start is not None:
            out.append(Mutation(start, m.name, "jobs", m.deferred, started=True))
    return out


def _player_record(value: cst.CSTNode | None) -> bool:
    """A dict literal of named fields, none of them a connection: ``{"name": n, "score": 0}``."""
    return (
        isinstance(value, cst.Dict)
        and bool(value.elements)
        and all(
            isinstance(e, cst.DictElement)
            and isinstance(e.key, cst.SimpleString)
            and not socket_value(e.value)
            for e in value.elements
        )
    )


class _Mutations:
    def __init__(self, ctx: FileContext, containers: dict[str, Kind], through_class: set[str]) -> None:
        self.ctx = ctx
        self.containers = containers
        #: Class attributes that are module state only when changed through the class.
        self.through_class = through_class
        self.found: list[Mutation] = []
        self.seen: set[tuple[str, int, bool]] = set()
        #: Containers whose entries are records of a connection (``{"sid": sid, "name": n}``):
        #: players or members waiting, not jobs, even in a container named ``queue``.
        self.member_lists: set[str] = set()
        self._member_record = False
        #: Containers of player records keyed by a connection id (see ``_player_record``).
        self.records: set[str] = set()
        self._player_record = False
        self.singletons = singletons(ctx.module)
        #: Classes (and their module-level instances) with a fan-out method: a pub/sub registry.
        self.fan_out: set[str] = set()
        #: (class, attr) where a method sends to every element of ``self.attr``.
        self.sent_to: set[tuple[str, str]] = set()
        holders = holder_classes(ctx)
        self.holders = {cls.name.value for cls in holders} - {c.name.value for c in self.singletons.values()}
        for cls in holders:
            names = {cls.name.value, *(i for i, c in self.singletons.items() if c is cls)}
            if any(isinstance(f, cst.FunctionDef) and FAN_OUT.search(f.name.value) for f in cls.body.body):
                self.fan_out.update(names)
            for method in cls.body.body:
                if not isinstance(method, cst.FunctionDef):
                    continue
                nodes = list(walk(method.body))
                iterated = {
                    attr
                    for loop in nodes
                    if isinstance(loop, cst.For | cst.CompFor)
                    and (attr := self_attr_in(loop.iter)) is not None
                }
                if iterated and sends(nodes):
                    self.sent_to.update((n, attr) for n in names for attr in iterated)

    def _hit(self, name_node: cst.BaseExpression, where: cst.CSTNode, added: cst.CSTNode | None) -> None:
        start = name_node
        while True:
            held = app_held(name_node)
            if held is not None and _extension_call(name_node, where):
                return  # ``current_app.cache.update(...)``: a method of an extension object
            if held is not None:
                if self.ctx.is_request_time(where):
                    role = self._role_of(held, "container", where, added)
                    self.found.append(Mutation(where, held, _app_role(held, role)))
                return
            if not isinstance(name_node, cst.Subscript):
                break
            name_node = name_node.value  # ``ROOMS[room]["votes"].append(v)`` changes ``ROOMS``
        element = name_node is not start  # an element of the container changes, not its size
        part = ""  # the element's attribute that changes: ``rooms[].players``
        if isinstance(name_node, cst.Attribute):  # ``room.players.append(p)``, ``room = ROOMS.get(k)``
            source = self._element_of(name_node, where)
            if source is not None:
                part = f"[].{first_attribute(name_node)}"
                name_node, element = source, True
        if isinstance(name_node, cst.Name):
            aliased = self._loop_alias(name_node, where)
            if aliased is name_node:
                aliased = self._element_of(name_node, where) or name_node
            if aliased is not name_node and not element and puts_message(where):
                return  # ``for q in subscribers: q.put(msg)``: a fan-out, the container is unchanged
            element = element or aliased is not name_node
            name_node = aliased
        attr = self._singleton_attr(name_node, where)
        if attr is None and isinstance(name_node, cst.Name) and name_node.value not in self.containers:
            self._imported(name_node, where, added, part)
            return
        if attr is None and isinstance(name_node, cst.Attribute) and isinstance(name_node.value, cst.Name):
            # ``Reply.SUCCESS.update(...)``, ``state.clients[ws] = ...`` on an imported class/object
            self._imported(name_node.value, where, added, f".{name_node.attr.value}{part}")
            return
        if attr is None and not isinstance(name_node, cst.Name):
            return
        now = self.ctx.is_request_time(where, runs=True)
        deferred = None if now else self.ctx.deferred(where)
        if attr in self.through_class and deferred is not None:
            # A class attribute every instance shares: whoever calls the method changes it,
            # whether or not the instance outlives the request (``Class(*).method``).
            deferred = deferred.replace("().", "(*).")
        elif attr is not None and attr.partition(".")[0] in self.holders:
            # Process-wide only if some module keeps an instance (decided across files).
            deferred = self.ctx.deferred(where)
            if deferred is None:
                return
        if deferred is None and not now:
            return
        name = attr if attr is not None else self.ctx.module_binding(name_node)
        if name is None or name not in self.containers:
            return
        if self._member_record:
            self.member_lists.add(name)
        if self._player_record and not part:
            self.records.add(name)
        kind, name = self.containers[name], name + part
        functions = self.ctx.enclosing_functions(where)
        role = self._role_of(name, kind, where, added)
        # Once per statement that changes it, a connection registry's joins and leaves included:
        # each site is a line to change.
        key = (name, 0 if not functions else statement_id(self.ctx, where), element)
        if key in self.seen:
            return
        self.seen.add(key)
        self.found.append(Mutation(where, name, role, deferred))

    def _container(self, node: cst.BaseExpression, where: cst.CSTNode) -> str | None:
        """The module-level container ``node`` is (``CACHE``, ``self.users`` of a singleton)."""
        if isinstance(node, cst.Attribute):
            return self._singleton_attr(node, where)
        name = self.ctx.module_binding(node)
        return name if name in self.containers else None

    def _element_of(self, node: cst.BaseExpression, where: cst.CSTNode) -> cst.Name | None:
        """The container whose element the local name at the root of ``node`` holds."""
        root = root_name(node)
        if root is None or root.value in self.containers or root.value in self.singletons:
            return None
        imported = imported_from(self.ctx)
        return element_source(
            self.ctx, root, where, lambda n: n.value in self.containers or n.value in imported
        )

    def _loop_alias(self, name: cst.Name, where: cst.CSTNode) -> cst.Name:
        """``for room in ROOMS: room["votes"].append(v)`` (or ``ROOMS.values()``): ``ROOMS``."""
        if name.value in self.containers:
            return name
        for node in self.ctx.ancestors(where):
            if isinstance(node, cst.FunctionDef):
                break
            if isinstance(node, cst.For) and isinstance(node.target, cst.Name):
                if node.target.value != name.value:
                    continue
                source = node.iter
                if (
                    isinstance(source, cst.Call)
                    and isinstance(source.func, cst.Attribute)
                    and source.func.attr.value == "values"
                ):
                    source = source.func.value
                if isinstance(source, cst.Name) and source.value in self.containers:
                    return source
                break
        return name

    def _imported(
        self, name: cst.Name, where: cst.CSTNode, added: cst.CSTNode | None, part: str = ""
    ) -> None:
        """A request handler mutating a name imported from another module: a finding if the
        project module it comes from binds it to a container (decided across files)."""
        origin = imported_from(self.ctx).get(name.value)
        if origin is None or not self.ctx.is_request_time(where) or self.ctx.module_binding(name) is None:
            return
        functions = self.ctx.enclosing_functions(where)
        key = (name.value + part, statement_id(self.ctx, where) if functions else 0, False)
        if key in self.seen:
            return
        self.seen.add(key)
        if self._member_record:
            self.member_lists.add(name.value)
        role = self._role_of(name.value + part, "container", where, added)
        held = origin[1] + part.partition("[]")[0]  # the name the defining module lists
        self.found.append(Mutation(where, name.value + part, role, f"{origin[0]}:{held}"))

    def _singleton_attr(self, node: cst.BaseExpression, where: cst.CSTNode) -> str | None:
        """``self.attr`` inside a method of a class with one module-level instance, when ``attr``
        is a container: that is module state too (the FastAPI ``ConnectionManager`` pattern).
        Likewise a container class attribute of a class-based view, through ``self`` or the class."""
        if not (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)):
            return None
        if node.value.value not in {"self", "cls"}:
            key = f"{node.value.value}.{node.attr.value}"
            return key if key in self.containers and self.ctx.module_binding(node.value) else None
        for fn in self.ctx.enclosing_functions(where)[:1]:
            block = self.ctx.parents.get(fn)
            owner = self.ctx.parents.get(block) if block is not None else None
            key = f"{owner.name.value}.{node.attr.value}" if isinstance(owner, cst.ClassDef) else ""
            if key in self.containers and (
                key not in self.through_class
                or node.value.value == "cls"  # ``cls._cache[k] = v`` in a classmethod
                or (isinstance(owner, cst.ClassDef) and shared_class_attribute(owner, node.attr.value))
            ):
                return key
            for instance, cls in self.singletons.items():
                key = f"{instance}.{node.attr.value}"
                if cls is owner and key in self.containers:
                    return key
        return None

    def _role_of(self, name: str, kind: Kind, where: cst.CSTNode, added: cst.CSTNode | None) -> Role:
        head, _, tail = name.partition(".")
        # ``QuizCache._cache`` is a cache; ``AttemptCache._active`` (a class named for what the
        # author thinks it is) holds state: a class's attribute is judged by its own name.
        if rate_named(name):  # ``app.cooldowns[action][uid] = now + 5s``: a hand-made rate limit
            return "ratelimit"
        if kind == "cache" or cache_named(tail if head[:1].isupper() and tail else name):
            return "cache"
        if PUSH_NAMES.search(name):
            return "websocket"
        if (
            session_store(name)
            # keyed by a connection (``request.sid``, ``ws``); a local ``sid`` is a session id
            and not (
                added is not None
                and socket_value(added)
                and not (isinstance(added, cst.Name) and connection_id(added))
            )
            # a websocket consumer's ``sessions`` are its live editing sessions, not logins
            and (session_ids_named(name) or not takes_websocket(self.ctx, where))
        ):
            return "sessions"  # ``admin_sessions[sid] = {...}``: login sessions kept in process memory
        owner, _, attr = name.rpartition(".")
        if WS_NAMES.search(attr) and (owner in self.fan_out or (owner, attr) in self.sent_to):
            return "websocket"  # ``Broker.connections`` of a class with ``publish()``
        # Entries that are (or are keyed by) a connection make a registry, whatever its name.
        if added is not None and socket_value(added):
            return "websocket"
        if name in filled_on_miss(self.ctx, self._container):
            return "cache"  # ``if uid not in self.users: doc = await db.find_one(...)``
        if GROUP_NAMES.search(name) or "[]." in name:
            return "state"  # a registry only where a connection joins it (see above)
        if kind == "queue" or JOB_NAMES.search(name):
            return "jobs"
        # A class attribute is judged by its own name: ``WSGame.games`` holds games, whatever the
        # endpoint class is called.
        own = tail if head[:1].isupper() and tail else name
        if self.ctx.is_websocket_handler(where) and WS_NAMES.search(own):
            return "websocket"
        if WS_NAMES.search(own) and takes_websocket(self.ctx, where):
            return "websocket"
        functions = self.ctx.enclosing_functions(where)
        if WS_NAMES.search(own) and any(PUSH_NAMES.search(fn.name.value) for fn in functions):
            return "websocket"  # ``_active_connections.add(queue)`` in an SSE ``event_stream()``
        return "state"

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in MUTATORS:
            added = node.args[-1].value if node.args else None
            added = next((a.value for a in node.args if socket_value(a.value)), added)
            parent = self.ctx.parents.get(node)  # ``ROOMS.setdefault(r, set()).add(ws)``
            outer = self.ctx.parents.get(parent) if isinstance(parent, cst.Attribute) else None
            if isinstance(outer, cst.Call):
                added = next((a.value for a in outer.args if socket_value(a.value)), added)
            self._member_record = isinstance(added, cst.Dict) and any(
                isinstance(e, cst.DictElement) and connection_id(e.value) for e in added.elements
            )
            self._hit(func.value, node, added)
            self._member_record = False

    def _target(self, target: cst.BaseExpression, where: cst.CSTNode, added: cst.CSTNode | None) -> None:
        if isinstance(target, cst.Subscript):
            key = target.slice[0].slice if len(target.slice) == 1 else None
            if isinstance(key, cst.Index) and connection_id(key.value) and _player_record(added):
                # ``players[sid] = {"name": n, "score": 0}``: a player's game record, keyed by the
                # connection's id; the container holds game state, not connections
                self._player_record = True
                self._hit(target.value, where, added)
                self._player_record = False
                return
            if isinstance(key, cst.Index) and socket_value(key.value) and not record_field(target.value):
                added = key.value  # ``last_seen[ws] = now``: per-connection data of a registry
            elif added is not None and connection_id(added) and record_field(target):
                # ``room["host"] = sid``, ``rooms[c]["answers"][sid] = a``: a field of a room's
                # record (game state) holds a connection's id; the rooms are not a registry
                self._member_record = True
                self._hit(target.value, where, None)
                self._member_record = False
                return
            held = app_held(target)
            if held is not None and self.ctx.is_request_time(where):
                # ``request.app["counter"] += 1``: the application object's own entry changes
                role = self._role_of(held, "container", where, added)
                self.found.append(Mutation(where, held, _app_role(held, role)))
                return
            self._hit(target.value, where, added)
        elif isinstance(target, cst.Attribute):
            if self._element_of(target.value, where) is not None:  # ``room.started = True``
                # ``room.host = sid``: a field of the element holds a connection's id
                self._hit(target, where, None if added is not None and connection_id(added) else added)
            else:
                self._rebind(target, where)

    def _rebind(self, target: cst.Attribute, where: cst.CSTNode) -> None:
        """An attribute of a module-level singleton (an instance of a class defined in this
        module) rebound at request time: ``stats.count += 1``, or ``self.count += 1`` in one of
        its methods. The object lives in one process, like a module-level container."""
        owner = target.value
        if not isinstance(owner, cst.Name):
            return
        name: str | None = None
        if owner.value == "self":
            for fn in self.ctx.enclosing_functions(where)[:1]:
                block = self.ctx.parents.get(fn)
                cls = self.ctx.parents.get(block) if block is not None else None
                for instance, defined in self.singletons.items():
                    if defined is cls and fn.name.value != "__init__":
                        name = f"{instance}.{target.attr.value}"
                holder = cls.name.value if isinstance(cls, cst.ClassDef) else ""
                if name is None and holder in self.holders and fn.name.value != "__init__":
                    # a registry class kept by some module (decided across files, see ``_hit``)
                    deferred = self.ctx.deferred(where)
                    if deferred is not None:
                        self._record(f"{holder}.{target.attr.value}", where, deferred)
                    return
        elif owner.value in self.singletons and self.ctx.module_binding(owner) is not None:
            name = f"{owner.value}.{target.attr.value}"
        if name is None:
            return
        deferred = None if self.ctx.is_request_time(where) else self.ctx.deferred(where)
        if deferred is None and not self.ctx.is_request_time(where):
            return
        self._record(name, where, deferred)

    def _record(self, name: str, where: cst.CSTNode, deferred: str | None) -> None:
        functions = self.ctx.enclosing_functions(where)
        key = (name, statement_id(self.ctx, where) if functions else 0, False)
        if key in self.seen:
            return
        self.seen.add(key)
        role: Role = (
            "ratelimit"
            if rate_named(name)
            else "cache"
            if cache_named(name)
            else "sessions"
            if session_store(name)
            else "state"
        )
        self.found.append(Mutation(where, name, role, deferred))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target(target.target, node, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target, node, node.value)

    def visit_Del(self, node: cst.Del) -> None:
        self._target(node.target, node, None)


_DISPATCH: dict[type[cst.CSTNode], Callable[[_Mutations, Any], None]] = {
    cst.Call: _Mutations.visit_Call,
    cst.Assign: _Mutations.visit_Assign,
    cst.AugAssign: _Mutations.visit_AugAssign,
    cst.Del: _Mutations.visit_Del,
}
