"""Category 6: module globals rebound with ``global`` while handling a request."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint._walk import children, walk
from sessionkit.lint.rules._names import CACHE_NAMES


class GlobalRebinding(Rule):
    """``global x`` followed by an assignment inside a request handler (a global named like a
    cache, ``_cache``/``memo``, is memoization: SK208); each rebinding statement is reported.

    The new value exists only in the process that served the request.
    """

    code = "SK106"
    name = "global-rebinding"
    category = "global-rebinding"
    severity = "error"
    remedy = "refactor"
    prefilter = (r"\bglobal\b",)
    message = (
        "rebinding a module global at request time changes it in one process only, so replicas "
        "disagree and the value is lost on restart; store it in Redis or the database"
    )
    fix_hint = "Replace the global with shared storage (Redis, database)."
    valid = examples(
        """
            from datetime import datetime, timedelta
            from fastapi import APIRouter
            router = APIRouter()
            _token = None
            _token_expire = None
            async def get_token():
                global _token, _token_expire
                if _token and _token_expire and _token_expire > datetime.utcnow():
                    return _token
                data = await fetch_token()
                _token = data["access_token"]
                _token_expire = datetime.utcnow() + timedelta(seconds=data["expires_in"])
                return _token
            @router.get("/quote")
            async def quote():
                return await call_api(await get_token())
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            _box = None
            def get_box():
                global _box
                if _box:
                    return _box
                _box = open_sealed_box()
                return _box
            @app.get("/token")
            async def token():
                return get_box().decrypt(b"")
        """,
        """
            counter = 0
            def bump():
                global counter
                counter += 1
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            client = None
            @app.before_serving
            def boot():
                global client
                client = connect()
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            X = 1
            @app.get('/')
            def index():
                global X
                return str(X)
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            _db = None
            async def lifespan(app):
                global _db
                _db = make()
                yield
        """,
        """
            def create_app():
                global app
                app = Flask(__name__)
                return app
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            _model = None
            @app.post("/classify")
            def classify():
                global _model
                if _model is None:
                    _model = load_model()
                return _model.predict()
        """,
        """
            _pipeline = None
            def classify(text):
                global _pipeline
                loaded = _pipeline is not None
                if not loaded:
                    _pipeline = load_pipeline()
                return _pipeline.predict(text)
            def view(request):
                return classify(request.body)
        """,
    )
    invalid = examples(
        """
            # file: app/utils/login.py
            state = "idle"
            def start_login():
                global state
                state = "started"
            # file: app/routes.py
            from flask import Blueprint
            import utils.login
            bp = Blueprint("login", __name__)
            @bp.post("/")
            def register_account():
                return utils.login.start_login()
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            counter = 0
            @app.route('/hit')
            def hit():
                global counter
                counter += 1
                return str(counter)
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            latest = None
            @app.post('/latest')
            async def set_latest(item: dict):
                global latest
                latest = item
        """,
        """
            current_user = None
            def login_view(request):
                global current_user
                current_user = request.user
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            TOKEN = None
            def refresh():
                global TOKEN
                TOKEN = fetch()
            @app.get('/t')
            def t():
                refresh()
                return TOKEN
        """,
        """
            from starlette.routing import Route
            mode = 'a'
            async def switch(request):
                global mode
                mode = 'b' if mode == 'a' else 'a'
            routes = [Route('/s', switch)]
        """,
        """
            from datetime import date
            from flask import Flask, jsonify
            app = Flask(__name__)
            rates, day = fetch_rates(), date.today()
            @app.route("/")
            def api():
                global rates, day
                if day == date.today():
                    return jsonify(rates)
                rates, day = fetch_rates(), date.today()
                return jsonify(rates)
        """,
        """
            # file: app/tokens.py
            TOKEN = None
            def refresh_token():
                global TOKEN
                TOKEN = fetch_token()
            # file: app/views.py
            from flask import Blueprint
            from app.tokens import refresh_token
            bp = Blueprint("api", __name__)
            @bp.post("/refresh")
            def refresh():
                refresh_token()
                return ""
        """,
        """
            # file: services/settings.py
            _favicon_url_cache = ""
            def set_cached_favicon_url(url):
                global _favicon_url_cache
                _favicon_url_cache = url
            # file: views.py
            from litestar import post
            from services.settings import set_cached_favicon_url
            @post("/admin/settings")
            async def save(data: dict) -> None:
                set_cached_favicon_url(data["favicon"])
        """,
    )

    #: ``True``: only globals named like caches (reported as memoization, SK208); ``False``: the others.
    caches = False

    def visit_Global(self, node: cst.Global) -> None:
        functions = self.ctx.enclosing_functions(node)
        if not functions:
            return
        deferred = None if self.ctx.is_request_time(node) else self.ctx.deferred(node)
        if deferred is None and not self.ctx.is_request_time(node):
            return
        declared = {
            item.name.value for item in node.names if _memoizes(item.name.value, functions[0]) == self.caches
        }
        for statement, names in _assignments(functions[0]):
            rebound = sorted(names & declared)
            if rebound and not any(self._lazy(statement, name, functions[0]) for name in rebound):
                listed = ", ".join(f"`{n}`" for n in rebound)
                self.report_request_time(statement, f"`global` {listed} rebound at request time", deferred)

    def _lazy(self, statement: cst.CSTNode, name: str, fn: cst.FunctionDef) -> bool:
        """Created once on first use (``if name is None:``, ``if not name:``, or ``if name: return
        name`` before the creation): a per-process resource such as a client or a loaded model,
        which holds no request data."""
        test = re.compile(rf"\b{re.escape(name)}\s+is\s+(not\s+)?None\b|\bnot\s+{re.escape(name)}\b")
        body = self.ctx.module.code_for_node(fn.body)
        # ``if decoder: return decoder`` first, then the one-time creation below it
        early = re.compile(rf"\bif\s+{re.escape(name)}(\s+is\s+not\s+None)?\s*:\s*return\b")
        if early.search(body):
            return True
        # ``if token and expires > now(): return token``: a cached value and its expiry, renewed
        # when stale (each process fetching its own copy changes nothing a user sees)
        for cached in re.finditer(r"(?m)^\s*if\b([^\n]*):\s*\n?\s*return\s+(\w+)\s*$", body):
            condition, returned = cached.group(1), cached.group(2)
            mentioned = re.search(rf"\b{re.escape(name)}\b", condition) and re.search(
                rf"\b{re.escape(returned)}\b", condition
            )
            if mentioned and returned in _declared_globals(fn):
                return True
        if not any(isinstance(a, cst.If) for a in self.ctx.ancestors(statement)):
            return False
        return bool(test.search(body))


def _declared_globals(fn: cst.FunctionDef) -> set[str]:
    return {item.name.value for node in walk(fn.body) if isinstance(node, cst.Global) for item in node.names}


def _assignments(fn: cst.FunctionDef) -> list[tuple[cst.CSTNode, set[str]]]:
    """Statements of ``fn``'s own body (not nested functions) with the names each binds, in order."""
    out: list[tuple[cst.CSTNode, set[str]]] = []
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        node = stack.pop()
        names: set[str] = set()
        if isinstance(node, cst.Assign):
            for target in node.targets:
                _collect(target.target, names)
        elif isinstance(node, cst.AugAssign | cst.AnnAssign | cst.Del):
            _collect(node.target, names)
        elif isinstance(node, cst.For | cst.With):
            targets: list[cst.BaseExpression] = (
                [node.target]
                if isinstance(node, cst.For)
                else [item.asname.name for item in node.items if item.asname is not None]
            )
            for bound in targets:
                _collect(bound, names)
        if names:
            out.append((node, names))
        if not isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            stack.extend(reversed(list(children(node))))
    return out


def _collect(target: cst.BaseExpression, names: set[str]) -> None:
    if isinstance(target, cst.Name):
        names.add(target.value)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _collect(element.value, names)


def _memoizes(name: str, fn: cst.FunctionDef) -> bool:
    """A global named like a cache holds memoized results, unless the function only stores
    what its caller passes in (``def set_cached_url(url): global _url_cache; _url_cache = url``):
    then it is plain state that a request changes."""
    if not CACHE_NAMES.search(name):
        return False
    params = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)}
    values = [
        statement.value
        for statement, names in _assignments(fn)
        if name in names and isinstance(statement, cst.Assign)
    ]
    return not (values and all(isinstance(v, cst.Name) and v.value in params for v in values))
