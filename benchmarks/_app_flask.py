"""Flask benchmark app; ``BENCH_CONFIG``: none | cookie | flask-session | sessionkit.

Endpoints (all GET, so wrk and the probes stay simple): /untouched, /read, /write?value=,
/set?key=&value=, /login (establishes the session), /dump, /health.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, request, session

CONFIG = os.environ.get("BENCH_CONFIG", "none")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
USES_SESSION = CONFIG != "none"

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "bench-secret-bench-secret-bench-secret")

if CONFIG == "flask-session":
    import redis
    from flask_session import Session

    app.config.update(SESSION_TYPE="redis", SESSION_REDIS=redis.Redis.from_url(REDIS_URL),
                      SESSION_KEY_PREFIX="bench:fs:")
    Session(app)
elif CONFIG in ("sessionkit", "sessionkit-nocache"):
    from sessionkit.adapters.flask import SessionKit

    app.config.update(SESSIONKIT_REDIS_URL=REDIS_URL, SESSIONKIT_KEY_PREFIX=f"bench:{CONFIG}:",
                      SESSIONKIT_LOCAL_CACHE=CONFIG == "sessionkit")
    SessionKit(app)
elif CONFIG not in ("none", "cookie"):
    raise RuntimeError(f"unknown BENCH_CONFIG {CONFIG!r}")


@app.get("/health")
def health() -> Any:
    return "ok"


@app.get("/untouched")
def untouched() -> Any:
    return jsonify(ok=True)


@app.get("/read")
def read() -> Any:
    if not USES_SESSION:
        return jsonify(user="bench", items=3)
    return jsonify(user=session.get("user"), items=len(session.get("cart", [])))


@app.get("/write")
def write() -> Any:
    if USES_SESSION:
        session["counter"] = request.args.get("value", "")
    return jsonify(ok=True)


@app.get("/set")
def set_key() -> Any:
    session[request.args["key"]] = request.args.get("value", "")
    return jsonify(ok=True)


@app.get("/login")
def login() -> Any:
    session["user"] = "bench"
    session["cart"] = ["apple", "pear", "plum"]
    session["prefs"] = {"theme": "dark", "lang": "en"}
    return jsonify(ok=True)


@app.get("/dump")
def dump() -> Any:
    return jsonify(dict(session))
