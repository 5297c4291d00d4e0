"""The same Flask shop with its sessions in Redis: any replica can serve any request.

Run:  SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))') \
      gunicorn examples.flask.after.app:app --workers 3        (from the repository root)
or, for a quick local try with a fixed demo secret:  SESSIONKIT_DEMO=1 gunicorn examples.flask.after.app:app

Environment: REDIS_URL (default redis://127.0.0.1:6379/0), SECRET_KEY (the same on every
replica; required unless SESSIONKIT_DEMO=1). Compared with ../before: ``SessionKit(app)`` with
SESSIONKIT_REDIS_URL, the secret comes from the environment, the cart lives in the session, the
session ID is regenerated on login. Flash messages need no change: they live in the session.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, flash, get_flashed_messages, jsonify, request, session

from sessionkit import ConfigurationError
from sessionkit.adapters.flask import SessionKit, regenerate


def field(name: str) -> str:
    """A field of a JSON or form-encoded body ('' if missing)."""
    data = request.get_json(silent=True) if request.is_json else request.form
    return str((data or {}).get(name) or "")


def unauthorized() -> Any:
    return jsonify(error="login required"), 401


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The shop; ``config`` overrides settings (tests use it for a key prefix)."""
    demo = os.environ.get("SESSIONKIT_DEMO") == "1"
    secret = os.environ.get("SECRET_KEY") or ("sessionkit-demo-secret-not-for-production" if demo else "")
    if not secret:
        raise ConfigurationError(
            "SECRET_KEY is not set. Every replica must use the same secret: generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))' and export SECRET_KEY, "
            "or set SESSIONKIT_DEMO=1 to use a fixed demo secret (never in production)."
        )
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret,
        SESSIONKIT_REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # This demo may be served over plain HTTP on any host (gunicorn, nginx without TLS). Behind
        # HTTPS, delete this line: the cookie is then Secure (except on plain-http localhost).
        SESSIONKIT_COOKIE_SECURE=False,
    )
    app.config.update(config or {})
    SessionKit(app)

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok", pid=str(os.getpid()))

    @app.post("/login")
    def login() -> Any:
        user = field("user")
        if not user:
            return jsonify(error="field 'user' is required"), 400
        session["user"] = user
        regenerate(user_id=user)  # new session ID on login; revoke_user(user) can end it
        flash(f"Welcome, {user}!")
        return jsonify(user=user)

    @app.get("/me")
    def me() -> Any:
        user = session.get("user")
        return jsonify(user=user) if user else unauthorized()

    @app.post("/cart/add")
    def cart_add() -> Any:
        if not session.get("user"):
            return unauthorized()
        item = field("item")
        session.setdefault("cart", []).append(item)  # nested change: saved, no flag needed
        flash(f"Added {item} to your cart.")
        return jsonify(items=session["cart"])

    @app.get("/cart")
    def cart() -> Any:
        return jsonify(items=session.get("cart", [])) if session.get("user") else unauthorized()

    @app.get("/messages")
    def messages() -> Any:
        """Flash messages: shown once, then gone."""
        if not session.get("user"):
            return unauthorized()
        return jsonify(messages=get_flashed_messages())

    @app.post("/logout")
    def logout() -> Any:
        session.clear()  # an emptied session is deleted from Redis and its cookie removed
        return jsonify(user=None)

    return app


app = create_app()
