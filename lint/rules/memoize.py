"""Category 8: process-local memoization of per-user or changing data."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule
from sessionkit.lint.rules._state import request_time_mutations
from sessionkit.lint.rules._util import walk
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
    valid = (
        "from functools import lru_cache\n@lru_cache\ndef get_settings():\n    return Settings()\n",
        "from functools import lru_cache\n@lru_cache(maxsize=None)\ndef slug(text):\n    return text.lower().replace(' ', '-')\n",
        "import functools\n@functools.cache\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
        "from functools import lru_cache\n@lru_cache()\ndef load_config(path):\n    return open(path).read()\n",
        "def lru_cache(f):\n    return f\n@lru_cache\ndef get_user(user_id):\n    return User.objects.get(pk=user_id)\n",
    )
    invalid = (
        "from functools import lru_cache\n@lru_cache(maxsize=1024)\ndef get_user(user_id):\n    return User.objects.get(pk=user_id)\n",
        "import functools\n@functools.cache\ndef permissions_for(user):\n    return list(user.groups.all())\n",
        "from cachetools import cached, TTLCache\n@cached(TTLCache(100, 60))\ndef fetch_profile(uid):\n    return requests.get(f'https://api/users/{uid}').json()\n",
        "from functools import lru_cache\n@lru_cache\ndef product_price(pk):\n    return db.session.query(Product).get(pk).price\n",
        "from async_lru import alru_cache\n@alru_cache\nasync def account_balance(account_id):\n    return await conn.fetchrow('select ...', account_id)\n",
        "from functools import lru_cache\nclass Repo:\n    @lru_cache\n    def orders(self, customer_id):\n        return list(self.db.query(Order).filter_by(customer_id=customer_id))\n",
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
        if not params:
            return
        if not (any(PER_USER.search(p) for p in params) or self._reads_data(node)):
            return
        for dec in node.decorators:
            expr = dec.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            if self.ctx.refers_to(target, MEMOIZERS):
                self.report(dec, f"`{node.name.value}()` is memoized in process")
                return

    def _reads_data(self, fn: cst.FunctionDef) -> bool:
        for node in walk(fn.body):
            if isinstance(node, cst.Attribute) and node.attr.value in DATA_ACCESS_ATTRS:
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
    """A module-level cache dict (or cachetools cache) filled while handling requests."""

    code = "SK208"
    name = "module-cache-at-request-time"
    category = "memoization"
    severity = "warning"
    remedy = "refactor"
    prefilter = CONTAINER_PREFILTER
    message = (
        "each replica fills its own copy of this cache, so entries differ between replicas and "
        "go stale when another replica changes the data; use Redis with explicit invalidation"
    )
    fix_hint = "Replace the module-level cache with a shared Redis cache."
    valid = (
        "_cache = {}\ndef warm():\n    _cache['a'] = 1\nwarm()\n",
        "from flask import Flask\napp = Flask(__name__)\n_cache = {'a': 1}\n@app.get('/')\ndef index():\n    return _cache['a']\n",
        "from flask import Flask\napp = Flask(__name__)\n@app.get('/')\ndef index():\n    cache = {}\n    cache['a'] = 1\n    return cache\n",
        "from cachetools import TTLCache\nCACHE = TTLCache(10, 60)\nCACHE['boot'] = 1\n",
        "from fastapi import FastAPI\napp = FastAPI()\n_cache = {}\n@app.on_event('startup')\nasync def boot():\n    _cache.update(load())\n",
    )
    invalid = (
        "from flask import Flask\napp = Flask(__name__)\n_cache = {}\n@app.get('/user/<uid>')\ndef user(uid):\n    if uid not in _cache:\n        _cache[uid] = load(uid)\n    return _cache[uid]\n",
        "from cachetools import TTLCache\nfrom fastapi import FastAPI\napp = FastAPI()\nPROFILE = TTLCache(maxsize=100, ttl=60)\n@app.get('/p/{pk}')\nasync def profile(pk: int):\n    PROFILE[pk] = await fetch(pk)\n",
        "memo = {}\ndef view(request, pk):\n    memo.setdefault(pk, compute(pk))\n",
        "from starlette.routing import Route\nRESULT_CACHE = dict()\nasync def page(request):\n    RESULT_CACHE[request.url.path] = render()\nroutes = [Route('/', page)]\n",
        "from flask import Blueprint\nbp = Blueprint('x', __name__)\ncache = {}\ndef remember(k, v):\n    cache[k] = v\n@bp.get('/k')\ndef k():\n    remember('a', 1)\n    return ''\n",
    )

    def visit_Module(self, node: cst.Module) -> None:
        for mutation in request_time_mutations(self.ctx):
            if mutation.role == "cache":
                self.report(mutation.node, f"module-level cache `{mutation.name}` filled at request time")
