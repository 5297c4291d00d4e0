"""Category 2: server-side sessions kept in process memory by ASGI frameworks' session stores."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import STARLETTE_STORE, Rule, examples
from sessionkit.lint.rules._util import keyword, walk

ASGI_MEMORY_STORES = frozenset(
    {
        "litestar.stores.memory.MemoryStore",
        "starsessions.InMemoryStore",
        "starsessions.stores.memory.InMemoryStore",
        "fastapi_sessions.backends.implementations.InMemoryBackend",
        "fastapi_sessions.backends.implementations.in_memory_backend.InMemoryBackend",
        "aiohttp_session.SimpleCookieStorage",
    }
)
LITESTAR_SERVER_SIDE = frozenset(
    {
        "litestar.middleware.session.server_side.ServerSideSessionConfig",
        "litestar.middleware.session.ServerSideSessionConfig",
    }
)


class AsgiMemorySessions(Rule):
    """Server-side sessions on an in-memory store in Starlette/FastAPI/Litestar apps.

    Litestar's ``ServerSideSessionConfig`` uses the app's default ``MemoryStore`` unless a shared
    store is registered; starsessions ``InMemoryStore`` and fastapi-sessions ``InMemoryBackend``
    keep sessions in the process.
    """

    code = "SK302"
    name = "asgi-memory-sessions"
    category = "local-sessions"
    severity = "error"
    remedy = "externalize"
    prefilter = (r"MemoryStore|InMemory|ServerSideSessionConfig|SimpleCookieStorage",)
    message = (
        "server-side sessions held in process memory vanish when the next request reaches another "
        f"replica; {STARLETTE_STORE} (Litestar: register a RedisStore under `stores=`)"
    )
    fix_hint = "Use a Redis-backed session store shared by all replicas."
    valid = examples(
        """
            from litestar import Litestar
            from litestar.middleware.session.server_side import ServerSideSessionConfig
            from litestar.stores.redis import RedisStore
            app = Litestar(
                middleware=[ServerSideSessionConfig().middleware],
                stores={'sessions': RedisStore.with_client()},
            )
        """,
        """
            from starsessions import RedisStore, SessionMiddleware
            app.add_middleware(SessionMiddleware, store=RedisStore(url))
        """,
        """
            from starlette.middleware.sessions import SessionMiddleware
            app.add_middleware(SessionMiddleware, secret_key=key)
        """,
        """
            class MemoryStore:
                pass
            store = MemoryStore()
        """,
        """
            from litestar.stores.redis import RedisStore
            store = RedisStore.with_client(url='redis://r')
        """,
    )
    invalid = examples(
        """
            from litestar import Litestar
            from litestar.middleware.session.server_side import ServerSideSessionConfig
            app = Litestar(route_handlers=[], middleware=[ServerSideSessionConfig().middleware])
        """,
        """
            from litestar.stores.memory import MemoryStore
            stores = {'sessions': MemoryStore()}
        """,
        """
            from starsessions import InMemoryStore, SessionMiddleware
            app.add_middleware(SessionMiddleware, store=InMemoryStore())
        """,
        """
            from fastapi_sessions.backends.implementations import InMemoryBackend
            backend = InMemoryBackend[UUID, SessionData]()
        """,
        """
            import starsessions
            store = starsessions.InMemoryStore()
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func.value if isinstance(node.func, cst.Subscript) else node.func
        if self.ctx.refers_to(func, ASGI_MEMORY_STORES):
            self.report(node, "an in-memory session store", guard=self.ctx.guard(node))
        elif self.ctx.refers_to(func, LITESTAR_SERVER_SIDE) and not self._has_shared_store():
            self.report(
                node, "Litestar server-side sessions on the default MemoryStore", guard=self.ctx.guard(node)
            )

    def _has_shared_store(self) -> bool:
        for found in walk(self.ctx.module):
            if isinstance(found, cst.Call) and keyword(found, "stores") is not None:
                return True
        return False
