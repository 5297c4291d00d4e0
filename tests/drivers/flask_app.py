"""Conformance driver for Flask: the contract of ``drivers/base.py`` over ``SessionKit``."""

from __future__ import annotations

from typing import Any

from drivers.base import Headers, Reply, parse_set_cookie
from flask import Flask, jsonify, session
from flask.sessions import SecureCookieSessionInterface

from sessionkit.adapters.flask import SessionKit, regenerate

SECRET = "flask-driver-secret-0123456789"
STORE_OPTIONS = ("degraded", "idle_timeout", "absolute_timeout", "refresh_interval", "max_size",
                 "local_cache")


def make_app(redis_url: str, key_prefix: str, **options: Any) -> Flask:
    """The conformance app; ``options`` become ``SESSIONKIT_<OPTION>`` settings."""
    app = Flask("flask_conformance")
    app.config.update(SECRET_KEY=SECRET, SESSIONKIT_REDIS_URL=redis_url, SESSIONKIT_KEY_PREFIX=key_prefix)
    app.config.update({f"SESSIONKIT_{name.upper()}": value for name, value in options.items()})
    SessionKit(app)

    @app.post("/login/<user>")
    def login(user: str) -> Any:
        session["user"] = user
        regenerate(user_id=user)
        return jsonify(user=user)

    @app.get("/whoami")
    def whoami() -> Any:
        return jsonify(user=session.get("user"))

    @app.post("/set/<key>/<value>")
    def set_value(key: str, value: str) -> Any:
        session[key] = value
        return jsonify(ok=True)

    @app.post("/append/<key>/<value>")
    def append(key: str, value: str) -> Any:
        values = session.setdefault(key, [])
        values.append(value)  # nested mutation: no session.modified needed
        return jsonify(value=values)

    @app.get("/get/<key>")
    def get_value(key: str) -> Any:
        return jsonify(value=session.get(key))

    @app.post("/logout")
    def logout() -> Any:
        session.clear()  # Flask's idiom; an emptied session is deleted from Redis
        return jsonify(ok=True)

    @app.get("/untouched")
    def untouched() -> Any:
        return jsonify(ok=True)

    return app


class FlaskDriver:
    framework = "flask"

    def __init__(self, redis_url: str, key_prefix: str, **options: Any) -> None:
        self.app = make_app(redis_url, key_prefix, **options)
        self.cookie_name = self.app.config["SESSION_COOKIE_NAME"]

    def request(self, method: str, path: str, cookie: str | None = None) -> Reply:
        headers = {"Cookie": f"{self.cookie_name}={cookie}"} if cookie is not None else {}
        client = self.app.test_client(use_cookies=False)  # one client per call: thread-safe
        response = client.open(path, method=method, headers=headers)
        value, attrs = parse_set_cookie(response.headers.getlist("Set-Cookie"), self.cookie_name)
        body = response.get_json(silent=True)
        reply = Reply(response.status_code, body, Headers(response.headers.items()), value, attrs)
        response.close()
        return reply

    def legacy_cookie(self, data: dict[str, Any]) -> str:
        """A cookie as Flask's own ``SecureCookieSessionInterface`` writes it (same SECRET_KEY)."""
        signer = SecureCookieSessionInterface().get_signing_serializer(self.app)
        assert signer is not None
        return signer.dumps(dict(data))

    def close(self) -> None:
        self.app.session_interface.store.close()  # type: ignore[attr-defined]


def make_driver(redis_url: str, key_prefix: str, **options: Any) -> FlaskDriver:
    unknown = set(options) - set(STORE_OPTIONS)
    if unknown:
        raise TypeError(f"unsupported driver options: {sorted(unknown)}")
    return FlaskDriver(redis_url, key_prefix, **options)
