"""Category 7: application-wide state changed while handling a request."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._handlers import REQUEST_PARAM_NAMES
from sessionkit.lint._rule import Rule
from sessionkit.lint.rules.module_state import HANDLER_PREFILTER

APP_NAMES = frozenset({"app", "application", "current_app", "api", "server"})
SETTINGS = frozenset({"django.conf.settings"})
CONFIG_MUTATORS = frozenset({"update", "from_mapping", "setdefault", "pop", "from_object"})


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
        r"(\.state\.\w+|\.(config|extensions)\[[^\]\n]+\]|settings\.\w+"
        r"|\b(app|application|current_app|api|server)\.\w+)\s*[-+*|/]?=(?!=)"
        r"|\.config\.(update|from_mapping|setdefault|pop|from_object)\(|setattr\(\s*settings",
        HANDLER_PREFILTER,
    )
    message = (
        "application-wide state changed while serving a request exists only in this replica, so "
        "other replicas keep the old value; keep runtime-changing values in Redis or the database "
        "and treat app config as read-only after startup"
    )
    fix_hint = "Move the value to shared storage; set app config only at startup."
    valid = (
        "from fastapi import FastAPI, Request\napp = FastAPI()\n@app.get('/')\nasync def index(request: Request):\n    request.state.user = 1\n",
        "from flask import Flask, g\napp = Flask(__name__)\n@app.get('/')\ndef index():\n    g.user = 1\n    return ''\n",
        "from flask import Flask\napp = Flask(__name__)\napp.config['DEBUG'] = False\n",
        "from fastapi import FastAPI\napp = FastAPI()\n@app.on_event('startup')\nasync def boot():\n    app.state.pool = make_pool()\n",
        "from contextlib import asynccontextmanager\n@asynccontextmanager\nasync def lifespan(app):\n    app.state.db = connect()\n    yield\n",
        "from django.conf import settings\ndef view(request):\n    return settings.DEBUG\n",
        "def create_app():\n    app = Flask(__name__)\n    app.config['X'] = 1\n    return app\n",
        "from fastapi import FastAPI\napp = FastAPI()\n@app.post('/apps/{i}')\ndef rename(i: int, name: str):\n    app = Application.get(i)\n    app.name = name\n",
        "from fastapi import FastAPI\napp = FastAPI()\napp.counter = 0\n@app.on_event('startup')\nasync def boot():\n    app.counter = 1\n",
    )
    invalid = (
        "from fastapi import FastAPI\napp = FastAPI()\n@app.post('/mode')\nasync def mode(value: str):\n    app.state.mode = value\n",
        "from flask import Flask, current_app\napp = Flask(__name__)\n@app.post('/feature')\ndef feature():\n    current_app.config['FEATURE'] = True\n    return ''\n",
        "from django.conf import settings\ndef toggle(request):\n    settings.MAINTENANCE = True\n",
        "from starlette.requests import Request\nasync def set_theme(request: Request):\n    request.app.state.theme = 'dark'\n",
        "from flask import Flask\napp = Flask(__name__)\n@app.route('/cfg', methods=['POST'])\ndef cfg():\n    app.config.update(LIMIT=5)\n    return ''\n",
        "from fastapi import FastAPI\napp = FastAPI()\napp.counter = 0\n@app.get('/counter')\ndef counter():\n    app.counter += 1\n    return app.counter\n",
        "from fastapi import FastAPI, Request\napp = FastAPI()\n@app.post('/mode')\nasync def mode(request: Request, value: str):\n    request.app.mode = value\n",
    )

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
        return False

    def _app_target(self, target: cst.BaseExpression) -> str | None:
        if isinstance(target, cst.Attribute):
            owner = target.value
            if self._app_object(owner):
                return f"`{self.ctx.module.code_for_node(target)}` assigned"
            if isinstance(owner, cst.Attribute) and owner.attr.value == "state" and self._is_app(owner.value):
                return f"`{self.ctx.module.code_for_node(target)}` assigned"
            if self.ctx.refers_to(owner, SETTINGS):
                return f"Django `settings.{target.attr.value}` assigned"
        if isinstance(target, cst.Subscript):
            owner = target.value
            if (
                isinstance(owner, cst.Attribute)
                and owner.attr.value in {"config", "extensions"}
                and self._is_app(owner.value)
            ):
                return f"`{self.ctx.module.code_for_node(owner)}[...]` assigned"
        return None

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

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
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
