"""Litestar's store registry: which named store (``stores={"sessions": ...}``) is process-local.

Litestar resolves a store by name: ``ServerSideSessionConfig`` uses ``"sessions"`` unless given
``store=``, the response cache ``"response_cache"`` unless ``ResponseCacheConfig(store=...)``; a
name nobody registered gets a fresh ``MemoryStore``. ``MemoryStore`` and ``FileStore`` keep data in
one process or on one pod's disk; ``RedisStore`` (and anything else) is taken as shared.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint.rules._util import dict_entries, keyword, string_value

LOCAL_STORES = {
    "litestar.stores.memory.MemoryStore": "in-memory",
    "litestar.stores.file.FileStore": "file",
    "starlite.storage.memory_backend.MemoryBackend": "in-memory",
}
_LOCAL_NAMES = frozenset(LOCAL_STORES)
SESSION_CONFIGS = frozenset(
    {
        "litestar.middleware.session.server_side.ServerSideSessionConfig",
        "litestar.middleware.session.ServerSideSessionConfig",
    }
)
CACHE_CONFIGS = frozenset(
    {"litestar.config.response_cache.ResponseCacheConfig", "litestar.config.cache.ResponseCacheConfig"}
)


@dataclass(frozen=True)
class Registered:
    """One ``stores=`` entry: its name, the value node, and ``"in-memory"``/``"file"`` when local."""

    name: str
    value: cst.BaseExpression
    local: str | None


def local_kind(ctx: FileContext, value: cst.BaseExpression) -> str | None:
    """``"in-memory"``/``"file"`` when ``value`` constructs a process-local Litestar store."""
    if isinstance(value, cst.Call) and ctx.refers_to(value.func, _LOCAL_NAMES):
        for name in ctx.qnames(value.func):
            if name in LOCAL_STORES:
                return LOCAL_STORES[name]
    return None


def registry(ctx: FileContext) -> list[Registered]:
    """Every ``stores={...}`` entry of the file (a dict passed as ``stores=`` or bound to ``stores``)."""
    cached = ctx.memo.get("litestar_stores")
    if isinstance(cached, list):
        return cached
    out: list[Registered] = []
    mappings: list[cst.BaseExpression] = []
    for call in ctx.nodes(cst.Call):
        arg = keyword(call, "stores") if isinstance(call, cst.Call) else None
        if arg is not None:
            mappings.append(arg.value)
    for assign in ctx.nodes(cst.Assign):  # ``stores = {...}`` passed on by name
        if isinstance(assign, cst.Assign) and any(
            isinstance(t.target, cst.Name) and t.target.value == "stores" for t in assign.targets
        ):
            mappings.append(assign.value)
    for mapping in mappings:
        for name, value, _ in dict_entries(mapping):
            out.append(Registered(name, value, local_kind(ctx, value)))
    ctx.memo["litestar_stores"] = out
    return out


def store_name(call: cst.Call, default: str) -> str | None:
    """The store name a session/cache config uses; ``None`` when it is not a literal."""
    arg = keyword(call, "store")
    if arg is None:
        return default
    return string_value(arg.value)
