"""Category 7: application-wide state changed while handling a request."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint._vocab import HANDLER_PATTERN, REQUEST_PARAM_NAMES
from sessionkit.lint.rules._names import APP_OWN_ATTRIBUTES, MUTATORS
from sessionkit.lint.rules._state import request_time_mutations
from sessionkit.lint.rules._util import walk

APP_NAMES = frozenset({"app", "application", "current_app", "api", "server"})
#: A settings object imported from another module (``from app.core.config import settings``,
#: ``from src.utils import settings_ocr``): one instance per process, read by every request.
SETTINGS_OBJECT = re.compile(r"(?i)(^|_)(settings|config|conf|cfg)(_|$)")
SETTINGS = frozenset({"django.conf.settings"})
#: Decorators that route a request to a handler: ``@<owner>.route(...)``, ``@<owner>.post(...)``.
ROUTE_VERBS = frozenset({"route", "get", "post", "put", "patch", "delete", "websocket"})
QUEUE_PUTS = frozenset({"put", "put_nowait"})
CONFIG_MUTATORS = frozenset({"update", "from_mapping", "setdefault", "pop", "from_object"})
#: Calls that open a connection or a client (``create_engine(...)``, ``nats.connect()``,
#: ``Redis.from_url(...)``, ``aiohttp.ClientSession()``): kept on the application object on first
#: use, it means the same on every replica (a lazy connection, not state).
CONNECTION_FACTORY = re.compile(
    r"(?i)((^|_)(connect|create_(async_)?engine|create_pool|from_url|client|engine|pool)$)|ClientSession$"
)


def _connection_call(value: cst.BaseExpression | None) -> bool:
    if isinstance(value, cst.Await):
        value = value.expression
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    return bool(CONNECTION_FACTORY.search(name))


def _lazy_connection(node: cst.CSTNode, function: cst.FunctionDef | None) -> bool:
    """``app["db"] = await create_engine(dsn)``, or ``app["nats"] = nats`` where the function made
    ``nats = Client()``: a connection kept for later requests, the same on every replica."""
    if not isinstance(node, cst.Assign):
        return False
    value = node.value
    if isinstance(value, cst.Name) and function is not None:
        return any(
            _connection_call(bound.value)
            for bound in walk(function.body)
            if isinstance(bound, cst.Assign)
            if any(isinstance(t.target, cst.Name) and t.target.value == value.value for t in bound.targets)
        )
    return _connection_call(value)


class AppStateAtRequestTime(Rule):
    """``app.state``, ``app.config`` or Django ``settings`` changed inside a request handler.

    The change applies to one process only. ``request.state`` and Flask ``g`` are per request and
    are fine; so are changes at import time and in startup/lifespan hooks.
    """

    code = "SK107"
    name = "app-state-at-request-time"
    category = "app-state"
    severity = "error"
    remedy = "refactor"
    prefilter = (
        r"(\.(state|ctx)\.\w+|\.(config|extensions)\[[^\]\n]+\]|settings\.\w+"
        r"|\b(app|application|current_app|api|server)\.\w+)\s*[-+*|/]?=(?!=)"
        r"|\.config\.(update|from_mapping|setdefault|pop|from_object)\(|setattr\(\s*settings"
        r"|\bapp\[[\"']|\.(state|ctx)\.\w+(\.\w+\(|\[)"
        r"|\b(?:current_)?app\.\w+((\[[^\]\n]*\])+\s*[-+*|]?=(?!=)|\[\s*$|\.(append|add|pop|update|setdefault|remove|discard|extend"
        r"|insert|clear|put|put_nowait|popitem|appendleft)\()"
        # an attribute of the object the handlers are routed through, whatever its name
        r"|(?ms:^@(?P<router>\w+)\.(?:route|get|post|put|patch|delete|websocket)\("
        r".*?^[ \t]+(?:\w+[ \t]*=[ \t]*)?(?P=router)(?:\.\w+)+(?:\[[^\]\n]*\])?"
        r"[ \t]*([-+*|/]?=(?!=)|\.\w+\())"
        r"|(?i:(settings|config|conf|cfg)\w*\.\w+\s*[-+*|/]?=(?!=)|setattr\(\s*\w*(settings|config))",
        HANDLER_PATTERN,
    )
    message = (
        "application-wide state changed while serving a request exists only in this replica, so "
        "other replicas keep the old value; keep runtime-changing values in Redis or the database "
        "and treat app config as read-only after startup"
    )
    fix_hint = "Move the value to shared storage; set app config only at startup."
    valid = examples(
        """
            from fastapi import FastAPI, Request
            app = FastAPI()
            app.dependency_overrides[object] = object
            app.router.routes.append(None)
            @app.get("/")
            def index(request: Request):
                request.state.items.append(1)
                return ""
        """,
        """
            from time import time
            from core.models import Config
            class ConfigMiddleware:
                def __init__(self, get_response):
                    self.get_response = get_response
                def __call__(self, request):
                    Config.system = Config.load_system()
                    return self.get_response(request)
        """,
        """
            from fastapi import APIRouter
            from app.core.config import settings
            router = APIRouter()
            @router.get("/config")
            async def get_config():
                config = settings.model_copy()
                config.model = "other"
                return config
        """,
        """
            from fastapi import FastAPI, Request
            app = FastAPI()
            @app.get('/')
            async def index(request: Request):
                request.state.user = 1
        """,
        """
            from flask import Flask, g
            app = Flask(__name__)
            @app.get('/')
            def index():
                g.user = 1
                return ''
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            app.config['DEBUG'] = False
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            @app.on_event('startup')
            async def boot():
                app.state.pool = make_pool()
        """,
        """
            from contextlib import asynccontextmanager
            @asynccontextmanager
            async def lifespan(app):
                app.state.db = connect()
                yield
        """,
        """
            from django.conf import settings
            def view(request):
                return settings.DEBUG
        """,
        """
            def create_app():
                app = Flask(__name__)
                app.config['X'] = 1
                return app
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            @app.post('/apps/{i}')
            def rename(i: int, name: str):
                app = Application.get(i)
                app.name = name
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            app.counter = 0
            @app.on_event('startup')
            async def boot():
                app.counter = 1
        """,
        """
            from aiohttp import web
            async def init(app):
                app["db"] = await connect()
            app = web.Application()
            app.on_startup.append(init)
            async def index(request):
                return web.json_response(await request.app["db"].fetch())
        """,
    )
    invalid = examples(
        """
            # file: app/__init__.py
            from flask import Flask
            webserver = Flask(__name__)
            webserver.job_counter = 1
            # file: app/routes.py
            from app import webserver
            @webserver.route("/api/jobs", methods=["POST"])
            def submit():
                webserver.job_counter += 1
                return ""
        """,
        """
            from aiohttp import web
            class NewGame(web.View):
                async def post(self):
                    game = object()
                    self.request.app.games[id(game)] = game
                    return web.Response()
            def make_app():
                app = web.Application()
                app.games = {}
                app.router.add_view("/new", NewGame)
                return app
        """,
        """
            # file: app/api/config.py
            from fastapi import APIRouter
            from app.core.config import settings
            router = APIRouter()
            @router.post("/config")
            async def set_config(model: str):
                settings.model = model
            @router.post("/train")
            async def set_train(key: str, value: str):
                setattr(settings, key, value)
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            @app.post('/mode')
            async def mode(value: str):
                app.state.mode = value
        """,
        """
            from flask import Flask, current_app
            app = Flask(__name__)
            @app.post('/feature')
            def feature():
                current_app.config['FEATURE'] = True
                return ''
        """,
        """
            from django.conf import settings
            def toggle(request):
                settings.MAINTENANCE = True
        """,
        """
            from starlette.requests import Request
            async def set_theme(request: Request):
                request.app.state.theme = 'dark'
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            @app.route('/cfg', methods=['POST'])
            def cfg():
                app.config.update(LIMIT=5)
                return ''
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            app.counter = 0
            @app.get('/counter')
            def counter():
                app.counter += 1
                return app.counter
        """,
        """
            from fastapi import FastAPI, Request
            app = FastAPI()
            @app.post('/mode')
            async def mode(request: Request, value: str):
                request.app.mode = value
        """,
        """
            from sanic import Sanic
            from sanic.response import text
            app = Sanic("keys")
            @app.post("/apikey")
            async def issue(request):
                key, digest = make_token()
                request.app.ctx.api_key_digest = digest
                return text(key)
        """,
        """
            from aiohttp import web
            async def vote(request):
                request.app["votes"][request.match_info["id"]] += 1
                return web.Response(text="ok")
            app = web.Application()
            app["votes"] = {}
            app.router.add_post("/vote/{id}", vote)
        """,
    )

    def visit_Module(self, node: cst.Module) -> None:
        for mutation in request_time_mutations(self.ctx):
            if mutation.role == "app":
                functions = self.ctx.enclosing_functions(mutation.node)
                if _lazy_connection(mutation.node, functions[0] if functions else None):
                    continue
                self.report(mutation.node, f"`{mutation.name}` changed at request time")

    def _is_app(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Attribute):
            # request.app / websocket.app / self.app
            return node.attr.value == "app"
        if isinstance(node, cst.Name):
            if node.value in REQUEST_PARAM_NAMES:
                return False
            return node.value in APP_NAMES or self.ctx.refers_to(node, {"flask.current_app"})
        return False

    def _app_object(self, node: cst.BaseExpression) -> bool:
        """The application object itself: a module-level ``app`` (or ``current_app``), or
        ``request.app``; not a local variable that happens to be called ``app``."""
        if isinstance(node, cst.Attribute):
            owner = node.value
            return (
                node.attr.value == "app"
                and isinstance(owner, cst.Name)
                and owner.value in REQUEST_PARAM_NAMES
            )
        if isinstance(node, cst.Name) and node.value in APP_NAMES:
            return self.ctx.module_binding(node) is not None or self.ctx.refers_to(
                node, {"flask.current_app"}
            )
        return isinstance(node, cst.Name) and node.value in self._route_owners()

    def _route_owners(self) -> frozenset[str]:
        """Names this module's handlers are routed through, whatever they are called
        (``@webserver.route(...)`` on ``from app import webserver``): the application object."""
        cached = self.ctx.memo.get("route_owners")
        if isinstance(cached, frozenset):
            return cached
        found: set[str] = set()
        for stmt in self.ctx.module.body:
            if not isinstance(stmt, cst.FunctionDef):
                continue
            for decorator in stmt.decorators:
                call = decorator.decorator
                func = call.func if isinstance(call, cst.Call) else None
                if (
                    isinstance(func, cst.Attribute)
                    and isinstance(func.value, cst.Name)
                    and func.attr.value in ROUTE_VERBS
                    and func.value.value not in APP_NAMES
                ):
                    found.add(func.value.value)
        out = frozenset(found)
        self.ctx.memo["route_owners"] = out
        return out

    def _app_target(self, target: cst.BaseExpression) -> str | None:
        if isinstance(target, cst.Attribute):
            owner = target.value
            if self._app_object(owner):
                return f"`{self.ctx.module.code_for_node(target)}` assigned"
            if (
                isinstance(owner, cst.Attribute)
                and isinstance(owner.value, cst.Name)
                and owner.value.value in self._route_owners()
                and owner.attr.value not in APP_OWN_ATTRIBUTES
            ):
                # ``webserver.tasks_runner.job_counter += 1``: an object the app keeps
                return f"`{self.ctx.module.code_for_node(target)}` assigned"
            if (
                isinstance(owner, cst.Attribute)
                and owner.attr.value in {"state", "ctx"}
                and self._is_app(owner.value)
            ):
                return f"`{self.ctx.module.code_for_node(target)}` assigned"
            if self.ctx.refers_to(owner, SETTINGS):
                return f"Django `settings.{target.attr.value}` assigned"
            if self._imported_settings(owner):
                return f"`{self.ctx.module.code_for_node(target)}` (a process-wide settings object) assigned"
        if isinstance(target, cst.Subscript):
            owner = target.value
            if self._kept_by_router(owner):
                return f"`{self.ctx.module.code_for_node(owner)}[...]` assigned"
            if (
                isinstance(owner, cst.Attribute)
                and owner.attr.value in {"config", "extensions"}
                and self._is_app(owner.value)
            ):
                return f"`{self.ctx.module.code_for_node(owner)}[...]` assigned"
        return None

    def _imported_settings(self, node: cst.BaseExpression) -> bool:
        """A name bound by ``from <module> import <name>`` (named like a settings object, not
        Django's ``settings``, which is matched by its qualified name; not a class)."""
        if not (isinstance(node, cst.Name) and SETTINGS_OBJECT.search(node.value)):
            return False
        if node.value[:1].isupper():
            return False  # a class (``Config.system = Config.load_system()``), not its instance
        for stmt in self.ctx.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                    continue
                module = self.ctx.module.code_for_node(small.module) if small.module else ""
                if module.startswith("django") and not small.relative:
                    continue
                for alias in small.names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    if isinstance(bound, cst.Name) and bound.value == node.value:
                        return True
        return False

    def _check(self, node: cst.CSTNode, targets: list[cst.BaseExpression]) -> None:
        for target in targets:
            subject = self._app_target(target)
            if subject and self.ctx.is_request_time(node):
                self.report(node, f"{subject} at request time")
                return

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node, [t.target for t in node.targets])

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._check(node, [node.target])

    def _kept_by_router(self, node: cst.BaseExpression) -> bool:
        """``webserver.jobs``, ``webserver.tasks_runner.jobs``: a container the application object
        keeps, reached through the name the handlers are routed through (see ``_route_owners``)."""
        depth = 0
        while isinstance(node, cst.Attribute) and depth < 2:
            inner = node.value
            if isinstance(inner, cst.Name):
                return node.attr.value not in APP_OWN_ATTRIBUTES and inner.value in self._route_owners()
            node, depth = inner, depth + 1
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in MUTATORS - QUEUE_PUTS  # a job queue's put is SK115's
            and self._kept_by_router(func.value)
            and self.ctx.is_request_time(node)
        ):
            kept = self.ctx.module.code_for_node(func.value)
            self.report(node, f"`{kept}` changed at request time")
            return
        if isinstance(func, cst.Attribute) and func.attr.value in CONFIG_MUTATORS:
            owner = func.value
            if (
                isinstance(owner, cst.Attribute)
                and owner.attr.value == "config"
                and self._is_app(owner.value)
            ) and self.ctx.is_request_time(node):
                self.report(
                    node, f"`{self.ctx.module.code_for_node(owner)}.{func.attr.value}()` at request time"
                )
        elif (
            isinstance(func, cst.Name)
            and func.value == "setattr"
            and node.args
            and self.ctx.refers_to(node.args[0].value, SETTINGS)
            and self.ctx.is_request_time(node)
        ):
            self.report(node, "Django `settings` changed with setattr() at request time")
        elif (
            isinstance(func, cst.Name)
            and func.value == "setattr"
            and node.args
            and self._imported_settings(node.args[0].value)
            and self.ctx.is_request_time(node)
        ):
            name = self.ctx.module.code_for_node(node.args[0].value)
            self.report(node, f"process-wide settings object `{name}` changed with setattr() at request time")
