"""Conformance driver for Starlette: the contract of ``drivers/base.py`` over ``SessionMiddleware``."""

from __future__ import annotations

import json
import warnings
from base64 import b64encode
from typing import Any

import itsdangerous
from drivers.base import Headers, Reply, parse_set_cookie
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sessionkit.adapters.starlette import SessionMiddleware, regenerate

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 and warns when it finds httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "starlette-driver-secret-0123456789"
STORE_OPTIONS = ("degraded", "idle_timeout", "absolute_timeout", "refresh_interval", "max_size",
                 "local_cache")


async def login(request: Request) -> JSONResponse:
    user = request.path_params["user"]
    request.session["user"] = user
    regenerate(request, user_id=user)
    return JSONResponse({"user": user})


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"user": request.session.get("user")})


async def set_value(request: Request) -> JSONResponse:
    request.session[request.path_params["key"]] = request.path_params["value"]
    return JSONResponse({"ok": True})


async def append(request: Request) -> JSONResponse:
    values = request.session.setdefault(request.path_params["key"], [])
    values.append(request.path_params["value"])
    return JSONResponse({"value": values})


async def get_value(request: Request) -> JSONResponse:
    return JSONResponse({"value": request.session.get(request.path_params["key"])})


async def logout(request: Request) -> JSONResponse:
    request.session.clear()  # Starlette's idiom; an emptied session is destroyed
    return JSONResponse({"ok": True})


async def untouched(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


ROUTES = [
    Route("/login/{user}", login, methods=["POST"]),
    Route("/whoami", whoami),
    Route("/set/{key}/{value}", set_value, methods=["POST"]),
    Route("/append/{key}/{value}", append, methods=["POST"]),
    Route("/get/{key}", get_value),
    Route("/logout", logout, methods=["POST"]),
    Route("/untouched", untouched),
]


def make_app(redis_url: str, key_prefix: str, **options: Any) -> Starlette:
    """The conformance app; ``options`` go to ``SessionMiddleware`` (cookie and store options)."""
    options.setdefault("secret_key", SECRET)
    return Starlette(routes=ROUTES, middleware=[
        Middleware(SessionMiddleware, redis_url=redis_url, key_prefix=key_prefix, **options)
    ])


class StarletteDriver:
    framework = "starlette"

    def __init__(self, redis_url: str, key_prefix: str, **options: Any) -> None:
        self.app = make_app(redis_url, key_prefix, **options)
        self.cookie_name = options.get("session_cookie", "session")
        self.secret = options.get("secret_key", SECRET)
        self._serving: Starlette | None = None

    def _client(self) -> TestClient:
        """One event loop for every request, as in a server process (uvicorn): the store, its
        connections and its local cache live as long as the driver (or until ``app`` is replaced)."""
        if self._serving is not self.app:
            self.close()
            self.client = TestClient(self.app, raise_server_exceptions=False)
            self.client.__enter__()
            self._serving = self.app
        return self.client

    def request(self, method: str, path: str, cookie: str | None = None) -> Reply:
        headers = {"cookie": f"{self.cookie_name}={cookie}"} if cookie is not None else {}
        self._client().cookies.clear()  # the caller says which cookie each request carries
        response = self.client.request(method, path, headers=headers)
        value, attrs = parse_set_cookie(response.headers.get_list("set-cookie"), self.cookie_name)
        try:
            body = response.json()
        except ValueError:
            body = None
        return Reply(response.status_code, body, Headers(response.headers.items()), value, attrs)

    def legacy_cookie(self, data: dict[str, Any]) -> str:
        """A cookie as Starlette's own ``SessionMiddleware`` writes it (same secret)."""
        payload = b64encode(json.dumps(data).encode())
        return itsdangerous.TimestampSigner(self.secret).sign(payload).decode()

    def close(self) -> None:
        if self._serving is not None:
            self.client.__exit__(None, None, None)
            self._serving = None


def make_driver(redis_url: str, key_prefix: str, **options: Any) -> StarletteDriver:
    unknown = set(options) - set(STORE_OPTIONS) - {"secret_key", "session_cookie", "https_only",
                                                    "same_site", "max_age", "path", "domain"}
    if unknown:
        raise TypeError(f"unsupported driver options: {sorted(unknown)}")
    return StarletteDriver(redis_url, key_prefix, **options)
