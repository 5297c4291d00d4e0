"""Category 9: rate-limit counters kept in process memory."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import Facts, Rule, examples
from sessionkit.lint._types import Finding
from sessionkit.lint.rules._django import DEFAULT_CACHE, LOCAL_CACHES, caches_for, project_caches
from sessionkit.lint.rules._names import RATE_WORDS
from sessionkit.lint.rules._state import request_time_mutations
from sessionkit.lint.rules._util import dict_entries, keyword, literal_or_default, settings_in, walk

FLASK_LIMITER = frozenset({"flask_limiter.Limiter", "flask_limiter.extension.Limiter"})
SLOWAPI = frozenset({"slowapi.Limiter", "slowapi.extension.Limiter"})
LITESTAR = frozenset(
    {"litestar.middleware.rate_limit.RateLimitConfig", "litestar.middleware.RateLimitConfig"}
)
#: quart-rate-limiter: ``RateLimiter(app)`` keeps its counters in a ``MemoryStore`` unless ``store=``.
QUART = frozenset({"quart_rate_limiter.RateLimiter", "quart_rate_limiter.extension.RateLimiter"})
STORAGE_KEYS = frozenset({"RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_URL"})
#: Django settings whose counters live in the default Django cache: django-allauth's login
#: attempt limit (``ACCOUNT_RATE_LIMITS``, a table of overrides, is not reported: its defaults
#: apply whether it is set or not).
ALLAUTH_LIMITS = frozenset({"ACCOUNT_LOGIN_ATTEMPTS_LIMIT"})


class InMemoryRateLimit(Rule):
    """Flask-Limiter, slowapi or Litestar rate limiting on the default in-memory storage.

    Every replica counts on its own: with N replicas a client gets N times the limit, and the
    count resets whenever a pod restarts.
    """

    code = "SK109"
    name = "in-memory-rate-limit"
    category = "rate-limit"
    severity = "error"
    remedy = "refactor"
    fixable = True
    prefilter = (
        r"Limiter|RateLimitConfig|RATELIMIT_STORAGE|RateLimiter|DEFAULT_THROTTLE_CLASSES"
        rf"|ACCOUNT_LOGIN_ATTEMPTS_LIMIT|AxesCacheHandler|{RATE_WORDS}",
    )
    message = (
        "each replica counts requests on its own, so clients get the limit once per replica and "
        "counters reset on every restart; use Redis storage, e.g. "
        '`storage_uri=os.environ["RATELIMIT_STORAGE_URI"]`'
    )
    fix_hint = (
        'Limiter(..., storage_uri=os.environ["RATELIMIT_STORAGE_URI"]) '
        "(`--fix` does it for Flask-Limiter and slowapi)."
    )
    valid = examples(
        """
            # file: config/settings.py
            INSTALLED_APPS = ["rest_framework"]
            CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
            REST_FRAMEWORK = {
                "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
            }
        """,
        """
            from quart import Quart
            from quart_rate_limiter import RateLimiter
            from quart_rate_limiter.redis_store import RedisStore
            app = Quart(__name__)
            rate_limiter = RateLimiter(app, store=RedisStore("redis://redis:6379/0"))
        """,
        """
            # file: core/limits.py
            from slowapi import Limiter
            from slowapi.util import get_remote_address
            limiter = Limiter(key_func=get_remote_address)
            # file: main.py
            from fastapi import FastAPI
            app = FastAPI()
        """,
        """
            # file: project/extensions.py
            from flask_limiter import Limiter
            from flask_limiter.util import get_remote_address
            limiter = Limiter(key_func=get_remote_address, default_limits=["100 per hour"])
            # file: project/api.py
            from flask import Blueprint
            from project.extensions import limiter
            bp = Blueprint("api", __name__)
            @bp.get("/ping")
            @limiter.limit("10/minute")
            def ping():
                return "pong"
        """,
        """
            from flask_limiter import Limiter
            limiter = Limiter(get_remote_address, app=app, storage_uri="redis://redis:6379")
        """,
        """
            from slowapi import Limiter
            limiter = Limiter(key_func=f, storage_uri=REDIS_URL)
        """,
        """
            from flask_limiter import Limiter
            limiter = Limiter(get_remote_address)
            app.config["RATELIMIT_STORAGE_URI"] = "redis://r:6379"
        """,
        """
            class Limiter:
                pass
            limiter = Limiter()
        """,
        """
            from litestar.middleware.rate_limit import RateLimitConfig
            from litestar.stores.redis import RedisStore
            config = RateLimitConfig(rate_limit=("minute", 10))
            app = Litestar(middleware=[config.middleware], stores={"rate_limit": RedisStore.with_client()})
        """,
    )
    invalid = examples(
        """
            import time
            from fastapi import FastAPI, HTTPException
            app = FastAPI()
            last_request: dict[str, float] = {}
            @app.post("/send")
            async def send(user: str):
                if time.time() - last_request.get(user, 0) < 5:
                    raise HTTPException(429)
                last_request[user] = time.time()
        """,
        """
            # file: config/settings.py
            INSTALLED_APPS = ["rest_framework", "allauth"]
            ACCOUNT_LOGIN_ATTEMPTS_LIMIT = 5
            REST_FRAMEWORK = {
                "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
                "DEFAULT_THROTTLE_RATES": {"anon": "100/day"},
            }
        """,
        """
            # file: core/limiter.py
            from slowapi import Limiter
            from slowapi.util import get_remote_address
            limiter = Limiter(key_func=get_remote_address)
            # file: api/routes.py
            from fastapi import APIRouter, Request
            from core.limiter import limiter
            router = APIRouter()
            @router.post("/generate")
            @limiter.limit("5/minute")
            async def generate(request: Request):
                return {}
        """,
        """
            from quart import Quart
            from quart_rate_limiter import RateLimiter
            app = Quart(__name__)
            rate_limiter = RateLimiter(app)
        """,
        """
            from flask_limiter import Limiter
            from flask_limiter.util import get_remote_address
            limiter = Limiter(get_remote_address, app=app)
        """,
        """
            from flask_limiter import Limiter
            limiter = Limiter(get_remote_address, app=app, storage_uri="memory://")
        """,
        """
            from fastapi import FastAPI
            from slowapi import Limiter
            from slowapi.util import get_remote_address
            limiter = Limiter(key_func=get_remote_address)
            app = FastAPI()
            app.state.limiter = limiter
        """,
        """
            # file: app/extensions.py
            from flask_limiter import Limiter
            from flask_limiter.util import get_remote_address
            limiter = Limiter(key_func=get_remote_address, default_limits=["200 per day"])
            # file: app/__init__.py
            from flask import Flask
            from app.extensions import limiter
            def create_app():
                app = Flask(__name__)
                limiter.init_app(app)
                return app
        """,
        """
            class Config:
                RATELIMIT_STORAGE_URI = "memory://"
        """,
        """
            from litestar.middleware.rate_limit import RateLimitConfig
            config = RateLimitConfig(rate_limit=("minute", 10))
        """,
        """
            import os
            from flask_limiter import Limiter
            limiter = Limiter(key, storage_uri=os.environ.get("LIMITER_URI", "memory://"))
        """,
    )

    def visit_Module(self, node: cst.Module) -> None:
        # A hand-made limit: a container named for it (``cooldowns``, ``login_attempts``) that
        # request handlers change (see ``rules._state``).
        for mutation in request_time_mutations(self.ctx):
            if mutation.role == "ratelimit":
                self.report_request_time(
                    mutation.node,
                    f"hand-made rate limit `{mutation.name}` kept in process memory (count in Redis instead: "
                    "`INCR` + `EXPIRE` per client)",
                    mutation.deferred,
                )

    def visit_Call(self, node: cst.Call) -> None:
        for key, value, _ in settings_in(self.ctx, node):
            self._setting(key, value)
        if self.ctx.calls(node, FLASK_LIMITER | SLOWAPI):
            arg = keyword(node, "storage_uri")
            if arg is None:
                if not self._configured_elsewhere():
                    self._unattached_or_report(
                        node, "rate limiter without `storage_uri` (defaults to memory://)"
                    )
                return
            uri, holder = literal_or_default(self.ctx, arg.value, {"memory://"})
            if uri is not None and uri.startswith("memory://"):
                self.report(holder, "rate limiter `storage_uri` is memory://", guard=self.ctx.guard(holder))
        elif self.ctx.calls(node, QUART) and keyword(node, "store") is None:
            self.report(node, "quart-rate-limiter without `store=` (in-memory MemoryStore)")
        elif (
            self.ctx.calls(node, LITESTAR)
            and keyword(node, "store") is None
            and not any(isinstance(n, cst.Call) and keyword(n, "stores") for n in walk(self.ctx.module))
        ):
            self.report(node, "Litestar rate limiting on the default memory store")

    def _unattached_or_report(self, node: cst.Call, subject: str) -> None:
        """Report a limiter made without the app (``limiter = Limiter(key_func=...)``) only if some
        module attaches it (``limiter.init_app(app)``, ``app.state.limiter = limiter``) or, for
        slowapi, decorates a route with it: one that nothing uses limits nothing (decided across
        files)."""
        statement = self.ctx.parents.get(node)
        given_app = keyword(node, "app") is not None or any(
            a.keyword is None and isinstance(a.value, cst.Name) and a.value.value in {"app", "application"}
            for a in node.args
        )
        if given_app or not (isinstance(statement, cst.Assign) and len(statement.targets) == 1):
            self.report(node, subject)
            return
        target = statement.targets[0].target
        if not isinstance(target, cst.Name) or self.ctx.in_test_config(node) or self.ctx.dev_only(node):
            self.report(node, subject)
            return
        pending = self.ctx.facts.setdefault("limiters", [])
        slowapi = self.ctx.calls(node, SLOWAPI)
        pending.append({"name": target.value, "subject": subject, "slowapi": slowapi, **self.position(node)})

    @classmethod
    def project(cls, facts: Facts) -> list[Finding]:
        out = super().project(facts)
        attached = {name for own in facts.values() for name in own.get("attached", ())}
        # slowapi's ``@limiter.limit(...)`` counts by itself; Flask-Limiter's needs ``init_app``.
        decorated = {name for own in facts.values() for name in own.get("limit_decorators", ())}
        for path, own in sorted(facts.items()):
            for item in own.get("limiters", ()):
                if item["name"] in attached or (item.get("slowapi") and item["name"] in decorated):
                    out.append(cls.finding_at(path, item, item["subject"]))
            for item in own.get("django_throttles", ()):
                backend = _default_cache(path, facts)
                if backend in LOCAL_CACHES:
                    subject = f"{item['subject']}, a {backend.rsplit('.', 1)[-1]} (per process)"
                    out.append(cls.finding_at(path, item, subject, guard=item.get("guard")))
        return out

    def visit_Assign(self, node: cst.Assign) -> None:
        for key, value, where in settings_in(self.ctx, node):
            self._setting(key, value)
            if isinstance(where, cst.Name) and self.ctx.is_settings:
                self._django_throttle(node, key, value)

    def _django_throttle(self, node: cst.Assign, key: str, value: cst.BaseExpression) -> None:
        """Django settings that count in the default cache: DRF's ``DEFAULT_THROTTLE_CLASSES``,
        django-allauth's login limits, django-axes' ``AxesCacheHandler`` (reported across files
        when that cache is per process)."""
        if not self.ctx.is_import_time(node) or self.ctx.in_test_config(node) or self.ctx.dev_only(node):
            return
        anchor: cst.CSTNode | None = None
        if key == "REST_FRAMEWORK":
            for entry, config, where in dict_entries(value):
                if entry == "DEFAULT_THROTTLE_CLASSES" and not (
                    isinstance(config, cst.List | cst.Tuple) and not config.elements
                ):
                    anchor, subject = where, "DRF `DEFAULT_THROTTLE_CLASSES` count in the default cache"
        elif key in ALLAUTH_LIMITS:
            if not (isinstance(value, cst.Name) and value.value in {"False", "None"}):
                anchor, subject = node, f"django-allauth `{key}` counts in the default cache"
        elif key == "AXES_HANDLER":
            handler = literal_or_default(self.ctx, value)[0] or ""
            if handler.endswith("AxesCacheHandler"):
                subject = "django-axes `AxesCacheHandler` counts failed logins in the default cache"
                anchor = node
        if anchor is not None:
            pending = self.ctx.facts.setdefault("django_throttles", [])
            pending.append({**self.position(anchor), "subject": subject, "guard": self.ctx.guard(node)})

    def _setting(self, key: str, value: cst.BaseExpression) -> None:
        if key in STORAGE_KEYS:
            uri, holder = literal_or_default(self.ctx, value, {"memory://"})
            if uri is not None and uri.startswith("memory://"):
                self.report(holder, f"`{key}` is memory://", guard=self.ctx.guard(holder))

    def _configured_elsewhere(self) -> bool:
        for node in walk(self.ctx.module):
            if isinstance(node, cst.SimpleString | cst.Name) and (
                (isinstance(node, cst.Name) and node.value in STORAGE_KEYS)
                or (isinstance(node, cst.SimpleString) and node.evaluated_value in STORAGE_KEYS)
            ):
                return True
        return False


def _default_cache(path: str, facts: Facts) -> str:
    """The backend of ``CACHES["default"]`` the settings module ``path`` ends up with (Django's
    LocMemCache when no settings module of the project sets ``CACHES``)."""
    caches = caches_for(path, facts)
    if caches is not None:
        return caches.get("default", DEFAULT_CACHE)
    shared = project_caches(facts, "default")
    return shared[0] if shared else DEFAULT_CACHE
