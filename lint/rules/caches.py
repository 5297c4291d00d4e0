"""Category 3: cache backends local to one process or one pod's disk."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Facts, Rule, examples
from sessionkit.lint._types import Finding
from sessionkit.lint.rules._django import has_caches
from sessionkit.lint.rules._litestar import CACHE_CONFIGS, local_kind, registry, store_name
from sessionkit.lint.rules._util import keyword, literal_or_default, module_value, settings_in, string_value

DJANGO_LOCAL = frozenset(
    {"django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.filebased.FileBasedCache"}
)
#: A cache backend class that by its name keeps entries in the process or on the local disk.
LOCAL_BACKEND = re.compile(r"\.(LocMem|LocalMemory|InMemory|Memory|FileBased|FileSystem|File|Disk)Cache$")
FLASK_CACHING_LOCAL = frozenset(
    {
        "simple",
        "SimpleCache",
        "filesystem",
        "FileSystemCache",
        "flask_caching.backends.SimpleCache",
        "flask_caching.backends.simplecache.SimpleCache",
        "flask_caching.backends.FileSystemCache",
        "flask_caching.backends.filesystemcache.FileSystemCache",
    }
)
LOCAL_CACHE_CALLS = frozenset(
    {
        "cachelib.SimpleCache",
        "cachelib.simple.SimpleCache",
        "cachelib.FileSystemCache",
        "cachelib.file.FileSystemCache",
        "werkzeug.contrib.cache.SimpleCache",
        "werkzeug.contrib.cache.FileSystemCache",
        "aiocache.SimpleMemoryCache",
        "aiocache.backends.memory.SimpleMemoryCache",
        "diskcache.Cache",
        "diskcache.FanoutCache",
        "fastapi_cache.backends.inmemory.InMemoryBackend",
    }
)
#: ``@cache_page(60)``: the view's responses go to the default cache.
CACHE_PAGE = frozenset({"django.views.decorators.cache.cache_page"})
DJANGO_DEFAULT_CACHE = frozenset({"django.core.cache.cache"})
DJANGO_CACHE_WRITES = frozenset({"set", "add", "incr", "decr", "get_or_set", "set_many", "touch"})
AIOCACHE_DEFAULTING = frozenset({"aiocache.cached", "aiocache.decorators.cached", "aiocache.Cache"})


class LocalCacheBackend(Rule):
    """A cache that each replica keeps for itself.

    Writes and invalidations on one replica are invisible to the others, so replicas serve stale
    or inconsistent data, and anything stored there as shared state (counters, flags, tokens)
    diverges per replica.
    """

    code = "SK103"
    name = "local-cache-backend"
    category = "local-cache"
    severity = "warning"
    remedy = "refactor"
    prefilter = (
        r"LocMemCache|FileBasedCache|CACHE_TYPE|SimpleCache|FileSystemCache|SimpleMemoryCache|aiocache"
        r"|diskcache|cache\.(set|add|incr|decr|get_or_set|set_many|touch)\(|FileStore|MemoryStore"
        r"|\nif [^\n]*:\n[ \t]+CACHES\b|cache_page\(|InMemoryBackend|LocalMemoryCache|\.FileCache\b",
    )
    message = (
        "every replica gets its own copy of this cache, so a write or invalidation on one replica "
        "is invisible to the others (stale, inconsistent data); use a shared Redis cache "
        "(Django `django.core.cache.backends.redis.RedisCache`, flask-caching `RedisCache`)"
    )
    fix_hint = "Point the cache at Redis (the same server SESSIONKIT_REDIS_URL uses is fine)."
    valid = examples(
        """
            # file: site/settings.py
            INSTALLED_APPS = ["catalog"]
            CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r"}}
            # file: catalog/views.py
            from django.views.decorators.cache import cache_page
            @cache_page(60)
            def index(request):
                return None
        """,
        """
            # file: config/settings.py
            import os
            if os.getenv("USE_REDIS", "true") == "true":
                CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
        """,
        """
            CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r"}}
        """,
        """
            CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
        """,
        """
            from flask_caching import Cache
            cache = Cache(config={"CACHE_TYPE": "RedisCache"})
        """,
        """
            app.config["CACHE_TYPE"] = "NullCache"
        """,
        """
            from cachelib import RedisCache
            cache = RedisCache(host='r')
        """,
        """
            class SimpleCache:
                pass
            c = SimpleCache()
        """,
        """
            from aiocache import Cache
            cache = Cache(Cache.REDIS, endpoint='r')
        """,
        """
            # file: settings.py
            from django.core.cache import cache
            INSTALLED_APPS = []
            CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
            def bump(request):
                cache.incr("hits")
        """,
        """
            class Config:
                CACHE_TYPE = "RedisCache"
            class TestingConfig(Config):
                CACHE_TYPE = "SimpleCache"
        """,
        """
            # file: setup.cfg
            [metadata]
            name = shop
        """,
        """
            from pathlib import Path
            from litestar import Litestar
            from litestar.config.response_cache import ResponseCacheConfig
            from litestar.stores.file import FileStore
            from litestar.stores.redis import RedisStore
            app = Litestar(
                stores={"redis": RedisStore.with_client(), "file": FileStore(Path("data"))},
                response_cache_config=ResponseCacheConfig(store="redis"),
            )
        """,
        """
            # file: framework/conf/global_settings.py
            # The framework's defaults, overridden by each project's settings.
            CACHES = {"default": {"BACKEND": "framework.caches.local_memory.LocalMemoryCache"}}
        """,
        """
            import diskcache
            from dash import Dash, DiskcacheManager
            # The background-callback manager's store, not a cache of the app's data.
            manager = DiskcacheManager(diskcache.Cache("./cache"))
            app = Dash(__name__, background_callback_manager=manager)
        """,
    )
    invalid = examples(
        """
            # file: site/settings.py
            INSTALLED_APPS = ["catalog"]
            ROOT_URLCONF = "site.urls"
            # file: catalog/views.py
            from django.utils.decorators import method_decorator
            from django.views.decorators.cache import cache_page
            from django.views.generic import ListView
            class CourseList(ListView):
                @method_decorator(cache_page(60 * 15))
                def get(self, request, *args, **kwargs):
                    return super().get(request, *args, **kwargs)
        """,
        """
            from fastapi import FastAPI
            from fastapi_cache import FastAPICache
            from fastapi_cache.backends.inmemory import InMemoryBackend
            app = FastAPI()
            @app.on_event("startup")
            async def startup():
                FastAPICache.init(InMemoryBackend(), prefix="api")
        """,
        """
            # file: config/settings.py
            import os
            CACHES_ENABLED = os.getenv("CACHES_ENABLED", "false").lower() == "true"
            if CACHES_ENABLED:
                CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
        """,
        """
            CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        """,
        """
            CACHES = {
                "default": {
                    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                    "LOCATION": "/var/tmp/c",
                }
            }
        """,
        """
            from flask_caching import Cache
            cache = Cache(config={"CACHE_TYPE": "SimpleCache"})
        """,
        """
            class Config:
                CACHE_TYPE = "filesystem"
                CACHE_DIR = "/tmp/cache"
        """,
        """
            from cachelib.simple import SimpleCache
            cache = SimpleCache()
        """,
        """
            from aiocache import SimpleMemoryCache
            cache = SimpleMemoryCache()
        """,
        """
            from aiocache import cached
            @cached(ttl=10)
            async def get_user(uid):
                return await db.fetch(uid)
        """,
        """
            # file: settings.py
            from django.core.cache import cache
            INSTALLED_APPS = ["shop"]
            def bump(request):
                cache.incr("hits")
        """,
        """
            # file: instance/production.cfg
            DEBUG = False
            CACHE_TYPE = "SimpleCache"
        """,
        """
            # file: configs/config.cfg.template
            SECURE = {% if use_https %}True{% else %}False{% endif %}
            CACHE_TYPE = "{% if redis_enabled %}RedisCache{% else %}SimpleCache{% endif %}"
        """,
        """
            import os
            class Config:
                DEBUG = bool(os.environ.get("DEBUG"))
                CACHE_TYPE = "NullCache" if DEBUG else "simple"
        """,
        """
            from pathlib import Path
            from litestar import Litestar
            from litestar.stores.file import FileStore
            from litestar.stores.redis import RedisStore
            app = Litestar(
                stores={"sessions": RedisStore.with_client(), "response_cache": FileStore(Path("cache"))},
            )
        """,
        """
            from litestar import Litestar
            from litestar.config.response_cache import ResponseCacheConfig
            from litestar.stores.memory import MemoryStore
            PAGE_CACHE = MemoryStore()
            app = Litestar(
                stores={"pages": PAGE_CACHE},
                response_cache_config=ResponseCacheConfig(store="pages"),
            )
        """,
        """
            # file: project/core/settings.py
            CACHES = {
                "default": {"BACKEND": "starlette_web.contrib.redis.RedisCache"},
                "locmem": {"BACKEND": "starlette_web.common.caches.local_memory.LocalMemoryCache"},
            }
        """,
    )

    def visit_Module(self, node: cst.Module) -> None:
        """Litestar's response cache on a ``MemoryStore``/``FileStore`` registered for it."""
        calls = [call for call in self.ctx.nodes(cst.Call) if isinstance(call, cst.Call)]
        configs = [call for call in calls if self.ctx.calls(call, CACHE_CONFIGS)]
        names = {store_name(call, "response_cache") for call in configs} if configs else {"response_cache"}
        for entry in registry(self.ctx):
            if entry.name not in names:
                continue
            where, kind = entry.value, entry.local
            if kind is None and isinstance(where, cst.Name):
                # ``CACHE_STORE = MemoryStore()`` ... ``stores={"cache": CACHE_STORE}``: the
                # store is made (and is changed) where the name is bound.
                bound = module_value(self.ctx, where)
                if bound is not None and local_kind(self.ctx, bound):
                    where, kind = bound, local_kind(self.ctx, bound)
            if kind:
                subject = f"Litestar response cache in a {kind} store (`{entry.name}`)"
                self.report(where, subject, guard=self.ctx.guard(where))

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = string_value(node.key)
        if key == "BACKEND":
            value, holder = literal_or_default(self.ctx, node.value, DJANGO_LOCAL)
            if value in DJANGO_LOCAL:
                self.report(
                    holder, f"Django cache `{value.rsplit('.', 1)[-1]}`", guard=self.ctx.guard(holder)
                )
            elif value is not None and LOCAL_BACKEND.search(value) and self._in_caches(node):
                # A Django-style ``CACHES`` of another framework (starlette_web's
                # ``LocalMemoryCache``, ``FileCache``): the class name says where entries live.
                self.report(
                    holder, f"cache backend `{value.rsplit('.', 1)[-1]}`", guard=self.ctx.guard(holder)
                )
        elif key == "CACHE_TYPE":
            self._flask(node.value)

    def _job_manager_store(self, node: cst.Call) -> bool:
        """``DiskcacheManager(diskcache.Cache("./cache"))``: the store of Dash's background
        callback manager (a job queue, judged by whether callbacks run in the background), not a
        cache of the app's data."""
        arg = self.ctx.parents.get(node)
        outer = self.ctx.parents.get(arg) if isinstance(arg, cst.Arg) else None
        return isinstance(outer, cst.Call) and self.ctx.module.code_for_node(outer.func).endswith("Manager")

    def _in_caches(self, node: cst.CSTNode) -> bool:
        """``node`` is inside a module-level ``CACHES = {...}`` setting."""
        if self.ctx.path.endswith("global_settings.py"):
            return False  # a framework's defaults, which the project's settings override
        for parent in self.ctx.ancestors(node):
            if isinstance(parent, cst.Assign):
                return self.ctx.is_import_time(parent) and any(
                    isinstance(t.target, cst.Name) and t.target.value == "CACHES" for t in parent.targets
                )
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for key, value, where in settings_in(self.ctx, node):
            if key == "CACHE_TYPE":
                self._flask(value)
            elif key == "CACHES" and isinstance(where, cst.Name) and self.ctx.is_settings:
                self._switched_on(node)

    def _switched_on(self, node: cst.Assign) -> None:
        """``if CACHES_ENABLED: CACHES = {...redis...}`` with the switch off while its variable is
        unset: by default the project runs on Django's per-process LocMemCache."""
        why = self.ctx.dev_only(node)
        if not why or "environment switch" not in why or self.ctx.in_test_config(node):
            return
        subject = (
            "`CACHES` is set only when an environment switch is on: otherwise Django's default LocMemCache"
        )
        guard = "the shared cache applies only when the switch is on"
        self._sink.append(self.finding_at(self.ctx.path, self.position(node), subject, guard=guard))

    def visit_Call(self, node: cst.Call) -> None:
        self._django_cache_use(node)
        for key, value, _ in settings_in(self.ctx, node):
            if key == "CACHE_TYPE":
                self._flask(value)
        if self.ctx.calls(node, LOCAL_CACHE_CALLS):
            if self._job_manager_store(node):
                return
            name = self.ctx.module.code_for_node(node.func)
            self.report(node, f"`{name}()`", guard=self.ctx.guard(node))
        elif self.ctx.calls(node, AIOCACHE_DEFAULTING) and keyword(node, "cache") is None:
            if self.ctx.calls(node, {"aiocache.Cache"}):
                first = node.args[0].value if node.args else None
                if first is not None and not self.ctx.refers_to(first, {"aiocache.Cache.MEMORY"}):
                    return
            self.report(node, "aiocache on its default in-memory backend", guard=self.ctx.guard(node))

    def _django_cache_use(self, node: cst.Call) -> None:
        """Remember each write through ``django.core.cache.cache``: with no ``CACHES`` in the
        project's settings it goes to the per-process LocMemCache (decided across files)."""
        func = node.func
        if self.ctx.calls(node, CACHE_PAGE) and keyword(node, "cache") is None:
            uses = self.ctx.facts.setdefault("django_cache_use", [])
            uses.append({**self.position(node), "call": "cache_page"})
            return
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in DJANGO_CACHE_WRITES
            and isinstance(func.value, cst.Name)
            and self.ctx.refers_to(func.value, DJANGO_DEFAULT_CACHE)
            and not self.ctx.in_test_config(node)
        ):
            # Each write is a line that changes with the fix (labelled per site).
            uses = self.ctx.facts.setdefault("django_cache_use", [])
            uses.append({**self.position(node), "call": func.attr.value})

    @classmethod
    def project(cls, facts: Facts) -> list[Finding]:
        """Writes through ``django.core.cache.cache`` in a Django project that sets no ``CACHES``."""
        if not any(f.get("django_settings") for f in facts.values()) or has_caches(facts):
            return []
        out: list[Finding] = []
        for path, own in sorted(facts.items()):
            for use in own.get("django_cache_use", ()):
                call = "`@cache_page`" if use["call"] == "cache_page" else f"`cache.{use['call']}()`"
                subject = (
                    f"{call} writes to Django's default cache, a per-process "
                    "LocMemCache (no CACHES setting in the project)"
                )
                out.append(cls.finding_at(path, use, subject))
        return out

    def _flask(self, value: cst.BaseExpression) -> None:
        kind, holder = literal_or_default(self.ctx, value, FLASK_CACHING_LOCAL)
        if kind in FLASK_CACHING_LOCAL:
            self.report(holder, f'flask-caching `CACHE_TYPE = "{kind}"`', guard=self.ctx.guard(holder))
