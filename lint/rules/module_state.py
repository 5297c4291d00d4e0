"""Categories 5 and 6: module-level state changed by request handlers."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import Rule
from sessionkit.lint.rules._state import request_time_mutations

#: A module-level container and a sign of request handling must both occur in the file.
CONTAINER_PREFILTER = (
    # a module-level container, or a module-level instance of a class (which may hold containers)
    r"(?m)^(\w+\s*(:[^=\n]+)?=\s*(\[|\{|[\w.]*(dict|list|set|Dict|Counter|deque|Queue|Cache)\()"
    r"|[a-z_]\w*\s*=\s*[A-Z]\w*\()"
    # a class-based view (its mutable class attributes are shared by every request)
    r"|^class\s+\w+\([^)]*(View|ViewSet|Endpoint|Resource|Controller|Handler)\b",
    # every way _handlers recognises a handler: parameter names and annotations, decorators,
    # registrations and class-based views
    r"(?i:request|\breq\b|\bws\b|websocket|httpconnection|route|endpoint|consumer|middleware)"
    r"|\b(path|re_path|url)\(|View|Resource|Controller|Handler|Namespace"
    r"|@(\w+\.)?(get|post|put|patch|delete|head|options|trace|on|event|api_view|action"
    r"|errorhandler|exception_handler|context_processor|login_required|permission_required"
    r"|require_\w+|csrf_exempt)\b",
)
HANDLER_PREFILTER = CONTAINER_PREFILTER[1]


class ModuleStateMutation(Rule):
    """A module-level list/dict/set changed while handling a request.

    Each replica (and each worker process) has its own copy, so the change is visible only to
    requests that happen to reach the same process.
    """

    code = "SK105"
    name = "module-state-mutation"
    category = "module-state"
    severity = "error"
    remedy = "refactor"
    prefilter = CONTAINER_PREFILTER
    message = (
        "the container lives in one process, so other replicas never see this change and it is "
        "lost on restart; keep the data in Redis or the database (or in the session, via sessionkit)"
    )
    fix_hint = "Move the data to Redis/the database; keep module-level containers read-only."
    valid = (
        "from flask import Flask\napp = Flask(__name__)\nDEFAULTS = {'a': 1}\n@app.get('/')\ndef index():\n    return dict(DEFAULTS)\n",
        "REGISTRY = {}\ndef register(fn):\n    REGISTRY[fn.__name__] = fn\n    return fn\n",
        "from flask import Flask\napp = Flask(__name__)\n@app.get('/')\ndef index():\n    items = []\n    items.append(1)\n    return items\n",
        "ITEMS = []\nITEMS.append(1)\nfor i in range(3):\n    ITEMS.append(i)\n",
        "from fastapi import FastAPI\napp = FastAPI()\nSEEN = set()\n@app.on_event('startup')\nasync def boot():\n    SEEN.add('x')\n",
        "from flask import Flask, g\napp = Flask(__name__)\n@app.before_request\ndef load():\n    g.items = []\n    g.items.append(1)\n",
        "from fastapi import FastAPI\napp = FastAPI()\nSTORE = {}\n@app.get('/')\ndef index(STORE: dict = {}):\n    STORE['x'] = 1\n",
        "from fastapi import FastAPI\napp = FastAPI()\nclass Stats:\n    def __init__(self):\n        self.count = 0\nstats = Stats()\nstats.count = 5\n@app.get('/hit')\nasync def hit():\n    return stats.count\n",
        "from fastapi import FastAPI\napp = FastAPI()\nclass Form:\n    pass\n@app.post('/f')\nasync def f(v: str):\n    form = Form()\n    form.value = v\n    return form.value\n",
        "from django.views.generic import ListView\nclass ItemList(ListView):\n    fields = ['a', 'b']\n    def get(self, request):\n        extra = list(self.fields)\n        extra.append('c')\n        return extra\n",
        "from pydantic import BaseModel\nfrom fastapi import FastAPI\napp = FastAPI()\nclass Cart(BaseModel):\n    items: list = []\n    def add(self, x):\n        self.items.append(x)\n@app.post('/c')\nasync def c(cart: Cart):\n    cart.add(1)\n    return cart\n",
    )
    invalid = (
        "from flask import Flask, request\napp = Flask(__name__)\nCARTS = {}\n@app.post('/cart')\ndef add():\n    CARTS.setdefault(request.remote_addr, []).append(request.json)\n    return 'ok'\n",
        "from fastapi import FastAPI\napp = FastAPI()\nvisits = []\n@app.get('/')\nasync def index():\n    visits.append(1)\n    return len(visits)\n",
        "from django.http import HttpResponse\nLAST = {}\ndef view(request):\n    LAST[request.user.pk] = request.path\n    return HttpResponse('ok')\n",
        "from flask import Blueprint\nbp = Blueprint('b', __name__)\nusers: dict[str, dict] = {}\ndef remember(name):\n    users[name] = {}\n@bp.route('/login', methods=['POST'])\ndef login():\n    remember('x')\n    return ''\n",
        "from starlette.routing import Route\nhits = set()\nasync def home(request):\n    hits.add(request.client.host)\nroutes = [Route('/', home)]\n",
        "from django.views import View\nVOTES = {}\nclass VoteView(View):\n    def post(self, request):\n        VOTES[request.POST['id']] += 1\n",
        "from fastapi import FastAPI\napp = FastAPI()\nclass Stats:\n    def __init__(self):\n        self.count = 0\nstats = Stats()\n@app.get('/hit')\nasync def hit():\n    stats.count += 1\n    return stats.count\n",
        "from flask import Flask\napp = Flask(__name__)\nclass Game:\n    def __init__(self):\n        self.turn = 'x'\n    def play(self):\n        self.turn = 'o' if self.turn == 'x' else 'x'\ngame = Game()\n@app.post('/play')\ndef play():\n    game.play()\n    return game.turn\n",
        "from django.http import JsonResponse\nfrom django.views import View\nclass CounterView(View):\n    hits = {}\n    def get(self, request):\n        self.hits[request.user.pk] = self.hits.get(request.user.pk, 0) + 1\n        return JsonResponse({})\n",
    )

    def visit_Module(self, node: cst.Module) -> None:
        for mutation in request_time_mutations(self.ctx):
            if mutation.role == "state":
                self.report(mutation.node, f"module-level `{mutation.name}` is changed at request time")


class GlobalRebinding(Rule):
    """``global x`` followed by an assignment inside a request handler.

    The new value exists only in the process that served the request.
    """

    code = "SK106"
    name = "global-rebinding"
    category = "global-rebinding"
    severity = "error"
    remedy = "refactor"
    prefilter = (r"\bglobal\b", HANDLER_PREFILTER)
    message = (
        "rebinding a module global at request time changes it in one process only, so replicas "
        "disagree and the value is lost on restart; store it in Redis or the database"
    )
    fix_hint = "Replace the global with shared storage (Redis, database)."
    valid = (
        "counter = 0\ndef bump():\n    global counter\n    counter += 1\n",
        "from flask import Flask\napp = Flask(__name__)\nclient = None\n@app.before_serving\ndef boot():\n    global client\n    client = connect()\n",
        "from flask import Flask\napp = Flask(__name__)\nX = 1\n@app.get('/')\ndef index():\n    global X\n    return str(X)\n",
        "from fastapi import FastAPI\napp = FastAPI()\n_db = None\nasync def lifespan(app):\n    global _db\n    _db = make()\n    yield\n",
        "def create_app():\n    global app\n    app = Flask(__name__)\n    return app\n",
    )
    invalid = (
        "from flask import Flask\napp = Flask(__name__)\ncounter = 0\n@app.route('/hit')\ndef hit():\n    global counter\n    counter += 1\n    return str(counter)\n",
        "from fastapi import FastAPI\napp = FastAPI()\nlatest = None\n@app.post('/latest')\nasync def set_latest(item: dict):\n    global latest\n    latest = item\n",
        "current_user = None\ndef login_view(request):\n    global current_user\n    current_user = request.user\n",
        "from flask import Flask\napp = Flask(__name__)\nTOKEN = None\ndef refresh():\n    global TOKEN\n    TOKEN = fetch()\n@app.get('/t')\ndef t():\n    refresh()\n    return TOKEN\n",
        "from starlette.routing import Route\nmode = 'a'\nasync def switch(request):\n    global mode\n    mode = 'b' if mode == 'a' else 'a'\nroutes = [Route('/s', switch)]\n",
    )

    def visit_Global(self, node: cst.Global) -> None:
        functions = self.ctx.enclosing_functions(node)
        if not functions or not self.ctx.is_request_time(node):
            return
        assigned = _assigned_names(functions[0])
        names = [item.name.value for item in node.names if item.name.value in assigned]
        if names:
            listed = ", ".join(f"`{n}`" for n in names)
            self.report(node, f"`global` {listed} rebound at request time")


def _assigned_names(fn: cst.FunctionDef) -> set[str]:
    names: set[str] = set()

    class _Targets(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            _collect(node.target, names)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            _collect(node.target, names)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            _collect(node.target, names)

        def visit_Del(self, node: cst.Del) -> None:
            _collect(node.target, names)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is fn

    fn.visit(_Targets())
    return names


def _collect(target: cst.BaseExpression, names: set[str]) -> None:
    if isinstance(target, cst.Name):
        names.add(target.value)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _collect(element.value, names)
