"""Work queues a web process creates for its own consumers (``queue.Queue`` drained by a thread).

The queue is one hazard, anchored where it is created: the module-level (or ``__init__``, or
application-object) assignment of a queue in a module that also starts the in-process consumer
(a thread, a task, a background task). Putting work on it is the same hazard, not another site.
"""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint.rules._names import app_held

QUEUE_TYPES = frozenset(
    {
        "queue.Queue",
        "queue.SimpleQueue",
        "queue.PriorityQueue",
        "queue.LifoQueue",
        "asyncio.Queue",
        "asyncio.PriorityQueue",
        "asyncio.LifoQueue",
        "janus.Queue",
        "multiprocessing.Queue",
        "gevent.queue.Queue",
    }
)
#: The module starts a consumer inside the web process.
CONSUMER = re.compile(
    r"\bThread\(|create_task\(|ensure_future\(|add_task\(|start_background_task\(|spawn\(|\.submit\("
)
#: A project class named as a queue (``RecheckPriorityQueue()``) built at module level.
QUEUE_CLASS = re.compile(r"^[A-Z]\w*Queue$")
QUEUE_NAME = re.compile(r"(?i)(^|[._])(\w*_)?(q|queue)s?$")


def _is_queue(ctx: FileContext, call: cst.Call, module_level: bool) -> bool:
    if ctx.calls(call, QUEUE_TYPES):
        return True
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    return module_level and isinstance(name, str) and bool(QUEUE_CLASS.match(name))


def created_queues(ctx: FileContext) -> list[tuple[cst.Assign, str]]:
    """``(assignment, name)`` for each work queue this module creates for an in-process consumer."""
    source = ctx.source if ctx.source is not None else ctx.module.code
    if "Queue" not in source or not CONSUMER.search(source):
        return []
    out: list[tuple[cst.Assign, str]] = []
    for node in ctx.nodes(cst.Assign):
        assert isinstance(node, cst.Assign)
        if len(node.targets) != 1 or not isinstance(node.value, cst.Call):
            continue
        target = node.targets[0].target
        functions = ctx.enclosing_functions(node)
        held = app_held(target) if isinstance(target, cst.Attribute | cst.Subscript) else None
        if isinstance(target, cst.Name) and not functions:
            name = target.value
        elif held is not None:
            name = held  # ``app.ctx.queue = asyncio.Queue()`` in a startup listener
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
            and functions
            and functions[0].name.value == "__init__"
        ):
            name = f"self.{target.attr.value}"
        else:
            continue
        if _is_queue(ctx, node.value, not functions) and not ctx.in_test_config(node):
            out.append((node, name))
    return out


def queue_named(name: str) -> bool:
    """``work_queue``, ``app.ctx.queue``, ``q``: a container named as a queue."""
    return bool(QUEUE_NAME.search(name))
