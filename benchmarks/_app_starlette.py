"""Starlette benchmark app; ``BENCH_CONFIG``: none | cookie | starsessions | sessionkit.

Same endpoints as ``_app_flask``. starsessions loads the session explicitly (``load_session``)
in the endpoints that use it, its documented way to keep untouched requests free.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

CONFIG = os.environ.get("BENCH_CONFIG", "none")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = os.environ.get("SECRET_KEY", "bench-secret-bench-secret-bench-secret")
USES_SESSION = CONFIG != "none"
middleware: list[Middleware] = []

if CONFIG == "cookie":
    from starlette.middleware.sessions import SessionMiddleware

    middleware.append(Middleware(SessionMiddleware, secret_key=SECRET))
elif CONFIG == "starsessions":
    from starsessions import SessionMiddleware as StarSessionMiddleware
    from starsessions import load_session
    from starsessions.stores.redis import RedisStore

    middleware.append(Middleware(StarSessionMiddleware, store=RedisStore(REDIS_URL, prefix="bench:ss:"),
                                 cookie_https_only=False, lifetime=14 * 86400))
elif CONFIG in ("sessionkit", "sessionkit-nocache"):
    from sessionkit.adapters.starlette import SessionMiddleware as SkSessionMiddleware

    middleware.append(Middleware(SkSessionMiddleware, secret_key=SECRET, redis_url=REDIS_URL,
                                 key_prefix=f"bench:{CONFIG}:", local_cache=CONFIG == "sessionkit"))
elif CONFIG != "none":
    raise RuntimeError(f"unknown BENCH_CONFIG {CONFIG!r}")


async def session_of(request: Request) -> dict[str, Any]:
    if CONFIG == "starsessions":
        await load_session(request)
    return request.session  # type: ignore[no-any-return]


async def health(request: Request) -> Any:
    return PlainTextResponse("ok")


async def untouched(request: Request) -> Any:
    return JSONResponse({"ok": True})


async def read(request: Request) -> Any:
    if not USES_SESSION:
        return JSONResponse({"user": "bench", "items": 3})
    session = await session_of(request)
    return JSONResponse({"user": session.get("user"), "items": len(session.get("cart", []))})


async def write(request: Request) -> Any:
    if USES_SESSION:
        (await session_of(request))["counter"] = request.query_params.get("value", "")
    return JSONResponse({"ok": True})


async def set_key(request: Request) -> Any:
    (await session_of(request))[request.query_params["key"]] = request.query_params.get("value", "")
    return JSONResponse({"ok": True})


async def login(request: Request) -> Any:
    session = await session_of(request)
    session.update(user="bench", cart=["apple", "pear", "plum"], prefs={"theme": "dark", "lang": "en"})
    return JSONResponse({"ok": True})


async def dump(request: Request) -> Any:
    return JSONResponse(dict(await session_of(request)))


app = Starlette(routes=[Route(p, f) for p, f in [
    ("/health", health), ("/untouched", untouched), ("/read", read), ("/write", write),
    ("/set", set_key), ("/login", login), ("/dump", dump)]], middleware=middleware)
