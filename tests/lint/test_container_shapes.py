"""In-process containers in shapes many apps share: game rooms that record a player's Socket.IO id,
constant-named containers imported from another module and changed in a handler nested in an app
factory, containers kept as plain attributes of the application object.

Synthetic shapes; the expected (code, line) pairs were decided by reading each snippet.
"""

from __future__ import annotations

import pytest

from .conftest import lint_snippet

CASES: dict[str, tuple[str, set[tuple[str, int]]]] = {
    # A room record holds game state; the player's sid is one of its fields. The rooms are module
    # state (SK105), not a registry of connections (SK110).
    "room-record-with-host-sid": (
        "from flask import Flask, request\n"
        "from flask_socketio import SocketIO\n"
        "app = Flask(__name__)\n"
        "socketio = SocketIO(app, message_queue='redis://r')\n"
        "rooms = {}\n"
        "@socketio.on('create')\n"
        "def create(data):\n"
        "    sid = request.sid\n"
        "    rooms[data['code']] = {'hostId': sid, 'players': [], 'answers': {}}\n"
        "@socketio.on('answer')\n"
        "def answer(data):\n"
        "    sid = request.sid\n"
        "    room = rooms.get(data['code'])\n"
        "    room['answers'][sid] = data['choice']\n"
        "@socketio.on('rehost')\n"
        "def rehost(data):\n"
        "    room = rooms.get(data['code'])\n"
        "    room['hostId'] = request.sid\n"
        "@socketio.on('close')\n"
        "def close(data):\n"
        "    del rooms[data['code']]\n",
        {("SK105", 9), ("SK105", 14), ("SK105", 18), ("SK105", 21)},
    ),
    # Sockets themselves in the rooms: a registry, as before.
    "rooms-of-sockets-stay-a-registry": (
        "from fastapi import FastAPI, WebSocket\n"
        "app = FastAPI()\n"
        "rooms = {}\n"
        "@app.websocket('/ws/{code}')\n"
        "async def play(websocket: WebSocket, code: str):\n"
        "    await websocket.accept()\n"
        "    rooms.setdefault(code, set()).add(websocket)\n",
        {("SK110", 7)},
    ),
    # A connection-keyed registry without record fields is still a registry.
    "sid-keyed-registry": (
        "from flask import Flask, request\n"
        "from flask_socketio import SocketIO\n"
        "app = Flask(__name__)\n"
        "socketio = SocketIO(app, message_queue='redis://r')\n"
        "online = {}\n"
        "@socketio.on('connect')\n"
        "def connect():\n"
        "    online[request.sid] = 1\n",
        {("SK110", 8)},
    ),
    # The websocket handler is nested in an app factory; the registry is a constant imported from a
    # constants module. Nothing in the handler file binds a container at module level.
    "imported-constant-registry-in-factory": (
        "# file: constants.py\n"
        "CHAT_CONNECTIONS = {}\n"
        "# file: create_app.py\n"
        "from sanic import Sanic\n"
        "from constants import CHAT_CONNECTIONS\n"
        "def create_app():\n"
        "    app = Sanic('chat')\n"
        "    @app.websocket('/chat')\n"
        "    async def chat(request, ws):\n"
        "        CHAT_CONNECTIONS[request.ctx.session.sid] = ws\n"
        "    return app\n",
        {("SK110", 7)},
    ),
    "imported-constant-state-in-factory": (
        "# file: constants.py\n"
        "VOTES = []\n"
        "# file: create_app.py\n"
        "from flask import Flask\n"
        "from constants import VOTES\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        "    @app.post('/vote')\n"
        "    def vote():\n"
        "        VOTES.append(1)\n"
        "        return ''\n"
        "    return app\n",
        {("SK105", 7)},
    ),
    # Changed at import time or only read in the handler: nothing to report.
    "imported-constant-read-only": (
        "# file: constants.py\n"
        "DEFAULTS = {}\n"
        "# file: create_app.py\n"
        "from flask import Flask\n"
        "from constants import DEFAULTS\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        "    DEFAULTS['mode'] = 'x'\n"
        "    @app.get('/mode')\n"
        "    def mode():\n"
        "        return DEFAULTS['mode']\n"
        "    return app\n",
        set(),
    ),
    # Counters in a dict imported from the app package, named for the cache they describe: module
    # state, not a cache; the handler file binds no container and no constant-named one.
    "imported-stats-dict-about-a-cache": (
        "# file: app/__init__.py\n"
        "from flask import Flask\n"
        "webapp = Flask(__name__)\n"
        "memcache = {}\n"
        "memcache_stat = {'num_request': 0, 'num_miss': 0}\n"
        "# file: app/get_key.py\n"
        "from flask import request\n"
        "from app import webapp, memcache_stat\n"
        "@webapp.route('/get', methods=['POST'])\n"
        "def get_key():\n"
        "    memcache_stat['num_request'] += 1\n"
        "    return request.form['key']\n",
        {("SK105", 5)},
    ),
    "local-counter-dict-is-not-state": (
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "@app.get('/count')\n"
        "def count():\n"
        "    seen = {'n': 0}\n"
        "    seen['n'] += 1\n"
        "    return str(seen['n'])\n",
        set(),
    ),
    # Lowercase containers imported from the project's state module, changed in Socket.IO events;
    # the matchmaking queue holds player records (with their sid): game state, not a job queue.
    "state-module-matchmaking-queue": (
        "# file: state.py\n"
        "rooms = {}\n"
        "queue = []\n"
        "# file: lobby.py\n"
        "from flask import request\n"
        "from extensions import socketio\n"
        "from state import rooms, queue\n"
        "@socketio.on('join_queue')\n"
        "def join_queue(data):\n"
        "    sid = request.sid\n"
        "    queue.append({'sid': sid, 'name': data['name']})\n"
        "@socketio.on('rejoin')\n"
        "def rejoin(data):\n"
        "    queue[data['i']]['name'] = data['name']\n"
        "@socketio.on('close')\n"
        "def close(data):\n"
        "    del rooms[data['room']]\n",
        {("SK105", 7), ("SK105", 10), ("SK105", 13)},
    ),
    "job-queue-stays-a-job-queue": (
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "queue = []\n"
        "@app.post('/jobs')\n"
        "def submit(url: str):\n"
        "    queue.append({'url': url, 'status': 'pending'})\n"
        "    return ''\n",
        {("SK115", 6)},
    ),
    # Containers kept as plain attributes of the application object.
    "aiohttp-games-on-the-app": (
        "from aiohttp import web\n"
        "class NewGame(web.View):\n"
        "    async def post(self):\n"
        "        game = object()\n"
        "        self.request.app.games[id(game)] = game\n"
        "        return web.Response()\n"
        "def make_app():\n"
        "    app = web.Application()\n"
        "    app.games = {}\n"
        "    app.router.add_view('/new', NewGame)\n"
        "    return app\n",
        {("SK107", 5)},
    ),
    "fastapi-dict-on-the-app": (
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "app.patients = dict()\n"
        "@app.post('/patient')\n"
        "def register(name: str):\n"
        "    app.patients[len(app.patients) + 1] = name\n"
        "    return name\n",
        {("SK107", 6)},
    ),
    # A Starlette endpoint reaching the app through its ASGI scope.
    "starlette-endpoint-scope-app-state": (
        "import asyncio\n"
        "from starlette.endpoints import WebSocketEndpoint\n"
        "class Feed(WebSocketEndpoint):\n"
        "    async def on_connect(self, websocket):\n"
        "        self.channel = asyncio.Queue()\n"
        "        self.scope['app'].state.channels.add(self.channel)\n"
        "        await websocket.accept()\n",
        {("SK110", 6)},
    ),
    # Users' login sessions kept in a process dict (module level, on a class, on the app object):
    # a session store in process memory (SK302), not generic module or app state.
    "login-sessions-in-a-module-dict": (
        "import secrets\n"
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "admin_sessions = {}\n"
        "@app.post('/login')\n"
        "def login(user: str):\n"
        "    sid = secrets.token_hex(8)\n"
        "    admin_sessions[sid] = {'user': user, 'verified': False}\n"
        "    return sid\n"
        "@app.post('/verify')\n"
        "def verify(sid: str):\n"
        "    admin_sessions[sid]['verified'] = True\n"
        "    return ''\n",
        {("SK302", 8), ("SK302", 12)},
    ),
    "login-sessions-on-the-app": (
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "app.session = []\n"
        "@app.post('/login')\n"
        "def login(token: str):\n"
        "    app.session.append(token)\n"
        "    return ''\n",
        {("SK302", 6)},
    ),
    # Database sessions are not login sessions; a sid-keyed sessions dict is a connection registry.
    "db-session-and-socket-sessions": (
        "from flask import Flask, request\n"
        "from flask_socketio import SocketIO\n"
        "app = Flask(__name__)\n"
        "socketio = SocketIO(app, message_queue='redis://r')\n"
        "db_session = []\n"
        "sessions = {}\n"
        "@socketio.on('connect')\n"
        "def connect():\n"
        "    sessions[request.sid] = 0\n"
        "    db_session.append(1)\n",
        {("SK110", 9), ("SK105", 10)},
    ),
    "login-tokens-on-the-app": (
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "app.token = []\n"
        "@app.post('/login')\n"
        "def login(token: str):\n"
        "    app.token.append(token)\n"
        "    return ''\n",
        {("SK302", 6)},
    ),
    # Game objects made straight into a module-level dict, their class imported through its
    # package (``from models import Game``, no ``models/__init__.py`` among the files): the
    # methods the handlers call change process-wide state.
    "objects-made-into-a-container-change-themselves": (
        "# file: api/models/game.py\n"
        "class Game:\n"
        "    def __init__(self, key):\n"
        "        self.users = {}\n"
        "    def add_user(self, name):\n"
        "        self.users[name] = 1\n"
        "# file: api/controller.py\n"
        "from flask import request\n"
        "from flask_socketio import emit\n"
        "from models import Game\n"
        "from api import socketio\n"
        "games = {}\n"
        "@socketio.on('join')\n"
        "def join(data):\n"
        "    if data['key'] not in games:\n"
        "        games[data['key']] = Game(data['key'])\n"
        "    games[data['key']].add_user(data['name'])\n",
        {("SK105", 5), ("SK105", 9)},
    ),
    # The app object under another name, imported by the routes module.
    "app-object-under-another-name": (
        "# file: app/__init__.py\n"
        "from flask import Flask\n"
        "webserver = Flask(__name__)\n"
        "webserver.job_counter = 1\n"
        "# file: app/routes.py\n"
        "from app import webserver\n"
        "@webserver.route('/api/jobs', methods=['POST'])\n"
        "def submit():\n"
        "    job_id = webserver.job_counter\n"
        "    webserver.job_counter += 1\n"
        "    webserver.tasks_runner.submitted += 1\n"
        "    webserver.tasks_runner.jobs[job_id] = 'running'\n"
        "    webserver.history.append(job_id)\n"
        "    return str(job_id)\n",
        {("SK107", 5), ("SK107", 6), ("SK107", 7), ("SK107", 8)},
    ),
    "blueprint-routes-read-only": (
        "from flask import Blueprint\n"
        "bp = Blueprint('jobs', __name__)\n"
        "@bp.route('/jobs')\n"
        "def jobs():\n"
        "    total = bp.name\n"
        "    return total\n",
        set(),
    ),
    # The framework's own attributes, set up at startup, and request.state: not app state.
    "framework-attributes-at-startup": (
        "from fastapi import FastAPI, Request\n"
        "app = FastAPI()\n"
        "app.dependency_overrides[object] = object\n"
        "app.router.routes.append(None)\n"
        "@app.get('/')\n"
        "def index(request: Request):\n"
        "    request.state.items.append(1)\n"
        "    return ''\n",
        set(),
    ),
    "flask-config-changed-once": (
        "from flask import Flask, current_app\n"
        "app = Flask(__name__)\n"
        "@app.post('/feature')\n"
        "def feature():\n"
        "    current_app.config['FEATURE'] = True\n"
        "    return ''\n",
        {("SK107", 5)},
    ),
    # The application object keeps the sockets themselves under a key named for them: a
    # connection registry (SK110), not application state (SK107), whatever the value is called.
    "app-key-named-for-websockets": (
        "from aiohttp import web\n"
        "async def chat(request):\n"
        "    resp = web.WebSocketResponse()\n"
        "    await resp.prepare(request)\n"
        "    request.app['ws_connections'][request.match_info['uid']] = resp\n"
        "    request.app['websockets'].append({'socket': resp, 'room': 1})\n"
        "    return resp\n"
        "app = web.Application()\n"
        "app['ws_connections'] = {}\n"
        "app['websockets'] = []\n"
        "app.router.add_get('/ws', chat)\n",
        {("SK110", 5), ("SK110", 6)},
    ),
    # An app key that only mentions a connection's data stays application state.
    "app-key-of-view-counts-stays-app-state": (
        "from aiohttp import web\n"
        "async def view(request):\n"
        "    request.app['views'][request.match_info['uid']] = 1\n"
        "    return web.Response(text='ok')\n"
        "app = web.Application()\n"
        "app['views'] = {}\n"
        "app.router.add_get('/v', view)\n",
        {("SK107", 3)},
    ),
    # A map of issued session ids is a login session store (SK302), also where a Socket.IO
    # disconnect handler drops the entry.
    "session-id-map-is-a-session-store": (
        "import uuid\n"
        "from flask import Flask, request\n"
        "from flask_socketio import SocketIO\n"
        "app = Flask(__name__)\n"
        "socketio = SocketIO(app, message_queue='redis://r')\n"
        "sessions_ids = {}\n"
        "@app.post('/getsession')\n"
        "def get_session():\n"
        "    name = request.json['username']\n"
        "    sessions_ids[name] = str(uuid.uuid4())\n"
        "    return ''\n"
        "@socketio.on('disconnect')\n"
        "def disconnect():\n"
        "    name = request.args['name']\n"
        "    del sessions_ids[name]\n",
        {("SK302", 10), ("SK302", 15)},
    ),
    # Player records keyed by the player's Socket.IO id: game state (SK105) where players join,
    # score and leave, not a registry of connections.
    "player-records-keyed-by-sid": (
        "from flask import Flask, request\n"
        "from flask_socketio import SocketIO, emit\n"
        "app = Flask(__name__)\n"
        "socketio = SocketIO(app, message_queue='redis://r')\n"
        "players = {}\n"
        "@socketio.on('join')\n"
        "def join(data):\n"
        "    sid = request.sid\n"
        "    players[sid] = {'name': data['name'], 'score': 0}\n"
        "@socketio.on('guess')\n"
        "def guess(data):\n"
        "    players[request.sid]['score'] += 10\n"
        "@socketio.on('disconnect')\n"
        "def leave():\n"
        "    sid = request.sid\n"
        "    del players[sid]\n",
        {("SK105", 9), ("SK105", 12), ("SK105", 16)},
    ),
    # A websocket endpoint class named for websockets keeps its games in class attributes: the
    # games are module state; the sockets it keeps are a registry.
    "endpoint-class-games-are-state": (
        "from starlette.applications import Starlette\n"
        "from starlette.endpoints import WebSocketEndpoint\n"
        "from starlette.routing import WebSocketRoute\n"
        "from starlette.websockets import WebSocket\n"
        "class WSGame(WebSocketEndpoint):\n"
        "    users = []\n"
        "    games = []\n"
        "    async def on_connect(self, websocket: WebSocket) -> None:\n"
        "        await websocket.accept()\n"
        "        self.users.append(websocket)\n"
        "        self.games.append(Game(len(self.games)))\n"
        "class Game:\n"
        "    def __init__(self, number):\n"
        "        self.number = number\n"
        "app = Starlette(routes=[WebSocketRoute('/ws', WSGame)])\n",
        {("SK110", 10), ("SK105", 11)},
    ),
    # aiohttp route definitions made with ``web.post(path, handler)`` register the handler, whatever
    # its request parameter is called.
    "aiohttp-route-definition-registers-its-handler": (
        "from aiohttp import web\n"
        "votes = []\n"
        "async def vote(r):\n"
        "    votes.append(await r.json())\n"
        "    return web.Response()\n"
        "app = web.Application()\n"
        "app.add_routes([web.post('/vote', vote)])\n",
        {("SK105", 4)},
    ),
    # A hook on the application's startup signal runs once per process, not per request.
    "aiohttp-startup-signal-hook-is-not-a-handler": (
        "from aiohttp import web\n"
        "cache = {}\n"
        "async def warm(request_app):\n"
        "    cache['x'] = 1\n"
        "async def index(request):\n"
        "    return web.Response(text=str(cache))\n"
        "app = web.Application()\n"
        "app.on_startup.append(warm)\n"
        "app.router.add_get('/', index)\n",
        set(),
    ),
    # A connection or client kept on the application object on first use (a middleware's lazy
    # engine) means the same on every replica; a counter kept there does not.
    "lazy-connection-on-the-app-is-not-app-state": (
        "from aiohttp import web\n"
        "from nats.aio.client import Client as nats_client\n"
        "from aiopg.sa import create_engine\n"
        "async def nats_middleware(app, handler):\n"
        "    async def middleware_handler(request):\n"
        "        nats = app.get('nats')\n"
        "        if not nats:\n"
        "            nats = nats_client()\n"
        "            await nats.connect()\n"
        "            app['nats'] = nats\n"
        "        return await handler(request)\n"
        "    return middleware_handler\n"
        "async def db_middleware(app, handler):\n"
        "    async def middleware_handler(request):\n"
        "        db = app.get('db')\n"
        "        if not db:\n"
        "            app['db'] = db = await create_engine('postgres://x')\n"
        "            request.app['db'] = db\n"
        "        return await handler(request)\n"
        "    return middleware_handler\n"
        "async def count(request):\n"
        "    request.app['hits'] = request.app.get('hits', 0) + 1\n"
        "    return web.Response()\n",
        {("SK107", 22)},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_container_shapes(name: str) -> None:
    source, expected = CASES[name]
    found = {
        (f.code, f.line)
        for f in lint_snippet(source)
        if (f.code.startswith("SK1") and f.code != "SK111") or f.code == "SK302"
    }
    assert found == expected
