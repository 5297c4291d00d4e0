"""Category 2: server-side sessions kept in process memory or on one pod's disk."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import DJANGO_STORE, FLASK_STORE, Facts, Rule, examples
from sessionkit.lint._types import Finding
from sessionkit.lint.rules._django import DEFAULT_CACHE, LOCAL_CACHES, caches_for, project_caches
from sessionkit.lint.rules._util import (
    dict_entries,
    literal_or_default,
    settings_in,
)

DJANGO_FILE_ENGINE = "django.contrib.sessions.backends.file"
DJANGO_CACHE_ENGINES = frozenset(
    {"django.contrib.sessions.backends.cache", "django.contrib.sessions.backends.cached_db"}
)
FLASK_LOCAL_TYPES = frozenset({"filesystem", "cachelib"})
DJANGO_LOCAL_ENGINES = DJANGO_CACHE_ENGINES | {DJANGO_FILE_ENGINE}
FLASK_LOCAL_INTERFACES = frozenset(
    {
        "flask_session.FileSystemSessionInterface",
        "flask_session.filesystem.FileSystemSessionInterface",
        "flask_session.sessions.FileSystemSessionInterface",
        "flask_session.filesystem.filesystem.FileSystemSessionInterface",
        "flask_session.CacheLibSessionInterface",
        "flask_session.cachelib.CacheLibSessionInterface",
    }
)


class DjangoLocalSessions(Rule):
    """Django sessions stored in files, or in a cache that lives in the process.

    ``SESSION_ENGINE = "...backends.file"`` writes sessions to the pod's disk; ``cache`` and
    ``cached_db`` over a ``LocMemCache`` (Django's default ``CACHES``) keep them in one process.
    The cache case is resolved across files: ``CACHES`` may live in a base settings module.
    """

    code = "SK102"
    name = "django-local-sessions"
    category = "local-sessions"
    severity = "error"
    remedy = "externalize"
    fixable = True
    prefilter = (r"SESSION_ENGINE|CACHES|SESSION_CACHE_ALIAS|INSTALLED_APPS|ROOT_URLCONF",)
    message = (
        "sessions live in one replica's memory or disk, so the next request routed to another "
        f"replica has no session (user logged out); {DJANGO_STORE}"
    )
    fix_hint = 'SESSION_ENGINE = "sessionkit.adapters.django" (`sessionkit lint --fix` does it).'
    valid = examples(
        """
            # file: settings.py
            SESSION_ENGINE = "django.contrib.sessions.backends.db"
        """,
        """
            # file: settings.py
            SESSION_ENGINE = "sessionkit.adapters.django"
        """,
        """
            # file: settings.py
            SESSION_ENGINE = "django.contrib.sessions.backends.cache"
            CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r:6379"}}
        """,
        """
            # file: settings.py
            SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
        """,
        """
            # file: settings.py
            SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
            CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache"}}
        """,
        """
            def engine_name():
                SESSION_ENGINE = "django.contrib.sessions.backends.file"
                return SESSION_ENGINE
        """,
        """
            from django.conf import settings
            settings.configure(
                SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies", INSTALLED_APPS=[]
            )
        """,
        """
            from django.conf import settings
            SETTINGS = {
                "SESSION_ENGINE": "django.contrib.sessions.backends.cache",
                "CACHES": {"default": {"BACKEND": "django_redis.cache.RedisCache"}},
            }
            settings.configure(**SETTINGS)
        """,
    )
    invalid = examples(
        """
            # file: settings.py
            SESSION_ENGINE = "django.contrib.sessions.backends.file"
        """,
        """
            # file: settings.py
            SESSION_ENGINE = "django.contrib.sessions.backends.cache"
        """,
        """
            # file: settings.py
            SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
            CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        """,
        """
            # file: mysite/settings.py
            SESSION_ENGINE = "django.contrib.sessions.backends.cache"
            SESSION_CACHE_ALIAS = "sessions"
            CACHES = {
                "default": {"BACKEND": "django_redis.cache.RedisCache"},
                "sessions": {
                    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                    "LOCATION": "/var/tmp/s",
                },
            }
        """,
        """
            # file: settings.py
            import os
            SESSION_ENGINE = os.environ.get("SESSION_ENGINE", "django.contrib.sessions.backends.file")
        """,
        """
            # file: config/settings/base.py
            SESSION_ENGINE: str = "django.contrib.sessions.backends.file"
            SESSION_FILE_PATH = "/tmp/sessions"
        """,
        """
            from django.conf import settings
            settings.configure(
                INSTALLED_APPS=["django.contrib.sessions"],
                SESSION_ENGINE="django.contrib.sessions.backends.cache",
                CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            )
        """,
        """
            from django.conf import settings
            SETTINGS = {"ROOT_URLCONF": __name__, "SESSION_ENGINE": "django.contrib.sessions.backends.cache"}
            if not settings.configured:
                settings.configure(**SETTINGS)
        """,
        """
            from django.conf import settings
            settings.configure(SESSION_ENGINE="django.contrib.sessions.backends.file")
        """,
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar) and self.ctx.is_import_time(node):
            dots = "." * len(node.relative)
            target = self.ctx.module.code_for_node(node.module) if node.module else ""
            self.ctx.facts.setdefault("star_imports", []).append(dots + target)

    def _check(self, node: cst.CSTNode) -> None:
        for key, value, _ in settings_in(self.ctx, node):
            if key == "CACHES" and self.ctx.is_import_time(node):
                # An `if DEBUG:` override must not hide the production CACHES.
                slot = "caches_guarded" if self.ctx.guard(node) else "caches"
                caches = self.ctx.facts.setdefault(slot, {})
                for alias, config, _ in dict_entries(value):
                    backend = dict(
                        (k, literal_or_default(self.ctx, v)[0]) for k, v, _ in dict_entries(config)
                    ).get("BACKEND")
                    caches[alias] = backend or ""
            elif key in {"INSTALLED_APPS", "ROOT_URLCONF"} and self.ctx.is_import_time(node):
                self.ctx.facts["django_settings"] = True
            elif key == "SESSION_CACHE_ALIAS":
                self.ctx.facts["session_cache_alias"] = literal_or_default(self.ctx, value)[0]
            if key != "SESSION_ENGINE":
                continue
            engine, holder = literal_or_default(self.ctx, value, DJANGO_LOCAL_ENGINES)
            if engine == DJANGO_FILE_ENGINE:
                self.report(
                    holder,
                    "`SESSION_ENGINE` stores sessions in files on local disk",
                    guard=self.ctx.guard(holder),
                )
            elif engine in DJANGO_CACHE_ENGINES:
                self.ctx.facts["session_engine"] = {
                    "engine": engine,
                    **self.position(holder),
                    "guard": self.ctx.guard(holder),
                }

    @classmethod
    def project(cls, facts: Facts) -> list[Finding]:
        """A cache session engine over the ``CACHES`` its settings module ends up with."""
        out: list[Finding] = []
        for path, own in sorted(facts.items()):
            engine = own.get("session_engine")
            if not engine:
                continue
            alias = own.get("session_cache_alias") or "default"
            caches = caches_for(path, facts)
            if caches is None:
                # No CACHES reachable from this module: elsewhere in the project, or Django's default.
                shared = project_caches(facts, alias)
                if shared and all(c not in LOCAL_CACHES for c in shared):
                    continue
                backend = shared[0] if shared else DEFAULT_CACHE
                why = "Django's default CACHES" if not shared else f"CACHES[{alias!r}]"
            else:
                backend = caches.get(alias, DEFAULT_CACHE if alias == "default" else "")
                why = f"CACHES[{alias!r}]"
            if backend in LOCAL_CACHES:
                short = engine["engine"].rsplit(".", 1)[-1]
                subject = (
                    f"`SESSION_ENGINE` {short!r} over {why} = {backend.rsplit('.', 1)[-1]} (per process)"
                )
                out.append(cls.finding_at(path, engine, subject, engine.get("guard")))
        return out


class FlaskLocalSessions(Rule):
    """Flask-Session configured with the filesystem or cachelib (local) backend."""

    code = "SK202"
    name = "flask-local-sessions"
    category = "local-sessions"
    severity = "error"
    remedy = "externalize"
    prefilter = (r"SESSION_TYPE|SessionInterface",)
    message = (
        "Flask-Session keeps sessions on this replica's disk or memory, so a request served by "
        f"another replica finds no session; {FLASK_STORE}"
    )
    fix_hint = "Replace Flask-Session with SessionKit(app) and set SESSIONKIT_REDIS_URL."
    valid = examples(
        """
            app.config["SESSION_TYPE"] = "redis"
        """,
        """
            class Config:
                SESSION_TYPE = "redis"
        """,
        """
            SESSION_TYPE = "memcached"
        """,
        """
            def handler():
                SESSION_TYPE = "filesystem"
                return SESSION_TYPE
        """,
        """
            from flask_session import RedisSessionInterface
            app.session_interface = RedisSessionInterface(r, "s:")
        """,
    )
    invalid = examples(
        """
            from flask import Flask
            from flask_session import Session
            app = Flask(__name__)
            app.config["SESSION_TYPE"] = "filesystem"
            Session(app)
        """,
        """
            class Config:
                SESSION_TYPE = "filesystem"
        """,
        """
            SESSION_TYPE = "cachelib"
        """,
        """
            app.config.update(SESSION_TYPE="filesystem", SESSION_PERMANENT=False)
        """,
        """
            from flask_session import FileSystemSessionInterface
            app.session_interface = FileSystemSessionInterface("/tmp/s")
        """,
        """
            import os
            app.config["SESSION_TYPE"] = os.environ.get("SESSION_TYPE", "filesystem")
        """,
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node)

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.calls(node, FLASK_LOCAL_INTERFACES):
            self.report(node, "a local Flask-Session interface", guard=self.ctx.guard(node))
        else:
            self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        for key, value, _ in settings_in(self.ctx, node):
            if key == "SESSION_TYPE":
                kind, holder = literal_or_default(self.ctx, value, FLASK_LOCAL_TYPES)
                if kind in FLASK_LOCAL_TYPES:
                    self.report(holder, f'`SESSION_TYPE = "{kind}"`', guard=self.ctx.guard(holder))
