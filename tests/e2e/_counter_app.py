"""One tiny app per framework for the read-your-writes proof, with the local cache on (the default).

Endpoints, the same in every framework:

- ``POST /set`` (form ``key``, ``value``): ``session[key] = value``; answers ``{"ok": true}``;
- ``GET /get?key=``: ``{"value": session.get(key), "cache": <this replica's cache counters>}``;
- ``GET /dump``: the whole session;
- ``GET /health``: never touches the session.

``cache`` is ``{"hits": ..., "misses": ...}`` from ``store.local_cache.cache.stats`` (docs/cache.md), or
``null`` where the adapter does not give the app its store (Django). Environment: ``REDIS_URL``,
``SECRET_KEY``, ``COUNTER_PREFIX`` (Redis key prefix). The apps are built on first attribute access
(``flask_app``, ``starlette_app``, ``django_app``), so a replica imports only its own framework.
"""

from __future__ import annotations

import os
import types
from typing import Any
from urllib.parse import parse_qs

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
PREFIX = os.environ.get("COUNTER_PREFIX", "ryw:")


def _stats(store: Any) -> dict[str, int] | None:
    cache = store.local_cache
    if cache is None:
        return None
    return {"hits": cache.cache.stats.hits, "misses": cache.cache.stats.misses}


def _flask() -> Any:
    from flask import Flask, jsonify, request, session

    from sessionkit.adapters.flask import SessionKit, get_store

    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET_KEY, SESSIONKIT_REDIS_URL=REDIS_URL, SESSIONKIT_KEY_PREFIX=PREFIX,
                      SESSIONKIT_COOKIE_SECURE=False)  # plain HTTP on loopback
    SessionKit(app)

    @app.get("/health")
    def health() -> Any:
        return "ok"

    @app.post("/set")
    def set_key() -> Any:
        session[request.form["key"]] = request.form["value"]
        return jsonify(ok=True)

    @app.get("/get")
    def get() -> Any:
        value = session.get(request.args["key"])
        return jsonify(value=value, cache=_stats(get_store()))

    @app.get("/dump")
    def dump() -> Any:
        return jsonify(dict(session))

    return app


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    from sessionkit.adapters.starlette import SessionMiddleware, get_store

    async def health(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def set_key(request: Request) -> JSONResponse:
        form = parse_qs((await request.body()).decode())
        request.session[form["key"][0]] = form["value"][0]
        return JSONResponse({"ok": True})

    async def get(request: Request) -> JSONResponse:
        value = request.session.get(request.query_params["key"])
        return JSONResponse({"value": value, "cache": _stats(get_store(request))})

    async def dump(request: Request) -> JSONResponse:
        return JSONResponse(dict(request.session))

    routes = [Route("/health", health), Route("/set", set_key, methods=["POST"]), Route("/get", get),
              Route("/dump", dump)]
    middleware = [Middleware(SessionMiddleware, secret_key=SECRET_KEY, redis_url=REDIS_URL,  # type: ignore[arg-type]
                             key_prefix=PREFIX, https_only=False)]
    return Starlette(routes=routes, middleware=middleware)


def _django() -> Any:
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt
    from django.views.decorators.http import require_GET, require_POST

    @require_GET
    def health(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    @csrf_exempt
    @require_POST
    def set_key(request: HttpRequest) -> JsonResponse:
        request.session[request.POST["key"]] = request.POST["value"]
        return JsonResponse({"ok": True})

    @require_GET
    def get(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"value": request.session.get(request.GET["key"]), "cache": None})

    @require_GET
    def dump(request: HttpRequest) -> JsonResponse:
        return JsonResponse(dict(request.session.items()))

    urls = types.ModuleType("counter_urls")  # ROOT_URLCONF: anything hashable with urlpatterns
    urls.urlpatterns = [path("health", health), path("set", set_key), path("get", get),  # type: ignore[attr-defined]
                        path("dump", dump)]
    settings.configure(
        DEBUG=False, SECRET_KEY=SECRET_KEY, ALLOWED_HOSTS=["*"], ROOT_URLCONF=urls,
        INSTALLED_APPS=["django.contrib.sessions", "sessionkit.adapters.django"],
        MIDDLEWARE=["sessionkit.adapters.django.middleware.SessionMiddleware"],
        SESSION_ENGINE="sessionkit.adapters.django", SESSIONKIT_REDIS_URL=REDIS_URL,
        SESSIONKIT_KEY_PREFIX=PREFIX,
    )
    import django
    from django.core.wsgi import get_wsgi_application

    django.setup()
    return get_wsgi_application()


_BUILDERS = {"flask_app": _flask, "starlette_app": _starlette, "django_app": _django}
_BUILT: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name not in _BUILDERS:
        raise AttributeError(name)
    if name not in _BUILT:
        _BUILT[name] = _BUILDERS[name]()
    return _BUILT[name]
