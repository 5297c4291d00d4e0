"""Connection registries: what holds a connection, and which changes take entries out."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint.rules._names import CONNECTION_ID, SOCKET_VALUE

REMOVERS = frozenset({"remove", "discard", "pop", "popitem", "clear"})


def socket_value(node: cst.CSTNode) -> bool:
    """A name that holds a connection: ``ws``, ``websocket``, ``client_socket``, ``sid``, or
    Flask-SocketIO's ``request.sid`` (the connection of the event being handled)."""
    if isinstance(node, cst.Attribute):
        return node.attr.value == "sid" and isinstance(node.value, cst.Name) and node.value.value == "request"
    return isinstance(node, cst.Name) and SOCKET_VALUE.search(node.value) is not None


def connection_id(node: cst.CSTNode) -> bool:
    """An id naming a connection rather than the connection itself: ``sid``, ``player_sid``,
    Flask-SocketIO's ``request.sid``."""
    if isinstance(node, cst.Attribute):
        return node.attr.value == "sid" and isinstance(node.value, cst.Name) and node.value.value == "request"
    return isinstance(node, cst.Name) and CONNECTION_ID.search(node.value) is not None


def record_field(node: cst.BaseExpression) -> bool:
    """``room["answers"]``, ``rooms[code]["players"][i]``: a named field of a record is in the
    subscript chain (the record holds game or chat state; an id stored there is one of its fields)."""
    while isinstance(node, cst.Subscript):
        index = node.slice[0].slice if len(node.slice) == 1 else None
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            return True
        node = node.value
    return False


def removes_entry(node: cst.CSTNode) -> bool:
    """``conns.remove(ws)``, ``del conns[ws]``, ``CACHE.clear()``: entries leave, none come in."""
    if isinstance(node, cst.Del):
        return True
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in REMOVERS
    )


#: Classes whose instances are one websocket connection each (Channels consumers).
WEBSOCKET_BASE = re.compile(r"(?i)websocket\w*consumer")


def takes_websocket(ctx: FileContext, where: cst.CSTNode) -> bool:
    """In a websocket handler, or a method given the websocket (``manager.connect(ws)``)."""
    if ctx.is_websocket_handler(where):
        return True
    for fn in ctx.enclosing_functions(where)[:1]:
        for param in fn.params.params:
            annotation = param.annotation
            text = ctx.module.code_for_node(annotation.annotation) if annotation else ""
            if param.name.value in {"websocket", "ws", "socket"} or "WebSocket" in text:
                return True
        block = ctx.parents.get(fn)
        owner = ctx.parents.get(block) if block is not None else None
        if isinstance(owner, cst.ClassDef) and any(
            WEBSOCKET_BASE.search(ctx.module.code_for_node(base.value)) for base in owner.bases
        ):
            return True  # a method of a Channels ``WebsocketConsumer``: ``self`` is the connection
    return False
