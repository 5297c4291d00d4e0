"""Categories 5 and 6: module-level state changed by request handlers."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint import _links as links
from sessionkit.lint._rule import LOWER, Facts, Rule, examples
from sessionkit.lint._types import Finding
from sessionkit.lint._vocab import VIEW_CLASS_PATTERN
from sessionkit.lint.rules._names import cache_named, rate_named
from sessionkit.lint.rules._state import request_time_mutations

#: A module-level container (changed by this module's handlers, or by functions other modules'
#: handlers call: see ``Rule.defer``).
CONTAINER_PREFILTER = (
    # a module-level container, or a module-level instance of a class (which may hold containers)
    r"(?m)^(\w+\s*(:[^=\n]+)?=\s*(\[|\{|[\w.]*(dict|list|set|Dict|Counter|deque|Queue|Cache)\()"
    r"|[a-z_]\w*\s*=\s*[A-Z]\w*\()"
    # a class-based view (its mutable class attributes are shared by every request)
    rf"|{VIEW_CLASS_PATTERN}"
    # a container the application object holds (aiohttp ``app["k"]``/``app[KEY]``, ``app.state.k``,
    # Sanic ``app.ctx.k``)
    r"|\b(?:current_)?app(\[([\"']|\w+\])|\.(state|ctx)\.|[\"']\]\.state\.)"
    # ... or as a plain attribute of its own (``request.app.games[gid] = game``)
    r"|\b(?:current_)?app\.\w+((\[[^\]\n]*\])+\s*[-+*|]?=(?!=)|\[\s*$|\.(append|add|pop|update|setdefault|remove|discard|extend|insert"
    r"|clear|put|put_nowait|popitem|appendleft)\()"
    # a container an object keeps on itself (a registry class other modules instantiate)
    r"|\bself\.\w+\s*(:[^=\n]+)?=\s*(\[\]|\{\}|[\w.]*(dict|list|set|Dict|Counter|deque|Queue|Cache)\()"
    # a class attribute changed in a classmethod (``cls._cache[key] = value``)
    r"|\bcls\.\w+(\[[^\]\n]*\]\s*[-+*|]?=(?!=)|\.(append|extend|add|update|pop|setdefault|remove|discard"
    r"|clear|insert|put|put_nowait|popitem|appendleft)\()"
    # a constant-named container (perhaps imported) changed in a function, whatever binds it
    r"|^[ \t]+[A-Z][A-Z0-9_]+(\[[^\]\n]*\]\s*=(?!=)|\.(append|add|pop|update|setdefault|remove"
    r"|discard|extend|insert|clear)\()"
    # a counter kept in a (perhaps imported) dict: ``stats["hits"] += 1`` in a function
    r"|^[ \t]+[a-z_]\w*\[[\"'][^\]\n]*\]\s*[-+]="
    # names imported from the project's own state module (``from state import rooms, queue``)
    r"|^from[ \t]+[\w.]*\b(state|states|store|stores|globals?|global_vars|shared|memory|registry|runtime)"
    r"[ \t]+import\b",
)


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
    valid = examples(
        """
            from flask import Flask
            app = Flask(__name__)
            DEFAULTS = {'a': 1}
            @app.get('/')
            def index():
                return dict(DEFAULTS)
        """,
        """
            REGISTRY = {}
            def register(fn):
                REGISTRY[fn.__name__] = fn
                return fn
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            @app.get('/')
            def index():
                items = []
                items.append(1)
                return items
        """,
        """
            ITEMS = []
            ITEMS.append(1)
            for i in range(3):
                ITEMS.append(i)
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            SEEN = set()
            @app.on_event('startup')
            async def boot():
                SEEN.add('x')
        """,
        """
            from flask import Flask, g
            app = Flask(__name__)
            @app.before_request
            def load():
                g.items = []
                g.items.append(1)
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            STORE = {}
            @app.get('/')
            def index(STORE: dict = {}):
                STORE['x'] = 1
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            class Stats:
                def __init__(self):
                    self.count = 0
            stats = Stats()
            stats.count = 5
            @app.get('/hit')
            async def hit():
                return stats.count
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            class Form:
                pass
            @app.post('/f')
            async def f(v: str):
                form = Form()
                form.value = v
                return form.value
        """,
        """
            from django.views.generic import ListView
            class ItemList(ListView):
                fields = ['a', 'b']
                def get(self, request):
                    extra = list(self.fields)
                    extra.append('c')
                    return extra
        """,
        """
            from pydantic import BaseModel
            from fastapi import FastAPI
            app = FastAPI()
            class Cart(BaseModel):
                items: list = []
                def add(self, x):
                    self.items.append(x)
            @app.post('/c')
            async def c(cart: Cart):
                cart.add(1)
                return cart
        """,
        """
            # file: defaults.py
            DEFAULTS = {"theme": "light"}
            # file: main.py
            from fastapi import FastAPI
            from defaults import DEFAULTS
            app = FastAPI()
            @app.get("/prefs")
            async def prefs(theme: str):
                data = dict(DEFAULTS)
                data["theme"] = theme
                return data
        """,
        """
            from fastapi import FastAPI
            from collections import OrderedDict
            app = FastAPI()
            ROWS = [{"a": 1}]
            @app.get("/rows")
            async def rows():
                out = []
                for row in ROWS:
                    out.append(dict(row))
                return out
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            class Match:
                moves = {}
                def __init__(self):
                    self.moves = {}
                def play(self, pid, move):
                    self.moves[pid] = move
            @app.post("/play/<pid>/<move>")
            def play(pid, move):
                Match().play(pid, move)
                return ""
        """,
    )
    invalid = examples(
        """
            # file: game.py
            class Game:
                def __init__(self, code):
                    self.code = code
                    self.turn = 0
                def play(self):
                    self.turn += 1
            # file: app.py
            from fastapi import FastAPI
            from game import Game
            app = FastAPI()
            games = {}
            @app.post("/games/{code}")
            async def create(code: str):
                games[code] = Game(code)
            @app.post("/games/{code}/play")
            async def play(code: str):
                games[code].play()
        """,
        """
            from flask import Flask, request
            from flask_socketio import SocketIO
            app = Flask(__name__)
            socketio = SocketIO(app, message_queue="redis://r")
            players = {}
            @socketio.on("join")
            def join(data):
                sid = request.sid
                players[sid] = {"name": data["name"], "score": 0}
            @socketio.on("disconnect")
            def leave():
                del players[request.sid]
        """,
        """
            from starlette.endpoints import WebSocketEndpoint
            from starlette.websockets import WebSocket
            class WSGame(WebSocketEndpoint):
                games = []
                async def on_connect(self, websocket: WebSocket) -> None:
                    await websocket.accept()
                    self.games.append(object())
        """,
        """
            # file: state.py
            queue = []
            # file: lobby.py
            from flask import request
            from extensions import socketio
            from state import queue
            @socketio.on("join_queue")
            def join_queue(name):
                queue.append({"sid": request.sid, "name": name})
        """,
        """
            from flask import Flask, request
            from flask_socketio import SocketIO
            app = Flask(__name__)
            socketio = SocketIO(app, message_queue="redis://r")
            rooms = {}
            @socketio.on("create")
            def create(code):
                rooms[code] = {"hostId": request.sid, "players": []}
            @socketio.on("answer")
            def answer(code, choice):
                rooms[code]["answers"][request.sid] = choice
        """,
        """
            # file: constants.py
            VOTES = []
            # file: create_app.py
            from flask import Flask
            from constants import VOTES
            def create_app():
                app = Flask(__name__)
                @app.post("/vote")
                def vote():
                    VOTES.append(1)
                    return ""
                return app
        """,
        """
            import socketio
            sio = socketio.AsyncServer()
            class Game(socketio.AsyncNamespace):
                rooms = {}
                async def on_ready(self, sid, room):
                    self.rooms[room] = {"ready": True}
            sio.register_namespace(Game("/game"))
        """,
        """
            from concurrent.futures import ThreadPoolExecutor
            from flask import Flask
            app = Flask(__name__)
            executor = ThreadPoolExecutor(2)
            status = {}
            def work(jid):
                status[jid] = "done"
            @app.post("/jobs/<jid>")
            def submit(jid):
                executor.submit(work, jid)
                return jid
        """,
        """
            from flask import Flask, request
            app = Flask(__name__)
            CARTS = {}
            @app.post('/cart')
            def add():
                CARTS.setdefault(request.remote_addr, []).append(request.json)
                return 'ok'
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            visits = []
            @app.get('/')
            async def index():
                visits.append(1)
                return len(visits)
        """,
        """
            from django.http import HttpResponse
            LAST = {}
            def view(request):
                LAST[request.user.pk] = request.path
                return HttpResponse('ok')
        """,
        """
            from flask import Blueprint
            bp = Blueprint('b', __name__)
            users: dict[str, dict] = {}
            def remember(name):
                users[name] = {}
            @bp.route('/login', methods=['POST'])
            def login():
                remember('x')
                return ''
        """,
        """
            from starlette.routing import Route
            hits = set()
            async def home(request):
                hits.add(request.client.host)
            routes = [Route('/', home)]
        """,
        """
            from django.views import View
            VOTES = {}
            class VoteView(View):
                def post(self, request):
                    VOTES[request.POST['id']] += 1
        """,
        """
            from fastapi import FastAPI
            app = FastAPI()
            class Stats:
                def __init__(self):
                    self.count = 0
            stats = Stats()
            @app.get('/hit')
            async def hit():
                stats.count += 1
                return stats.count
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            class Game:
                def __init__(self):
                    self.turn = 'x'
                def play(self):
                    self.turn = 'o' if self.turn == 'x' else 'x'
            game = Game()
            @app.post('/play')
            def play():
                game.play()
                return game.turn
        """,
        """
            from django.http import JsonResponse
            from django.views import View
            class CounterView(View):
                hits = {}
                def get(self, request):
                    self.hits[request.user.pk] = self.hits.get(request.user.pk, 0) + 1
                    return JsonResponse({})
        """,
        """
            # file: fruit_db.py
            fruits = ["apple", "banana"]
            # file: main.py
            from fastapi import FastAPI
            from fruit_db import fruits
            app = FastAPI()
            @app.post("/fruits")
            async def add_fruit(fruit: str):
                fruits.append(fruit)
                return fruits
        """,
        """
            import socketio
            sio = socketio.AsyncServer(client_manager=socketio.AsyncRedisManager("redis://r"))
            rounds = []
            @sio.on("vote")
            async def vote(sid, data):
                for item in rounds:
                    if item["round"] == data["round"]:
                        item["votes"].append(data["vote"])
        """,
        """
            from flask import Flask, request
            app = Flask(__name__)
            BOARDS = {"main": {"posts": []}}
            @app.post("/post")
            def post():
                BOARDS["main"]["posts"].append(request.json)
                return ""
        """,
        """
            # file: store.py
            class Attempts:
                _open = {}
                @classmethod
                def begin(cls, aid, data):
                    cls._open[aid] = data
            # file: service.py
            from store import Attempts
            class AttemptService:
                @staticmethod
                def start(aid):
                    Attempts.begin(aid, {"answers": []})
            # file: views.py
            from flask import Blueprint
            from service import AttemptService
            bp = Blueprint("a", __name__)
            @bp.post("/start/<aid>")
            def start(aid):
                AttemptService.start(aid)
                return ""
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            class Match:
                moves = {}
                def __init__(self, pid):
                    self.pid = pid
                def play(self, move):
                    self.moves[self.pid] = move
            @app.post("/play/<pid>/<move>")
            def play(pid, move):
                Match(pid).play(move)
                return ""
        """,
        """
            from fasthtml.common import FastHTML
            app = FastHTML()
            rt = app.route
            board = {"cells": []}
            @rt("/move")
            def post(cell: int):
                board["cells"].append(cell)
                return ""
        """,
        """
            from fasthtml.common import FastHTML
            app = FastHTML(exts="ws")
            log = []
            @app.ws("/chat")
            async def chat(msg: str, send):
                log.append(msg)
                await send(msg)
        """,
    )

    @classmethod
    def project(cls, facts: Facts) -> list[Finding]:
        """Also the changes objects make to themselves where a lasting container keeps them
        (a ``Game`` in a module-level manager's dict changing ``self.turn``), read lexically for
        every file (``links.kept_writes``): most such classes are in files no rule parses."""
        out = super().project(facts)
        seen = {(f.path, f.line) for f in out}
        for path, write, caller in links.kept_writes(facts):
            owner, method, attr, line, column, end_column = write
            if (path, line) in seen or cache_named(attr) or rate_named(attr):
                continue
            seen.add((path, line))
            where = {"line": line, "column": column, "end_line": line, "end_column": end_column}
            subject = (
                f"`{owner}.{attr}` is changed at request time on a `{owner}` that a module-level "
                f"container keeps (in `{owner}.{method}()`, called by request handlers in {caller})"
            )
            out.append(cls.finding_at(path, where, subject, severity=LOWER[cls.severity]))
        return out

    def visit_Module(self, node: cst.Module) -> None:
        for mutation in request_time_mutations(self.ctx):
            if mutation.role == "state":
                self.report_request_time(
                    mutation.node,
                    f"module-level `{mutation.name}` is changed at request time",
                    mutation.deferred,
                )
