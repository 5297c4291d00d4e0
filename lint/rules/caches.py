"""Category 3: cache backends local to one process or one pod's disk."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import Rule
from sessionkit.lint.rules._util import keyword, literal_or_default, settings_in, string_value

DJANGO_LOCAL = frozenset(
    {"django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.filebased.FileBasedCache"}
)
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
    }
)
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
        r"|diskcache|cache\.(set|add|incr|decr|get_or_set|set_many|touch)\(",
    )
    message = (
        "every replica gets its own copy of this cache, so a write or invalidation on one replica "
        "is invisible to the others (stale, inconsistent data); use a shared Redis cache "
        "(Django `django.core.cache.backends.redis.RedisCache`, flask-caching `RedisCache`)"
    )
    fix_hint = "Point the cache at Redis (the same server SESSIONKIT_REDIS_URL uses is fine)."
    valid = (
        'CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r"}}\n',
        'CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}\n',
        'from flask_caching import Cache\ncache = Cache(config={"CACHE_TYPE": "RedisCache"})\n',
        'app.config["CACHE_TYPE"] = "NullCache"\n',
        "from cachelib import RedisCache\ncache = RedisCache(host='r')\n",
        "class SimpleCache:\n    pass\nc = SimpleCache()\n",
        "from aiocache import Cache\ncache = Cache(Cache.REDIS, endpoint='r')\n",
        '# file: settings.py\nfrom django.core.cache import cache\nINSTALLED_APPS = []\nCACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}\ndef bump(request):\n    cache.incr("hits")\n',
    )
    invalid = (
        'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
        'CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": "/var/tmp/c"}}\n',
        'from flask_caching import Cache\ncache = Cache(config={"CACHE_TYPE": "SimpleCache"})\n',
        'class Config:\n    CACHE_TYPE = "filesystem"\n    CACHE_DIR = "/tmp/cache"\n',
        "from cachelib.simple import SimpleCache\ncache = SimpleCache()\n",
        "from aiocache import SimpleMemoryCache\ncache = SimpleMemoryCache()\n",
        "from aiocache import cached\n@cached(ttl=10)\nasync def get_user(uid):\n    return await db.fetch(uid)\n",
        '# file: settings.py\nfrom django.core.cache import cache\nINSTALLED_APPS = ["shop"]\ndef bump(request):\n    cache.incr("hits")\n',
    )

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = string_value(node.key)
        if key == "BACKEND":
            value, holder = literal_or_default(self.ctx, node.value)
            if value in DJANGO_LOCAL:
                self.report(
                    holder, f"Django cache `{value.rsplit('.', 1)[-1]}`", guard=self.ctx.guard(holder)
                )
        elif key == "CACHE_TYPE":
            self._flask(node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for key, value, _ in settings_in(self.ctx, node):
            if key == "CACHE_TYPE":
                self._flask(value)

    def visit_Call(self, node: cst.Call) -> None:
        self._django_cache_use(node)
        for key, value, _ in settings_in(self.ctx, node):
            if key == "CACHE_TYPE":
                self._flask(value)
        if self.ctx.calls(node, LOCAL_CACHE_CALLS):
            name = self.ctx.module.code_for_node(node.func)
            self.report(node, f"`{name}()`", guard=self.ctx.guard(node))
        elif self.ctx.calls(node, AIOCACHE_DEFAULTING) and keyword(node, "cache") is None:
            if self.ctx.calls(node, {"aiocache.Cache"}):
                first = node.args[0].value if node.args else None
                if first is not None and not self.ctx.refers_to(first, {"aiocache.Cache.MEMORY"}):
                    return
            self.report(node, "aiocache on its default in-memory backend", guard=self.ctx.guard(node))

    def _django_cache_use(self, node: cst.Call) -> None:
        """Remember the first write through ``django.core.cache.cache``: with no ``CACHES`` in the
        project's settings it goes to the per-process LocMemCache (decided across files)."""
        func = node.func
        if (
            "django_cache_use" not in self.ctx.facts
            and isinstance(func, cst.Attribute)
            and func.attr.value in DJANGO_CACHE_WRITES
            and isinstance(func.value, cst.Name)
            and self.ctx.refers_to(func.value, DJANGO_DEFAULT_CACHE)
        ):
            where = self.ctx.positions[node]
            self.ctx.facts["django_cache_use"] = {
                "line": where.start.line,
                "column": where.start.column + 1,
                "end_line": where.end.line,
                "end_column": where.end.column + 1,
                "call": func.attr.value,
            }

    def _flask(self, value: cst.BaseExpression) -> None:
        kind, holder = literal_or_default(self.ctx, value)
        if kind in FLASK_CACHING_LOCAL:
            self.report(holder, f'flask-caching `CACHE_TYPE = "{kind}"`', guard=self.ctx.guard(holder))
