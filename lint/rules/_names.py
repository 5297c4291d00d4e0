"""The names and shapes the state rules classify mutations by: container mutator methods, the
naming patterns of connection registries, jobs and caches, and containers the application object
holds (``app["k"]``, ``app.state.k``, ``app.ctx.k``)."""

from __future__ import annotations

import re

import libcst as cst

MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "popitem",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "appendleft",
        "extendleft",
        "put",
        "put_nowait",
        "__setitem__",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "sort",
        "reverse",
    }
)
WS_NAMES = re.compile(
    r"(?i)conn|client|socket|subscriber|websocket|(^|_)ws|peer|listener|room|channel|online|(^|_)sids?($|_)"
)
#: Names that say what a container groups, not what it holds (``rooms`` may hold game state): a
#: registry only when a connection is added to it.
GROUP_NAMES = re.compile(r"(?i)^(\w+\.)?(rooms?|channels?|online)(_\w*)?$")
#: Events pushed to connected clients (SSE, websockets): a registry of their streams.
PUSH_NAMES = re.compile(r"(?i)notif|broadcast|(^|[._])sse($|_)|event_stream")
FAN_OUT = re.compile(r"(?i)^(publish|broadcast|notify|emit|send_(to_)?all|fan_?out)")
#: A value that is a connection: ``ws``, ``websocket``, ``ws_current``, ``client_socket``, ``sid``.
SOCKET_VALUE = re.compile(r"(?i)(^|_)(ws|websocket|socket|sid|connection)(_|$)")
JOB_NAMES = re.compile(r"(?i)job|task|result|status|progress|queue|pending|work")
CACHE_NAMES = re.compile(r"(?i)cache|memo")


#: Containers the application object holds: ``app["k"]`` (aiohttp), ``app.state.k``
#: (Starlette/FastAPI/Litestar), ``app.ctx.k`` (Sanic), also through ``request.app``.
APP_HELD = re.compile(r"\bapp(\[|\.(state|ctx)\.)")
APP_OWNERS = frozenset({"app", "application"})


def app_object(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value in APP_OWNERS
    return isinstance(node, cst.Attribute) and node.attr.value == "app"


def app_held(node: cst.BaseExpression) -> str | None:
    """``app["sockets"]`` -> ``app["sockets"]``; ``request.app.state.rooms`` -> ``app.state.rooms``."""
    if isinstance(node, cst.Subscript) and app_object(node.value) and len(node.slice) == 1:
        index = node.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString | cst.Name):
            key = index.value.value  # a string, or an aiohttp ``AppKey`` constant
            return f"app[{key}]"
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Attribute):
        holder = node.value
        if holder.attr.value in {"state", "ctx"} and app_object(holder.value):
            return f"app.{holder.attr.value}.{node.attr.value}"
    return None


#: Calls that run work inside this process after (or beside) the response.
JOB_STARTERS = frozenset({"add_task", "start_background_task", "create_task", "ensure_future", "submit"})


def puts_message(node: cst.CSTNode) -> bool:
    """``q.put(msg)``: a message handed to a subscriber's queue."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in {"put", "put_nowait"}
    )


def starts_job(node: cst.CSTNode) -> bool:
    """``add_task(...)``, ``create_task(...)``, ``Thread(target=...)``: work run in this process."""
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    return name in JOB_STARTERS or (
        name in {"Thread", "Process"}
        and any(a.keyword is not None and a.keyword.value == "target" for a in node.args)
    )
