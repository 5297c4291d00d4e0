"""A FastAPI shop as it is often written: fine on one process, broken on several replicas.

Run:  uvicorn examples.fastapi.before.app:app --workers 3   (from the repository root)

What breaks behind a round-robin load balancer (the sessionkit linter finds each of these):
- a per-process random secret: every replica signs cookies differently, so a cookie made by one
  replica is rejected by the others and the user looks logged out;
- carts and flash messages in module-level dicts: each replica has its own copy.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.sessions import SessionMiddleware

app = FastAPI(title="shop (in-process state)")
app.add_middleware(SessionMiddleware, secret_key=os.urandom(24).hex())  # differs per process

CARTS: dict[str, list[str]] = {}  # user -> items, in this process only
FLASHES: dict[str, list[str]] = {}  # user -> pending messages, in this process only


async def field(request: Request, name: str) -> str:
    """A field of a JSON or form-encoded body ('' if missing)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        data: Any = await request.json()
        return str(data.get(name, "")) if isinstance(data, dict) else ""
    return parse_qs((await request.body()).decode()).get(name, [""])[0]


def unauthorized() -> JSONResponse:
    return JSONResponse({"error": "login required"}, status_code=401)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "pid": str(os.getpid())}


@app.post("/login")
async def login(request: Request) -> JSONResponse:
    user = await field(request, "user")
    if not user:
        return JSONResponse({"error": "field 'user' is required"}, status_code=400)
    request.session["user"] = user
    FLASHES.setdefault(user, []).append(f"Welcome, {user}!")
    return JSONResponse({"user": user})


@app.get("/me")
async def me(request: Request) -> JSONResponse:
    user = request.session.get("user")
    return JSONResponse({"user": user}) if user else unauthorized()


@app.post("/cart/add")
async def cart_add(request: Request) -> JSONResponse:
    user = request.session.get("user")
    if not user:
        return unauthorized()
    item = await field(request, "item")
    CARTS.setdefault(user, []).append(item)
    FLASHES.setdefault(user, []).append(f"Added {item} to your cart.")
    return JSONResponse({"items": CARTS[user]})


@app.get("/cart")
async def cart(request: Request) -> JSONResponse:
    user = request.session.get("user")
    return JSONResponse({"items": CARTS.get(user, [])}) if user else unauthorized()


@app.get("/messages")
async def messages(request: Request) -> JSONResponse:
    """Flash messages: shown once, then gone."""
    user = request.session.get("user")
    return JSONResponse({"messages": FLASHES.pop(user, [])}) if user else unauthorized()


@app.post("/logout")
async def logout(request: Request) -> JSONResponse:
    CARTS.pop(request.session.get("user", ""), None)
    request.session.clear()
    return JSONResponse({"user": None})
