"""Category 2: server-side sessions kept in process memory by ASGI frameworks' session stores."""

from __future__ import annotations

from typing import Any

import libcst as cst

from sessionkit.lint._rule import STARLETTE_STORE, Facts, Rule, examples
from sessionkit.lint._types import Finding
from sessionkit.lint.rules._litestar import SESSION_CONFIGS, registry, store_name
from sessionkit.lint.rules._state import request_time_mutations

ASGI_MEMORY_STORES = frozenset(
    {
        "starsessions.InMemoryStore",
        "starsessions.stores.memory.InMemoryStore",
        "fastapi_sessions.backends.implementations.InMemoryBackend",
        "fastapi_sessions.backends.implementations.in_memory_backend.InMemoryBackend",
        "aiohttp_session.SimpleCookieStorage",
        "sanic_session.InMemorySessionInterface",
        "sanic_session.memory.InMemorySessionInterface",
    }
)


class AsgiMemorySessions(Rule):
    """Server-side sessions on an in-memory store in Starlette/FastAPI/Litestar apps.

    Litestar's ``ServerSideSessionConfig`` uses the store registered under its name (``"sessions"``
    unless ``store=``) in any module of the project, and a fresh ``MemoryStore`` when none is; a
    ``MemoryStore``/``FileStore`` registered under that name keeps sessions in one process or on one
    pod's disk. starsessions ``InMemoryStore``, fastapi-sessions ``InMemoryBackend`` and
    sanic_session ``InMemorySessionInterface`` keep sessions in the process.
    """

    code = "SK302"
    name = "asgi-memory-sessions"
    category = "local-sessions"
    severity = "error"
    remedy = "externalize"
    prefilter = (
        r"MemoryStore|InMemory|ServerSideSessionConfig|SimpleCookieStorage|FileStore|\bstores\s*="
        # a container of login sessions changed (``request_time_mutations``), not ``request.session``
        r"|(?<!request\.)\b(?i:\w*sessions?(?:_ids?|_tokens?)?)(\[[^\]\n]*\]\s*=(?!=)|\.(append|add|pop|update|setdefault|remove"
        r"|discard|clear)\()"
        r"|\bapp\.\w*tokens?(\[|\.(append|add|pop|update|setdefault|remove|discard|clear)\()",
    )
    message = (
        "server-side sessions held in process memory vanish when the next request reaches another "
        f"replica; {STARLETTE_STORE} (Litestar: register a RedisStore under `stores=`)"
    )
    fix_hint = "Use a Redis-backed session store shared by all replicas."
    valid = examples(
        """
            from fastapi import FastAPI
            app = FastAPI()
            sessions = {}
            sessions["boot"] = 1
            @app.get("/")
            def index(session_id: str):
                return sessions.get(session_id)
        """,
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
        """
            from litestar.stores.memory import MemoryStore
            store = MemoryStore()
            async def main():
                await store.set("key", b"value")
        """,
        """
            # file: app/__init__.py
            from litestar import Litestar
            from litestar.stores.redis import RedisStore
            from app.session import session_config
            app = Litestar(
                middleware=[session_config.middleware],
                stores={"sessions": RedisStore.with_client(url="redis://r")},
            )
            # file: app/session.py
            from litestar.middleware.session.server_side import ServerSideSessionConfig
            session_config = ServerSideSessionConfig(max_age=3600)
        """,
        """
            from pathlib import Path
            from litestar import Litestar
            from litestar.middleware.session.server_side import ServerSideSessionConfig
            from litestar.stores.file import FileStore
            from litestar.stores.redis import RedisStore
            app = Litestar(
                stores={"redis": RedisStore.with_client(), "file": FileStore(Path("data"))},
                middleware=[ServerSideSessionConfig(store="redis").middleware],
            )
        """,
    )
    invalid = examples(
        """
            import uuid
            from flask import Flask, request
            app = Flask(__name__)
            sessions_ids = {}
            @app.post("/getsession")
            def get_session():
                name = request.json["username"]
                sessions_ids[name] = str(uuid.uuid4())
                return ""
        """,
        """
            import secrets
            from fastapi import FastAPI
            app = FastAPI()
            admin_sessions = {}
            @app.post("/login")
            def login(user: str):
                sid = secrets.token_hex(8)
                admin_sessions[sid] = {"user": user}
                return sid
        """,
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
        """
            from pathlib import Path
            from litestar import Litestar
            from litestar.middleware.session.server_side import ServerSideSessionConfig
            from litestar.stores.file import FileStore
            app = Litestar(
                middleware=[ServerSideSessionConfig().middleware],
                stores={"sessions": FileStore(path=Path("session_data"))},
            )
        """,
        """
            from pathlib import Path
            from litestar import Litestar
            from litestar.middleware.session.server_side import ServerSideSessionConfig
            from litestar.stores.file import FileStore
            from litestar.stores.redis import RedisStore
            app = Litestar(
                stores={"redis": RedisStore.with_client(), "file": FileStore(Path("data"))},
                middleware=[ServerSideSessionConfig(store="file").middleware],
            )
        """,
        """
            # file: app/__init__.py
            from litestar import Litestar
            from app.session import session_config
            app = Litestar(middleware=[session_config.middleware])
            # file: app/session.py
            from litestar.middleware.session.server_side import ServerSideSessionConfig
            session_config = ServerSideSessionConfig(max_age=3600)
        """,
        """
            from sanic import Sanic
            from sanic_session import Session, InMemorySessionInterface
            app = Sanic("shop")
            session = Session(app, interface=InMemorySessionInterface())
        """,
    )

    def visit_Module(self, node: cst.Module) -> None:
        for mutation in request_time_mutations(self.ctx):
            if mutation.role == "sessions":
                subject = f"login sessions kept in the in-process container `{mutation.name}`"
                self.report_request_time(mutation.node, subject, mutation.deferred)
        registered = registry(self.ctx)
        if registered:
            self.ctx.facts["litestar_stores"] = sorted({entry.name for entry in registered})
        for entry in registered:
            if entry.name == "sessions" and entry.local:
                self.report(
                    entry.value,
                    f"Litestar server-side sessions in a {entry.local} store",
                    guard=self.ctx.guard(entry.value),
                )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func.value if isinstance(node.func, cst.Subscript) else node.func
        if self.ctx.refers_to(func, ASGI_MEMORY_STORES):
            self.report(node, "an in-memory session store", guard=self.ctx.guard(node))
        elif self.ctx.refers_to(func, SESSION_CONFIGS):
            name = store_name(node, "sessions")
            if name is None:
                return
            entries = {entry.name: entry for entry in registry(self.ctx)}
            entry = entries.get(name)
            if entry is None:  # registered in another module, or nowhere (the cross-file phase)
                pending = self.ctx.facts.setdefault("litestar_sessions", [])
                pending.append({"store": name, **self.position(node)})
            elif entry.local and name != "sessions":  # "sessions" is reported where it is registered
                subject = f"Litestar server-side sessions in the {entry.local} store `{name}`"
                self.report(node, subject, guard=self.ctx.guard(node))

    @classmethod
    def project(cls, facts: Facts) -> list[Finding]:
        """A ``ServerSideSessionConfig`` whose store no module of the project registers gets
        Litestar's default ``MemoryStore``."""
        out = super().project(facts)
        names = {name for own in facts.values() for name in own.get("litestar_stores", ())}
        for path, own in sorted(facts.items()):
            item: dict[str, Any]
            for item in own.get("litestar_sessions", ()):
                if item["store"] not in names:
                    store = item["store"]
                    subject = f"Litestar server-side sessions on the default MemoryStore (no `{store}` store)"
                    out.append(cls.finding_at(path, item, subject))
        return out
