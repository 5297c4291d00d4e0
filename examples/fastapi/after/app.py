"""The same FastAPI shop with its state in Redis: any replica can serve any request.

Run:  SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(32))') \
      uvicorn examples.fastapi.after.app:app --workers 3        (from the repository root)
or, for a quick local try with a fixed demo secret:  SESSIONKIT_DEMO=1 uvicorn examples.fastapi.after.app:app

Environment: REDIS_URL (default redis://127.0.0.1:6379/0), SECRET_KEY (the same on every
replica; required unless SESSIONKIT_DEMO=1). Compared with ../before: one import line changed,
``redis_url=`` added, the secret comes from the environment, and the cart and flash messages
moved into the session.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sessionkit.adapters.starlette import SessionMiddleware, regenerate

DEMO = os.environ.get("SESSIONKIT_DEMO") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY") or ("sessionkit-demo-secret-not-for-production" if DEMO else "")
if not SECRET_KEY:
    raise RuntimeError(
        "SECRET_KEY is not set. Every replica must sign cookies with the same secret: generate one "
        "with python -c 'import secrets; print(secrets.token_urlsafe(32))' and export SECRET_KEY, "
        "or set SESSIONKIT_DEMO=1 to use a fixed demo secret (never in production)."
    )

app = FastAPI(title="shop (sessions in Redis)")
app.add_middleware(
    SessionMiddleware,
    secret_key=SECRET_KEY,
    redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    # https_only unset: Secure except on plain-http localhost (see docs/starlette.md).
)


async def field(request: Request, name: str) -> str:
    """A field of a JSON or form-encoded body ('' if missing)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        data: Any = await request.json()
        return str(data.get(name, "")) if isinstance(data, dict) else ""
    return parse_qs((await request.body()).decode()).get(name, [""])[0]


def flash(request: Request, message: str) -> None:
    request.session.setdefault("flashes", []).append(message)


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
    regenerate(request, user_id=user)  # new session ID on login; bound to the user for revocation
    flash(request, f"Welcome, {user}!")
    return JSONResponse({"user": user})


@app.get("/me")
async def me(request: Request) -> JSONResponse:
    user = request.session.get("user")
    return JSONResponse({"user": user}) if user else unauthorized()


@app.post("/cart/add")
async def cart_add(request: Request) -> JSONResponse:
    if not request.session.get("user"):
        return unauthorized()
    item = await field(request, "item")
    request.session.setdefault("cart", []).append(item)  # nested change: saved, no flag needed
    flash(request, f"Added {item} to your cart.")
    return JSONResponse({"items": request.session["cart"]})


@app.get("/cart")
async def cart(request: Request) -> JSONResponse:
    if not request.session.get("user"):
        return unauthorized()
    return JSONResponse({"items": request.session.get("cart", [])})


@app.get("/messages")
async def messages(request: Request) -> JSONResponse:
    """Flash messages: shown once, then gone."""
    if not request.session.get("user"):
        return unauthorized()
    return JSONResponse({"messages": request.session.pop("flashes", [])})


@app.post("/logout")
async def logout(request: Request) -> JSONResponse:
    request.session.clear()  # an emptied session is deleted from Redis and its cookie removed
    return JSONResponse({"user": None})
