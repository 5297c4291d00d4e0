"""Category 8: process-local memoization of per-user or changing data."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint._rule import Rule, examples
from sessionkit.lint._types import Finding
from sessionkit.lint.rules._registry import removes_entry
from sessionkit.lint.rules._state import request_time_mutations
from sessionkit.lint.rules._util import walk
from sessionkit.lint.rules.globals import GlobalRebinding
from sessionkit.lint.rules.module_state import CONTAINER_PREFILTER

MEMOIZERS = frozenset(
    {
        "functools.lru_cache",
        "functools.cache",
        "cachetools.cached",
        "cachetools.func.ttl_cache",
        "cachetools.func.lru_cache",
        "cachetools.func.lfu_cache",
        "cachetools.func.fifo_cache",
        "async_lru.alru_cache",
        "asyncache.cached",
        "cachetools.cachedmethod",
    }
)
PER_USER = re.compile(
    r"(?i)user|account|customer|tenant|session|token|email|member|profile|org|cart|order|request"
)
SETTINGS_NAME = re.compile(r"(?i)settings|config|conf$|env|secret|^get_app$|schema|template")
DATA_ACCESS_ATTRS = frozenset(
    {
        "objects",
        "query",
        "execute",
        "fetch",
        "fetchone",
        "fetchall",
        "fetchrow",
        "scalars",
        "scalar",
        "filter",
        "filter_by",
        "get_object_or_404",
        "find",
        "find_one",
        "hgetall",
        "session",
        "all",
        "first",
        "select_related",
        "json",
        "get_or_create",
        "aggregate",
        "count",
    }
)
DATA_ACCESS_HEADS = frozenset({"requests", "httpx", "urllib", "aiohttp", "sqlalchemy", "redis"})
DATA_ACCESS_MODULES = ("requests.", "httpx.", "urllib.request.", "aiohttp.", "sqlalchemy.", "redis.")


class PerUserMemoization(Rule):
    """``@lru_cache``/``@cache``/cachetools on a function returning per-user or database data.

    Each replica caches its own answers; after a change made through another replica this one
    keeps serving the stale value until it is evicted. Zero-argument settings loaders are fine.
    """

    code = "SK108"
    name = "per-user-memoization"
    category = "memoization"
    severity = "warning"
    remedy = "refactor"
    prefilter = (r"@\s*[\w.]*(lru_cache|cache|cached|ttl_cache|alru_cache|cachedmethod)\b",)
    message = (
        "the memoized results live in one process, so after the data changes (through another "
        "replica) this replica keeps returning the old value; cache it in Redis with explicit "
        "invalidation, or do not cache per-user data in process"
    )
    fix_hint = "Use a shared cache (Redis) with invalidation, or drop the in-process memoization."
    valid = examples(
        """
            from functools import lru_cache
            @lru_cache
            def get_settings():
                return Settings()
        """,
        """
            from functools import lru_cache
            @lru_cache(maxsize=None)
            def slug(text):
                return text.lower().replace(' ', '-')
        """,
        """
            import functools
            @functools.cache
            def fib(n):
                return n if n < 2 else fib(n - 1) + fib(n - 2)
        """,
        """
            from functools import lru_cache
            @lru_cache()
            def load_config(path):
                return open(path).read()
        """,
        """
            def lru_cache(f):
                return f
            @lru_cache
            def get_user(user_id):
                return User.objects.get(pk=user_id)
        """,
        """
            from functools import lru_cache
            @lru_cache
            def template_names():
                return sorted(os.listdir("templates"))
        """,
        """
            import functools
            @functools.lru_cache(maxsize=64)
            def is_dev_host(scheme, host):
                name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
                return scheme == "http" and name.endswith(".test")
        """,
    )
    invalid = examples(
        """
            from functools import lru_cache
            @lru_cache(maxsize=1024)
            def get_user(user_id):
                return User.objects.get(pk=user_id)
        """,
        """
            import functools
            @functools.cache
            def permissions_for(user):
                return list(user.groups.all())
        """,
        """
            from cachetools import cached, TTLCache
            @cached(TTLCache(100, 60))
            def fetch_profile(uid):
                return requests.get(f'https://api/users/{uid}').json()
        """,
        """
            from functools import lru_cache
            @lru_cache
            def product_price(pk):
                return db.session.query(Product).get(pk).price
        """,
        """
            from async_lru import alru_cache
            @alru_cache
            async def account_balance(account_id):
                return await conn.fetchrow('select ...', account_id)
        """,
        """
            from functools import lru_cache
            class Repo:
                @lru_cache
                def orders(self, customer_id):
                    return list(self.db.query(Order).filter_by(customer_id=customer_id))
        """,
        """
            from functools import cache
            @cache
            def active_products():
                return list(Product.objects.filter(active=True))
        """,
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # Cheap syntactic checks first; names are resolved only for real candidates.
        if not node.decorators or SETTINGS_NAME.search(node.name.value):
            return
        params = [
            p.name.value
            for p in (*node.params.posonly_params, *node.params.params)
            if p.name.value not in {"self", "cls"}
        ]
        # Without parameters only a function that reads changing data (the database, an API)
        # is a stale cache; with them, per-user parameters count too.
        if not (any(PER_USER.search(p) for p in params) or self._reads_data(node)):
            return
        for dec in node.decorators:
            expr = dec.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            if self.ctx.refers_to(target, MEMOIZERS):
                self.report(dec, f"`{node.name.value}()` is memoized in process")
                return

    def _reads_data(self, fn: cst.FunctionDef) -> bool:
        # ``host.count(":")`` on an argument reads no data: the result depends on the arguments
        # alone (a per-user argument is judged by its name, above).
        params = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params)} - {"self", "cls"}
        for node in walk(fn.body):
            if isinstance(node, cst.Attribute) and node.attr.value in DATA_ACCESS_ATTRS:
                root = _chain_root(node)
                argument = isinstance(root, cst.Name) and root.value in params
                if not (argument or isinstance(root, cst.BaseString)):
                    return True
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                head = node.func.value
                while isinstance(head, cst.Attribute):
                    head = head.value
                if (
                    isinstance(head, cst.Name)
                    and (head.value in DATA_ACCESS_HEADS or head.value in self.ctx.aliases)
                    and head.value in self.ctx.imported
                    and any(n.startswith(DATA_ACCESS_MODULES) for n in self.ctx.qnames(node.func))
                ):
                    return True
        return False


class ModuleCacheAtRequestTime(Rule):
    """A module-level cache dict (or cachetools cache) filled while handling requests, or a
    module-level cache rebound behind ``global`` (``global _cache; _cache = load()``)."""

    code = "SK208"
    name = "module-cache-at-request-time"
    category = "memoization"
    severity = "warning"
    remedy = "refactor"
    prefilter = (CONTAINER_PREFILTER[0] + r"|\bglobal\s+[\w, ]*(?i:cache|memo)",)
    message = (
        "each replica fills its own copy of this cache, so entries differ between replicas and "
        "go stale when another replica changes the data; use Redis with explicit invalidation"
    )
    fix_hint = "Replace the module-level cache with a shared Redis cache."
    valid = examples(
        """
            from fastapi import FastAPI
            app = FastAPI()
            SEEN = {}
            @app.post("/visit/{ip}")
            async def visit(ip: str):
                if ip not in SEEN:
                    SEEN[ip] = 0
                SEEN[ip] += 1
        """,
        """
            _cache = {}
            def warm():
                _cache['a'] = 1
            warm()
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            _cache = {'a': 1}
            @app.get('/')
            def index():
                return _cache['a']
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            @app.get('/')
            def index():
                cache = {}
                cache['a'] = 1
                return cache
        """,
        """
            from cachetools import TTLCache
            CACHE = TTLCache(10, 60)
            CACHE['boot'] = 1
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            _cache = {}
            @app.on_event('startup')
            async def boot():
                _cache.update(load())
        """,
    )
    invalid = examples(
        """
            from sanic import Sanic
            app = Sanic("erp")
            class RoleCache:
                def __init__(self):
                    self.roles = {}
                async def get(self, uid):
                    if uid not in self.roles:
                        self.roles[uid] = await app.ctx.db.roles.find_one({"uid": uid})
                    return self.roles[uid]
            role_cache = RoleCache()
            @app.get("/me")
            async def me(request):
                return await role_cache.get(request.ctx.uid)
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            _cache = {}
            @app.get('/user/<uid>')
            def user(uid):
                if uid not in _cache:
                    _cache[uid] = load(uid)
                return _cache[uid]
        """,
        """
            from cachetools import TTLCache
            from fastapi import FastAPI
            app = FastAPI()
            PROFILE = TTLCache(maxsize=100, ttl=60)
            @app.get('/p/{pk}')
            async def profile(pk: int):
                PROFILE[pk] = await fetch(pk)
        """,
        """
            memo = {}
            def view(request, pk):
                memo.setdefault(pk, compute(pk))
        """,
        """
            from starlette.routing import Route
            RESULT_CACHE = dict()
            async def page(request):
                RESULT_CACHE[request.url.path] = render()
            routes = [Route('/', page)]
        """,
        """
            from flask import Blueprint
            bp = Blueprint('x', __name__)
            cache = {}
            def remember(k, v):
                cache[k] = v
            @bp.get('/k')
            def k():
                remember('a', 1)
                return ''
        """,
        """
            # file: app/settings_cache.py
            _settings_cache = {}
            def reload_settings(session):
                global _settings_cache
                _settings_cache = {row.key: row.value for row in session.query(Setting)}
            # file: app/admin.py
            from fastapi import APIRouter
            from app.settings_cache import reload_settings
            router = APIRouter()
            @router.post("/admin/settings")
            async def save(session=Depends(db)):
                reload_settings(session)
        """,
    )

    visit_Global = GlobalRebinding.visit_Global
    _lazy = GlobalRebinding._lazy
    caches = True

    def __init__(self, ctx: FileContext, sink: list[Finding]) -> None:
        super().__init__(ctx, sink)
        self._functions: set[cst.FunctionDef | None] = set()

    def report_request_time(self, node: cst.CSTNode, subject: str, deferred: str | None) -> None:
        # One finding per function: a cache rebuilt behind ``global`` and filled in the same
        # function is one thing to change.
        functions = self.ctx.enclosing_functions(node)
        key = functions[-1] if functions else None
        if key in self._functions:
            return
        self._functions.add(key)
        super().report_request_time(node, subject, deferred)

    def leave_Module(self, node: cst.Module) -> None:
        for mutation in request_time_mutations(self.ctx):
            functions = self.ctx.enclosing_functions(mutation.node)
            if removes_entry(mutation.node):
                continue  # an invalidation: the fill is the line to change (its entries go with it)
            if mutation.role == "cache" and (functions[-1] if functions else None) not in self._functions:
                # Each site that fills the cache is a line to change (unless the function
                # already rebinds the cache behind ``global``: one finding there).
                Rule.report_request_time(
                    self,
                    mutation.node,
                    f"module-level cache `{mutation.name}` filled at request time",
                    mutation.deferred,
                )


def _chain_root(node: cst.BaseExpression) -> cst.BaseExpression:
    """``host`` of ``host.strip().count(":")``, ``User`` of ``User.objects.filter(...).count``."""
    while isinstance(node, cst.Attribute | cst.Subscript | cst.Call):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node


#: Container methods that only take entries out.
