"""A Flask shop as it is often written: fine on one process, broken on several replicas.

Run:  gunicorn examples.flask.before.app:app --workers 3   (from the repository root)

What breaks behind a round-robin load balancer (the sessionkit linter finds each of these):
- a per-process random secret key: every replica signs the session cookie differently, so a
  cookie from one replica is rejected by the next one and the user looks logged out;
- carts in a module-level dict: each replica has its own copy.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, flash, get_flashed_messages, jsonify, request, session

app = Flask(__name__)
app.secret_key = os.urandom(24)  # differs per process
CARTS: dict[str, list[str]] = {}  # per process


def field(name: str) -> str:
    """A field of a JSON or form-encoded body ('' if missing)."""
    data = request.get_json(silent=True) if request.is_json else request.form
    return str((data or {}).get(name) or "")


def unauthorized() -> Any:
    return jsonify(error="login required"), 401


@app.get("/health")
def health() -> Any:
    return jsonify(status="ok", pid=str(os.getpid()))


@app.post("/login")
def login() -> Any:
    user = field("user")
    if not user:
        return jsonify(error="field 'user' is required"), 400
    session["user"] = user
    flash(f"Welcome, {user}!")
    return jsonify(user=user)


@app.get("/me")
def me() -> Any:
    user = session.get("user")
    return jsonify(user=user) if user else unauthorized()


@app.post("/cart/add")
def cart_add() -> Any:
    user = session.get("user")
    if not user:
        return unauthorized()
    item = field("item")
    CARTS.setdefault(user, []).append(item)
    flash(f"Added {item} to your cart.")
    return jsonify(items=CARTS[user])


@app.get("/cart")
def cart() -> Any:
    user = session.get("user")
    return jsonify(items=CARTS.get(user, [])) if user else unauthorized()


@app.get("/messages")
def messages() -> Any:
    """Flash messages: shown once, then gone."""
    if not session.get("user"):
        return unauthorized()
    return jsonify(messages=get_flashed_messages())


@app.post("/logout")
def logout() -> Any:
    session.clear()
    return jsonify(user=None)
