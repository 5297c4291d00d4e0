"""Shapes seen in real-world apps, with the findings expected for them labelled by hand.

Each case is a short reproduction (not a copy) of a pattern found while measuring the linter on
open-source Flask/Django/FastAPI apps; the expected (code, line) pairs were decided by reading the
code, not taken from the linter's output.
"""

from __future__ import annotations

import pytest

from .conftest import lint_snippet

CASES: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "django-configure-kwargs": (
        "from django.conf import settings\n"
        "from django.core.management.utils import get_random_secret_key\n"
        "settings.configure(\n"
        "    SECRET_KEY=get_random_secret_key(),\n"
        '    SESSION_ENGINE="django.contrib.sessions.backends.cache",\n'
        '    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},\n'
        "    INSTALLED_APPS=[],\n"
        ")\n",
        {("SK101", 4), ("SK102", 5), ("SK103", 6)},
    ),
    "django-configure-settings-dict": (
        "import sys\n"
        "from django.conf import settings\n"
        "from django.utils.crypto import get_random_string\n"
        "SETTINGS = {\n"
        '    "SECRET_KEY": get_random_string(50),\n'
        '    "SESSION_ENGINE": "django.contrib.sessions.backends.cached_db",\n'
        '    "ROOT_URLCONF": sys.modules[__name__],\n'
        "}\n"
        "if not settings.configured:\n"
        "    settings.configure(**SETTINGS)\n",
        {("SK101", 5), ("SK102", 6)},
    ),
    "django-configure-env": (
        "import os\n"
        "from django.conf import settings\n"
        "settings.configure(\n"
        '    SECRET_KEY=os.environ["SECRET_KEY"],\n'
        '    SESSION_ENGINE="django.contrib.sessions.backends.cache",\n'
        '    CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://r"}},\n'
        ")\n",
        set(),
    ),
    "flask-config-update-with-a-dict-name": (
        "import os\n"
        "from flask import Flask\n"
        "def create_app():\n"
        '    config = {"SECRET_KEY": os.urandom(24), "SESSION_TYPE": "filesystem"}\n'
        "    app = Flask(__name__)\n"
        "    app.config.update(config)\n"
        "    return app\n",
        {("SK101", 4), ("SK202", 4)},
    ),
    "fastapi-counter-on-the-app-object": (
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "app.counter = 0\n"
        "@app.get('/counter')\n"
        "def counter():\n"
        "    app.counter += 1\n"
        "    return str(app.counter)\n",
        {("SK107", 6)},
    ),
    "local-variable-named-app": (
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "@app.put('/apps/{i}')\n"
        "def rename(i: int, name: str):\n"
        "    app = load_application(i)\n"
        "    app.name = name\n"
        "    return {}\n",
        set(),
    ),
    "secret-from-random-choice": (
        "import os, random, string\n"
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "app.config['SECRET_KEY'] = ''.join(random.choice(string.ascii_letters) for _ in range(32))\n",
        {("SK101", 4)},
    ),
    "secret-through-a-module-name": (
        "import os\n"
        "from flask import Flask\n"
        "_key = os.urandom(24)\n"
        "app = Flask(__name__)\n"
        "app.secret_key = _key\n",
        {("SK101", 3)},  # where the key is generated: the line a person changes
    ),
    "random-fallback-through-a-name": (
        "import os, secrets\n"
        "fallback = ''.join(secrets.choice('abcdef0123') for _ in range(40))\n"
        "SECRET_KEY = os.environ.get('SECRET_KEY', fallback)\n",
        {("SK201", 3)},
    ),
    "random-choice-not-a-secret": (
        "import random\nTHEMES = ['light', 'dark']\nDEFAULT_THEME = random.choice(THEMES)\n",
        set(),
    ),
    "singleton-counter": (
        "from fastapi import APIRouter\n"
        "router = APIRouter()\n"
        "class Stats:\n"
        "    def __init__(self):\n"
        "        self.count = 0\n"
        "stats = Stats()\n"
        "@router.post('/items')\n"
        "async def create(item: dict):\n"
        "    stats.count += 1\n"
        "    return item\n",
        {("SK105", 9)},
    ),
    "class-based-view-attribute": (
        "from django.http import JsonResponse\n"
        "from django.views import View\n"
        "class CounterView(View):\n"
        "    hits = {}\n"
        "    template_name = 'x.html'\n"
        "    def get(self, request):\n"
        "        self.hits[request.user.pk] = self.hits.get(request.user.pk, 0) + 1\n"
        "        return JsonResponse({'hits': self.hits[request.user.pk]})\n",
        {("SK105", 7)},
    ),
    "connection-manager-disconnect": (
        "from fastapi import WebSocket\n"
        "class ConnectionManager:\n"
        "    def __init__(self):\n"
        "        self.active_connections: list[WebSocket] = []\n"
        "    async def connect(self, websocket: WebSocket):\n"
        "        await websocket.accept()\n"
        "        self.active_connections.append(websocket)\n"
        "    async def disconnect(self, conn: WebSocket):\n"
        "        self.active_connections.remove(conn)\n"
        "manager = ConnectionManager()\n",
        {("SK110", 7), ("SK110", 9)},  # the removal is a line to change too (docs/rules.md)
    ),
    "game-rooms-in-a-state-module-changed-through-relative-imports": (
        "# file: game/state.py\n"
        "rooms: dict[str, object] = {}\n"
        "# file: game/routes.py\n"
        "from fastapi import APIRouter, WebSocket\n"
        "from .state import rooms\n"
        "router = APIRouter()\n"
        "@router.post('/rooms/{code}')\n"
        "async def create(code: str):\n"
        "    rooms[code] = {'players': [], 'started': False}\n"
        "@router.post('/rooms/{code}/start')\n"
        "async def start(code: str):\n"
        "    room = rooms.get(code)\n"
        "    room['started'] = True\n"
        "    room['players'].sort()\n"
        "@router.delete('/rooms/{code}')\n"
        "async def close(code: str):\n"
        "    rooms.pop(code, None)\n",
        # every site that changes the shared rooms (or a room in it) is a line to change
        {("SK105", 6), ("SK105", 10), ("SK105", 11), ("SK105", 14)},
    ),
    "room-object-attributes-and-its-socket-registry": (
        "from fastapi import FastAPI, WebSocket\n"
        "app = FastAPI()\n"
        "ROOMS = {}\n"
        "@app.websocket('/ws/{code}')\n"
        "async def play(websocket: WebSocket, code: str):\n"
        "    room = ROOMS[code]\n"
        "    room.sockets[websocket.client] = websocket\n"
        "    player = room.players.get(code)\n"
        "    player.ready = False\n"
        "    copy = dict(ROOMS)\n"
        "    copy['x'] = 1\n",
        {("SK110", 7), ("SK105", 9)},  # the socket joins a registry; the copy is not shared
    ),
    "class-level-reply-dict-changed-through-the-class": (
        "# file: shop/replies.py\n"
        "class Reply:\n"
        "    OK = {'status': 200}\n"
        "    NOT_FOUND = {'status': 404}\n"
        "# file: shop/views.py\n"
        "from sanic import Blueprint\n"
        "from sanic.response import json\n"
        "from shop.replies import Reply\n"
        "bp = Blueprint('shop')\n"
        "@bp.route('/items')\n"
        "async def items(request):\n"
        "    Reply.OK.update({'data': [1, 2]})\n"
        "    return json(Reply.OK)\n",
        {("SK105", 7)},
    ),
    "permission-cache-filled-on-a-miss": (
        "from sanic import Sanic\n"
        "app = Sanic('erp')\n"
        "class Permissions:\n"
        "    def __init__(self):\n"
        "        self.by_user = {}\n"
        "    async def roles(self, uid):\n"
        "        if uid not in self.by_user:\n"
        "            doc = await app.ctx.db.users.find_one({'uid': uid})\n"
        "            self.by_user[uid] = doc['roles']\n"
        "        return self.by_user[uid]\n"
        "    async def refresh(self, uid):\n"
        "        self.by_user[uid] = await app.ctx.db.users.find_one({'uid': uid})\n"
        "permissions = Permissions()\n"
        "@app.get('/me')\n"
        "async def me(request):\n"
        "    return await permissions.roles(request.ctx.uid)\n"
        "@app.post('/users/<uid>')\n"
        "async def update(request, uid):\n"
        "    await permissions.refresh(uid)\n",
        {("SK208", 9), ("SK208", 12)},  # a memo of database rows, each fill site reported
    ),
    "sqlite-path-constant-opened-in-the-same-module": (
        "from pathlib import Path\n"
        "import sqlalchemy as sa\n"
        "db_path = Path(__file__).parent / 'chat.db'\n"
        "engine = sa.create_engine(f'sqlite:///{db_path}')\n",
        {("SK104", 4)},  # the path is the input of the engine, reported once, at the engine
    ),
    "uploads-stored-by-a-static-method-of-the-model": (
        "from pathlib import Path\n"
        "from flask import Flask, request\n"
        "app = Flask(__name__)\n"
        "app.config.update(MAX_CONTENT_LENGTH=2**20, FILES_STORAGE_PATH='up')\n"
        "class Upload:\n"
        "    @staticmethod\n"
        "    def store(data, name):\n"
        "        (Path(app.config['FILES_STORAGE_PATH']) / name).write_bytes(data)\n"
        "@app.post('/')\n"
        "def upload():\n"
        "    Upload.store(request.files['f'].read(), 'x')\n"
        "    return 'ok'\n",
        {("SK216", 4), ("SK116", 8)},
    ),
    "lifespan-starts-an-imported-update-loop": (
        "# file: app/jobs.py\n"
        "import asyncio\n"
        "async def poll_once():\n"
        "    pass\n"
        "async def update_loop():\n"
        "    asyncio.create_task(poll_once())\n"
        "    while True:\n"
        "        await asyncio.sleep(300)\n"
        "# file: app/main.py\n"
        "import asyncio\n"
        "from contextlib import asynccontextmanager\n"
        "from fastapi import FastAPI\n"
        "from app.jobs import update_loop\n"
        "@asynccontextmanager\n"
        "async def lifespan(app):\n"
        "    task = asyncio.create_task(update_loop())\n"
        "    yield\n"
        "app = FastAPI(lifespan=lifespan)\n",
        {("SK113", 7)},  # at the start in the lifespan, not inside the loop it runs
    ),
    "socketio-namespace-event-methods-change-class-level-rooms": (
        "import socketio\n"
        "sio = socketio.AsyncServer()\n"
        "class Pong(socketio.AsyncNamespace):\n"
        "    rooms = {}\n"
        "    games = {}\n"
        "    async def on_join_room(self, sid, name):\n"
        "        self.rooms[name] = {'p1': {}, 'p2': {}}\n"
        "    async def on_leave_room(self, sid, name):\n"
        "        self.rooms.pop(name)\n"
        "    async def on_ready(self, sid, name):\n"
        "        await self.play(name)\n"
        "    async def play(self, name):\n"
        "        self.games[name] = object()\n"
        "    def helper(self, name):\n"
        "        self.rooms.clear()\n"
        "sio.register_namespace(Pong('/api/pong'))\n",
        # ``helper`` is no event (not ``on_*``) and no event handler calls it
        {("SK111", 2), ("SK105", 7), ("SK105", 9), ("SK105", 13)},
    ),
    "job-status-written-by-a-worker-a-handler-submits": (
        "import threading\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "executor = ThreadPoolExecutor(max_workers=2)\n"
        "job_status = {}\n"
        "def process(job_id):\n"
        "    job_status[job_id]['status'] = 'downloading'\n"
        "def notify(job_id):\n"
        "    job_status[job_id]['notified'] = True\n"
        "def warm():\n"
        "    return len(job_status)\n"
        "threading.Thread(target=warm).start()\n"
        "@app.post('/download/<job_id>')\n"
        "def download(job_id):\n"
        "    executor.submit(process, job_id)\n"
        "    threading.Thread(target=notify, args=(job_id,)).start()\n"
        "    return job_id\n",
        # a job store at each write; ``warm`` runs once at import (and only reads)
        {("SK115", 8), ("SK115", 10)},
    ),
    "login-wizard-globals-in-a-module-called-through-its-dotted-path": (
        "# file: server/utils/login.py\n"
        "state = 'idle'\n"
        "methods = None\n"
        "def start_new_login():\n"
        "    global state, methods\n"
        "    methods = ['sms']\n"
        "    state = 'pick'\n"
        "def submit_code(code):\n"
        "    global state, methods\n"
        "    if state != 'pick':\n"
        "        return 'no'\n"
        "    state = 'idle'\n"
        "    methods = None\n"
        "# file: server/routes/login.py\n"
        "from flask import Blueprint\n"
        "import utils.login\n"
        "bp = Blueprint('login', __name__)\n"
        "@bp.route('/', methods=['POST'])\n"
        "def register_account():\n"
        "    return utils.login.start_new_login()\n"
        "@bp.route('/code/<code>', methods=['POST'])\n"
        "def code(code):\n"
        "    return utils.login.submit_code(code)\n",
        # every rebinding is a line to change; ``register_account`` is a route, not a setup hook
        {("SK106", 5), ("SK106", 6), ("SK106", 11), ("SK106", 12)},
    ),
    "schedule-jobs-run-by-a-loop-thread-that-ready-starts": (
        "# file: lava/apps.py\n"
        "import threading\n"
        "import time\n"
        "import schedule\n"
        "from django.apps import AppConfig\n"
        "class LavaConfig(AppConfig):\n"
        "    def ready(self):\n"
        "        def start_schedule():\n"
        "            while True:\n"
        "                schedule.run_pending()\n"
        "                time.sleep(1)\n"
        "        threading.Thread(target=start_schedule).start()\n"
        "# file: lava/models.py\n"
        "import schedule\n"
        "from django.db import models\n"
        "class BackupConfig(models.Model):\n"
        "    def update(self, *args, **kwargs):\n"
        "        schedule.every(self.hours).hours.do(backup)\n"
        "        return super().update(*args, **kwargs)\n",
        # the loop thread is the scheduler; a job registered by a model method starts none
        {("SK113", 11)},
    ),
    "scheduler-in-settings-started-through-a-dotted-module-path": (
        "# file: backend/settings.py\n"
        "from apscheduler.schedulers.background import BackgroundScheduler\n"
        "SECRET_KEY = 'x'\n"
        "scheduler = BackgroundScheduler()\n"
        "# file: backend/wsgi.py\n"
        "import os\n"
        "import backend.settings\n"
        "from django.core.wsgi import get_wsgi_application\n"
        "application = get_wsgi_application()\n"
        "backend.settings.scheduler.start()\n",
        {("SK113", 5)},  # where it is started, not where it is created
    ),
    "event-loop-health-ticker-started-with-the-app": (
        "# file: app/probes.py\n"
        "import asyncio\n"
        "import logging\n"
        "async def event_loop_health_ticker():\n"
        "    while True:\n"
        "        await asyncio.sleep(5)\n"
        "        logging.info('loop alive')\n"
        "# file: app/main.py\n"
        "import asyncio\n"
        "from litestar import Litestar, get\n"
        "from app.probes import event_loop_health_ticker\n"
        "from app.feeds import poll_feeds\n"
        "@get('/health')\n"
        "def health() -> dict:\n"
        "    return {}\n"
        "async def on_startup() -> None:\n"
        "    asyncio.create_task(event_loop_health_ticker())\n"
        "    asyncio.create_task(poll_feeds())\n"
        "app = Litestar([health], on_startup=[on_startup])\n",
        {("SK113", 10)},  # the feed poller runs once per replica; the probe watches its own process
    ),
    "django-throttles-on-the-default-locmem-cache": (
        "# file: guru/settings/base.py\n"
        "INSTALLED_APPS = ['rest_framework', 'allauth', 'axes']\n"
        "ACCOUNT_LOGIN_ATTEMPTS_LIMIT = 5\n"
        "ACCOUNT_RATE_LIMITS = {'login_failed': None}\n"
        "AXES_HANDLER = 'axes.handlers.cache.AxesCacheHandler'\n"
        "REST_FRAMEWORK = {\n"
        "    'DEFAULT_PAGINATION_CLASS': 'api.Pagination',\n"
        "    'DEFAULT_THROTTLE_CLASSES': ['rest_framework.throttling.ScopedRateThrottle'],\n"
        "}\n"
        "# file: guru/settings/production.py\n"
        "from .base import *\n"
        "REST_FRAMEWORK = {'DEFAULT_THROTTLE_CLASSES': []}\n",
        # no CACHES anywhere: Django's per-process LocMemCache; an empty throttle list limits nothing
        {("SK109", 2), ("SK109", 4), ("SK109", 7)},
    ),
    "flask-socketio-sessions-keyed-by-request-sid": (
        "from flask import Flask, request\n"
        "from flask_socketio import SocketIO\n"
        "app = Flask(__name__)\n"
        "socket_io = SocketIO(app, message_queue='redis://redis:6379/0')\n"
        "sessions = {}\n"
        "@socket_io.on('connect')\n"
        "def connected():\n"
        "    sessions[request.sid] = 0\n"
        "@socket_io.on('disconnect')\n"
        "def disconnected():\n"
        "    del sessions[request.sid]\n",
        # keyed by the connection: a registry of this replica's clients, where they join and leave
        {("SK110", 8), ("SK110", 11)},
    ),
    "event-loop-thread-a-handler-starts-once": (
        "import asyncio\n"
        "import threading\n"
        "from flask import Blueprint\n"
        "bp = Blueprint('steps', __name__)\n"
        "_loop = None\n"
        "sessions = {}\n"
        "def _run_loop():\n"
        "    global _loop\n"
        "    _loop = asyncio.new_event_loop()\n"
        "    sessions.clear()\n"
        "    _loop.run_forever()\n"
        "@bp.post('/start/<uuid>')\n"
        "def start(uuid):\n"
        "    if _loop is None:\n"
        "        threading.Thread(target=_run_loop, daemon=True).start()\n"
        "    sessions[uuid] = 'open'\n"
        "    return ''\n",
        # the thread's own loop object is no request state; the sessions it clears are
        {("SK105", 10), ("SK105", 16)},
    ),
    "pydantic-settings-instance-changed-by-a-config-route": (
        "# file: src/utils/settings.py\n"
        "from pydantic_settings import BaseSettings\n"
        "class SettingsOCR(BaseSettings):\n"
        "    model: str = 'base'\n"
        "settings_ocr = SettingsOCR()\n"
        "# file: src/api/config.py\n"
        "from fastapi import APIRouter\n"
        "from src.utils import settings_ocr\n"
        "router = APIRouter(prefix='/config')\n"
        "@router.post('/')\n"
        "async def set_config(model: str, device: str):\n"
        "    settings_ocr.model = model\n"
        "    if device: settings_ocr.device = device\n"
        "    return settings_ocr.model_dump()\n"
        "@router.post('/train')\n"
        "async def set_train(options: dict):\n"
        "    for key, value in options.items():\n"
        "        setattr(settings_ocr, key, value)\n",
        {("SK107", 6), ("SK107", 7), ("SK107", 12)},
    ),
    "upload-helper-takes-the-uploaded-file": (
        "import os\n"
        "from uuid import uuid4\n"
        "from fastapi import UploadFile\n"
        "async def save_upload_file(upload_file: UploadFile, sub_dir: str) -> str:\n"
        "    path = os.path.join('/srv/uploads', sub_dir, uuid4().hex)\n"
        "    with open(path, 'wb') as f:\n"
        "        f.write(await upload_file.read())\n"
        "    return path\n"
        "def make_report(rows: list) -> str:\n"
        "    with open('/tmp/report.csv', 'w') as f:\n"
        "        f.write(str(rows))\n"
        "    return '/tmp/report.csv'\n",
        # an UploadFile parameter: the helper runs while its request is handled
        {("SK116", 6)},
    ),
    "game-kept-by-a-manager-kept-at-module-level": (
        "# file: game.py\n"
        "class Game:\n"
        "    def __init__(self, name):\n"
        "        self.name = name\n"
        "        self.players = {}\n"
        "        self.revealed = False\n"
        "    def join(self, uid, player):\n"
        "        self.players[uid] = player\n"
        "    def reveal(self):\n"
        "        self.revealed = True\n"
        "    def info(self):\n"
        "        return {'name': self.name}\n"
        "# file: manager.py\n"
        "from game import Game\n"
        "# the games this process knows\n"
        "class Manager:\n"
        "    def __init__(self):\n"
        "        self.games = {}\n"
        "    def create(self, gid):\n"
        "        game = Game(gid)\n"
        "        self.games[gid] = game\n"
        "    def join(self, gid, uid, p):\n"
        "        self.games[gid].join(uid, p)\n"
        "    def reveal(self, gid):\n"
        "        self.games[gid].reveal()\n"
        "# file: app.py\n"
        "from flask import Flask\n"
        "from manager import Manager\n"
        "app = Flask(__name__)\n"
        "manager = Manager()\n"
        "@app.post('/g/<gid>')\n"
        "def create(gid):\n"
        "    manager.create(gid)\n"
        "    manager.join(gid, 'u', 'p')\n"
        "    manager.reveal(gid)\n"
        "    return 'ok'\n",
        # each change of a Game the manager keeps (game.py 7 and 9), and the manager's dict (8)
        {("SK105", 7), ("SK105", 8), ("SK105", 9)},
    ),
    "game-made-per-request-is-not-kept": (
        "# file: game.py\n"
        "class Game:\n"
        "    def __init__(self, name):\n"
        "        self.players = {}\n"
        "    def join(self, uid, player):\n"
        "        self.players[uid] = player\n"
        "# file: app.py\n"
        "from flask import Flask\n"
        "from game import Game\n"
        "app = Flask(__name__)\n"
        "@app.post('/g')\n"
        "def preview():\n"
        "    game = Game('preview')\n"
        "    game.join('u', 'p')\n"
        "    return 'ok'\n",
        set(),
    ),
    "players-in-a-class-level-list": (
        "# file: player.py\n"
        "class Player:\n"
        "    def __init__(self, sid):\n"
        "        self.sid = sid\n"
        "        self.step = 0\n"
        "    def advance(self):\n"
        "        self.step += 1\n"
        "# file: server.py\n"
        "from player import Player\n"
        "class Server:\n"
        "    players = []\n"
        "    def register(self, sid):\n"
        "        self.players.append(Player(sid))\n"
        "# file: app.py\n"
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "@app.post('/step')\n"
        "async def step(p):\n"
        "    p.advance()\n"
        "    return 'ok'\n",
        # Players live in a class attribute: their own changes are process-wide state
        {("SK105", 6)},
    ),
    "cooldowns-on-the-app-object": (
        "import datetime\n"
        "from flask import Blueprint, session\n"
        "from dash.app import app\n"
        "bp = Blueprint('api', __name__)\n"
        "@bp.route('/api/prefix', methods=['POST'])\n"
        "def prefix():\n"
        "    if app.cooldowns['prefix'].get(session['id'], datetime.datetime.min) > datetime.datetime.now():\n"
        "        return 'slow down'\n"
        "    app.cooldowns['prefix'][\n"
        "        session.get('id')\n"
        "    ] = datetime.datetime.now() + datetime.timedelta(seconds=5)\n"
        "    return 'ok'\n",
        {("SK109", 9)},
    ),
    "login-attempts-counted-in-a-module-dict": (
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "LOGIN_ATTEMPTS: dict[str, int] = {}\n"
        "@app.post('/login')\n"
        "def login(user: str):\n"
        "    LOGIN_ATTEMPTS[user] = LOGIN_ATTEMPTS.get(user, 0) + 1\n"
        "    return 'ok'\n",
        {("SK109", 6)},
    ),
    "current-app-dict-and-extension-object": (
        "from quart import Blueprint, current_app\n"
        "from game import Game\n"
        "bp = Blueprint('rooms', __name__)\n"
        "@bp.route('/rooms', methods=['POST'])\n"
        "async def create():\n"
        "    current_app.games['r1'] = Game('r1')\n"
        "    current_app.cache.update('r1', {'state': 'new'})\n"
        "    return 'ok'\n",
        # a dict kept on the app; `cache.update()` is a method of an extension object
        {("SK107", 6)},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_realworld_shape(name: str) -> None:
    source, expected = CASES[name]
    found = {(f.code, f.line) for f in lint_snippet(source)}
    assert found == expected
