"""I/O and process shapes (local files, media, background work, schedulers, databases) seen in real
apps, with the findings expected for them decided by reading the code.

Each case is a short reproduction written for the test, not a copy of an app's code.
"""

from __future__ import annotations

import pytest

from .conftest import lint_snippet

CASES: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "local-default-storage-reports-the-media-root-it-writes-under": (
        "# file: site/settings.py\n"
        'MEDIA_ROOT = BASE_DIR / "media"\n'
        "STORAGES = {\n"
        '    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},\n'
        '    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},\n'
        "}\n"
        "# file: docs/models.py\n"
        "from django.db import models\n"
        "class Doc(models.Model):\n"
        '    file = models.FileField(upload_to="docs/")\n',
        {("SK216", 1), ("SK216", 3)},
    ),
    "request-time-folder-with-no-write-beside-it": (
        "from pathlib import Path\n"
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        'UPLOADS = Path("uploads")\n'
        '@app.post("/folders/<name>")\n'
        "def new_folder(name):\n"
        "    folder_path = UPLOADS / name\n"
        "    folder_path.mkdir(exist_ok=True)\n"
        "    return str(folder_path)\n",
        {("SK116", 8)},
    ),
    "request-time-folder-next-to-the-write-is-reported-once": (
        "import os\n"
        "from flask import Flask, request\n"
        "app = Flask(__name__)\n"
        '@app.post("/up")\n'
        "def up():\n"
        '    os.makedirs("uploads", exist_ok=True)\n'
        '    request.files["f"].save(os.path.join("uploads", "x"))\n'
        '    return ""\n',
        {("SK116", 7)},
    ),
    "request-time-scratch-folder-and-remote-mkdir": (
        "import os\n"
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        '@app.post("/x")\n'
        "def x():\n"
        '    os.makedirs("/tmp/work", exist_ok=True)\n'
        '    sftp.mkdir("remote/dir")\n'
        '    return ""\n',
        set(),
    ),
    "loguru-sink-built-as-a-path": (
        "from pathlib import Path\n"
        "from loguru import logger\n"
        "def config_logging():\n"
        '    log_path = Path.cwd().joinpath("logfile").joinpath("app_log.log")\n'
        '    logger.add(log_path, rotation="10 MB")\n'
        "    logger.add(sys.stderr)\n"
        '    logger.add(f"logs/{NAME}.log")\n',
        {("SK316", 5), ("SK316", 7)},
    ),
    "helper-raising-http-exception-writes-at-request-time": (
        "import os\n"
        "from starlette.exceptions import HTTPException\n"
        "async def save_image(file, folder):\n"
        '    path = f"./static/upload/{folder}/{file.filename}"\n'
        "    if os.path.exists(path):\n"
        "        raise HTTPException(status_code=400)\n"
        '    with open(path, "wb") as out:\n'
        "        out.write(file.file.read())\n"
        "    image = Image.open(path)\n"
        "    image.resize((100, 100)).save(path)\n",
        {("SK116", 7)},
    ),
    "helper-with-no-request-signal-is-left-to-its-callers": (
        'def save_state(path, data):\n    with open(path, "wb") as out:\n        out.write(data)\n',
        set(),
    ),
    "deferred-write-under-a-configured-storage-path": (
        "import os\n"
        "from app.core.config import settings\n"
        "def save_file(filename, content):\n"
        "    full_path = os.path.join(settings.local_storage_path, filename)\n"
        '    with open(full_path, "wb") as out:\n'
        "        out.write(content)\n",
        {("SK116", 5)},
    ),
    "formatted-path-and-dirname-folder": (
        "import os\n"
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        '@app.post("/pdf")\n'
        "def pdf():\n"
        '    pdf_path = "static/downloads/out.pdf"\n'
        '    image.save(r"{0}".format(pdf_path), save_all=True)\n'
        '    return ""\n'
        '@app.post("/export/<int:doc>")\n'
        "def export(doc):\n"
        '    doc_path = os.path.join("media/docs", f"{doc}.docx")\n'
        "    os.makedirs(os.path.dirname(doc_path), exist_ok=True)\n"
        "    convert(doc, outputfile=doc_path)\n"
        '    return ""\n',
        {("SK116", 7), ("SK116", 12)},
    ),
    "logging-handler-factory-reported-where-logging-uses-it": (
        "import os\n"
        "def _file_handler(name):\n"
        "    return {\n"
        '        "class": "logging.handlers.RotatingFileHandler",\n'
        '        "filename": os.path.join(LOG_DIR, name),\n'
        "    }\n"
        'SCRIPT_LOGGING = {"handlers": {"file": _file_handler("script.log")}}\n'
        "LOGGING = {\n"
        '    "version": 1,\n'
        '    "handlers": {"file": _file_handler("django.log")},\n'
        "}\n",
        {("SK316", 10)},
    ),
    "aiohttp-startup-task-of-an-imported-coroutine": (
        "import asyncio\n"
        "from aiohttp import web\n"
        "from chat import utils\n"
        "from .jobs import fetch_notices, listen_to_redis\n"
        "async def start_tasks(app):\n"
        '    app["cleaner"] = asyncio.create_task(utils.clean_chat(app))\n'
        '    app["fetcher"] = asyncio.create_task(fetch_notices())\n'
        '    app["listener"] = asyncio.create_task(listen_to_redis(app))\n'
        "def make_app():\n"
        "    app = web.Application()\n"
        "    app.on_startup.append(start_tasks)\n"
        "    return app\n",
        {("SK114", 6)},
    ),
    "secret-key-from-a-function-returning-a-random-fallback": (
        "import os\n"
        "import secrets\n"
        "def _resolve_secret_key():\n"
        '    value = os.getenv("SECRET_KEY")\n'
        "    if value:\n"
        "        return value\n"
        "    return secrets.token_urlsafe(48)\n"
        "def _new_token():\n"
        "    return secrets.token_urlsafe(16)\n"
        "class Settings:\n"
        "    SECRET_KEY = _resolve_secret_key()\n"
        "    INVITE_PREFIX = _new_token()\n",
        {("SK101", 7)},
    ),
    "joblib-dump-and-removal-of-a-stored-path": (
        "import os\n"
        "import joblib\n"
        "from flask import Flask, request\n"
        "app = Flask(__name__)\n"
        '@app.post("/state")\n'
        "def state():\n"
        '    joblib.dump(dict(request.form), "game_state")\n'
        '    return ""\n'
        '@app.delete("/images/<int:pk>")\n'
        "def drop(pk):\n"
        "    img = db.get(pk)\n"
        '    os.remove(img["path"])\n'
        '    return ""\n',
        {("SK116", 7), ("SK116", 12)},
    ),
    "module-upload-constant-is-the-line-reported": (
        "# file: polls/app.py\n"
        "import os\n"
        "from flask import Flask\n"
        'UPLOAD_FOLDER = os.path.join(os.path.dirname(__file__), "uploads")\n'
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        '    app.config["UPLOAD_FOLDER"] = UPLOAD_FOLDER\n'
        "    return app\n"
        "# file: polls/routes.py\n"
        "import os\n"
        "from flask import current_app, request\n"
        "def upload():\n"
        '    f = request.files["cover"]\n'
        '    f.save(os.path.join(current_app.config["UPLOAD_FOLDER"], f.filename))\n',
        {("SK216", 3), ("SK116", 5)},
    ),
    "caches-setting-of-another-framework-with-local-backends": (
        "# file: core/settings.py\n"
        "CACHES = {\n"
        '    "default": {"BACKEND": "starlette_web.contrib.redis.RedisCache"},\n'
        '    "locmem": {"BACKEND": "starlette_web.common.caches.local_memory.LocalMemoryCache"},\n'
        '    "files": {"BACKEND": "starlette_web.common.files.cache.FileCache"},\n'
        "}\n"
        "# file: conf/global_settings.py\n"
        'CACHES = {"default": {"BACKEND": "starlette_web.common.caches.local_memory.LocalMemoryCache"}}\n',
        {("SK103", 3), ("SK103", 4)},
    ),
    "in-memory-sqlite-as-the-app-database-unless-a-subclass-replaces-it": (
        "# file: server/config.py\n"
        "class Config:\n"
        '    SQLALCHEMY_DATABASE_URI = "sqlite:///:memory:"\n'
        "# file: configuration.py\n"
        "import os\n"
        "class BaseConfig:\n"
        '    SQLALCHEMY_DATABASE_URI = "sqlite:///:memory:"\n'
        "class ProductionConfig(BaseConfig):\n"
        '    SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]\n',
        {("SK104", 2)},
    ),
    "dash-background-callback-store-is-not-a-cache": (
        "import diskcache\n"
        "from dash import Dash, DiskcacheManager\n"
        'manager = DiskcacheManager(diskcache.Cache("./cache"))\n'
        'pages = diskcache.Cache("./pages")\n',
        {("SK103", 4)},
    ),
    "helper-writing-into-an-upload-folder-but-not-removing-from-it": (
        "import os\n"
        "import shutil\n"
        "def update_file(user, image):\n"
        '    save_path = f"./static/upload/chat/{user}/"\n'
        '    save_img = f"{save_path}" + f"{user}.png"\n'
        "    image.save(save_img)\n"
        "def drop_user(user):\n"
        '    shutil.rmtree(f"./static/upload/{user}")\n',
        {("SK116", 6)},
    ),
    "long-polling-worker-started-by-its-start-method": (
        "import asyncio\n"
        "class Poller:\n"
        "    async def start(self):\n"
        "        self.is_running = True\n"
        "        self.poll_task = asyncio.create_task(self.poll())\n"
        "    async def poll(self):\n"
        "        while self.is_running:\n"
        "            await self.handle(await self.api.poll())\n"
        "class Drainer:\n"
        "    async def start(self):\n"
        "        self.task = asyncio.create_task(self.poll_once())\n"
        "    async def poll_once(self):\n"
        "        await self.api.poll()\n",
        {("SK114", 5)},
    ),
    "startup-task-retried-in-except-is-one-loop-and-a-pubsub-fan-out-is-none": (
        "import asyncio\n"
        "from fastapi import FastAPI\n"
        "from app import rates\n"
        "from app.core.pubsub import notify_ws_clients\n"
        "app = FastAPI()\n"
        '@app.on_event("startup")\n'
        "async def on_startup():\n"
        "    asyncio.create_task(notify_ws_clients())\n"
        "    try:\n"
        "        asyncio.create_task(rates.get_currency_data())\n"
        "    except Exception:\n"
        "        asyncio.create_task(rates.get_currency_data())\n",
        {("SK114", 10)},
    ),
    "helper-that-aborts-but-writes-a-temp-file-and-a-rename-after-a-write": (
        "import os\n"
        "from flask import abort\n"
        "def write_temp(content, key):\n"
        "    dir_path = os.path.join(ROOT, temp_folder, key)\n"
        '    file_path = os.path.join(dir_path, "x.json")\n'
        "    try:\n"
        '        with open(file_path, "w") as out:\n'
        "            out.write(content)\n"
        "    except OSError:\n"
        "        abort(500)\n"
        "def modify(request, name, title):\n"
        '    path = "files/" + name\n'
        '    with open(path, "wb+") as f:\n'
        "        f.write(request.body)\n"
        '    os.rename(path, "files/" + title)\n',
        {("SK116", 13), ("SK116", 15)},
    ),
    "request-time-task-of-an-imported-coroutine-is-not-a-startup-loop": (
        "import asyncio\n"
        "from fastapi import FastAPI\n"
        "from .jobs import send_mail\n"
        "app = FastAPI()\n"
        '@app.post("/signup")\n'
        "async def signup():\n"
        "    asyncio.create_task(send_mail())\n",
        set(),
    ),
    # A scratch file: the upload is saved, processed and removed within the same request, so no
    # other request needs it. The one kept for later requests is still reported.
    "scratch-upload-removed-in-the-same-request": (
        "import os\n"
        "from flask import Flask, request\n"
        "app = Flask(__name__)\n"
        "@app.post('/analyse')\n"
        "def analyse():\n"
        "    f = request.files['video']\n"
        "    path = os.path.join('uploads', f.filename)\n"
        "    f.save(path)\n"
        "    cuts = extract(path)\n"
        "    os.remove(path)\n"
        "    return cuts\n"
        "@app.post('/sheet')\n"
        "def sheet():\n"
        "    path = 'modules/file.xls'\n"
        "    with open(path, 'wb') as out:\n"
        "        out.write(request.data)\n"
        "    rows = parse(path)\n"
        "    Path(path).unlink()\n"
        "    return rows\n"
        "@app.post('/keep')\n"
        "def keep():\n"
        "    f = request.files['video']\n"
        "    path = os.path.join('uploads', f.filename)\n"
        "    f.save(path)\n"
        "    return path\n",
        {("SK116", 24)},
    ),
    # A timer made and never started (nor stored, passed or returned) never fires.
    "timer-never-started-is-not-armed": (
        "from threading import Timer\n"
        "from quart import Quart, session\n"
        "app = Quart(__name__)\n"
        "@app.route('/edit/<name>')\n"
        "async def edit(name):\n"
        "    def f(): del session['editing']\n"
        "    timer = Timer(30, f)\n"
        "    return name\n"
        "@app.route('/lock/<name>')\n"
        "async def lock(name):\n"
        "    def f(): del session['editing']\n"
        "    timer = Timer(30, f)\n"
        "    timer.start()\n"
        "    return name\n",
        {("SK113", 12)},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_io_shape(name: str) -> None:
    source, expected = CASES[name]
    found = {(f.code, f.line) for f in lint_snippet(source)}
    assert found == expected


def test_caches_set_to_an_empty_dict_does_not_crash_the_project_phase() -> None:
    source = (
        '# file: site/settings.py\nCACHES = {}\nSESSION_ENGINE = "django.contrib.sessions.backends.cache"\n'
    )
    codes = [f.code for f in lint_snippet(source)]
    assert not [c for c in codes if c.startswith("SK0")]


def test_a_game_loop_thread_started_by_a_socket_event_is_reported() -> None:
    source = (
        "import threading\n"
        "from flask_socketio import SocketIO\n"
        "socketio = SocketIO()\n"
        "GAME = None\n"
        "@socketio.on('createGame')\n"
        "def create_game(data):\n"
        "    threading.Thread(target=game_thread, args=[data]).start()\n"
        "def game_thread(data):\n"
        "    global GAME\n"
        "    socketio.sleep(25)\n"
        "    GAME = make_game(data)\n"
        "@socketio.on('state')\n"
        "def state():\n"
        "    return GAME.state\n"
    )
    assert {(f.code, f.line) for f in lint_snippet(source)} >= {("SK114", 7)}


def test_a_request_time_task_that_waits_but_writes_only_its_own_locals_is_not_reported() -> None:
    source = (
        "import asyncio\n"
        "import socketio\n"
        "sio = socketio.AsyncServer()\n"
        "async def remind(sid):\n"
        "    await sio.sleep(60)\n"
        "    payload = {}\n"
        "    payload['text'] = 'still there?'\n"
        "    await sio.emit('reminder', payload, to=sid)\n"
        "@sio.event\n"
        "async def join(sid, data):\n"
        "    sio.start_background_task(remind, sid)\n"
    )
    assert "SK114" not in {f.code for f in lint_snippet(source)}


def test_a_job_added_per_request_is_reported_unless_a_shared_job_store_is_set_up() -> None:
    views = (
        "# file: bot/views.py\n"
        "from flask import Flask\n"
        "from bot.jobs import scheduler\n"
        "app = Flask(__name__)\n"
        '@app.post("/remind")\n'
        "def remind():\n"
        '    scheduler.add_job(send, "date", run_date=when)\n'
        '    return "ok"\n'
    )
    jobs = (
        "# file: bot/jobs.py\n"
        "from apscheduler.schedulers.background import BackgroundScheduler\n"
        "scheduler = BackgroundScheduler()\n"
    )
    shared = jobs + "scheduler.add_jobstore(DjangoJobStore(), 'default')\n"
    assert ("SK113", "bot/views.py", 6) in {(f.code, f.path, f.line) for f in lint_snippet(views + jobs)}
    assert ("SK113", "bot/views.py", 6) not in {
        (f.code, f.path, f.line) for f in lint_snippet(views + shared)
    }


def test_a_timer_armed_by_a_socket_event_is_reported() -> None:
    source = (
        "import threading\n"
        "from flask_socketio import SocketIO\n"
        "socketio = SocketIO()\n"
        "rooms = {}\n"
        '@socketio.on("settle")\n'
        "def settle(data):\n"
        '    threading.Timer(10, rooms.pop, args=(data["room"],)).start()\n'
    )
    assert ("SK113", 7) in {(f.code, f.line) for f in lint_snippet(source)}


def test_a_worker_loop_thread_started_with_the_app_is_reported() -> None:
    module_level = (
        "import threading\n"
        "import time\n"
        "def worker_loop():\n"
        "    while True:\n"
        "        job = claim_next()\n"
        "        if job is None:\n"
        "            time.sleep(2)\n"
        "threading.Thread(target=worker_loop, daemon=True).start()\n"
    )
    method = (
        "from threading import Thread\n"
        "from fastapi import FastAPI\n"
        "from worker import Worker\n"
        "app = FastAPI()\n"
        "worker = Worker()\n"
        "Thread(target=worker.run_worker).start()\n"
    )
    factory = (
        "from threading import Thread\n"
        "from flask import Flask\n"
        "def start_sniffer():\n"
        "    while True:\n"
        "        capture()\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        "    Thread(target=start_sniffer, daemon=True).start()\n"
        "    return app\n"
    )
    assert ("SK114", 8) in {(f.code, f.line) for f in lint_snippet(module_level)}
    assert ("SK114", 6) in {(f.code, f.line) for f in lint_snippet(method)}
    assert ("SK114", 8) in {(f.code, f.line) for f in lint_snippet(factory)}


def test_a_loop_thread_of_a_cli_helper_or_a_metrics_flusher_is_not_reported() -> None:
    helper = (
        "import threading\n"
        "def loop():\n"
        "    while True:\n"
        "        tick()\n"
        "def run_cli():\n"
        "    threading.Thread(target=loop).start()\n"
        "if __name__ == '__main__':\n"
        "    threading.Thread(target=loop).start()\n"
    )
    probe = (
        "import threading\n"
        "def flush_metrics():\n"
        "    while True:\n"
        "        push()\n"
        "threading.Thread(target=flush_metrics, daemon=True).start()\n"
    )
    assert not [f for f in lint_snippet(helper) if f.code == "SK114"]
    assert not [f for f in lint_snippet(probe) if f.code == "SK114"]


def test_bot_polling_and_app_task_loops_started_with_the_app_are_reported() -> None:
    polling = (
        "from aiogram import Bot, Dispatcher, executor\n"
        "dp = Dispatcher(Bot(token))\n"
        "executor.start_polling(dp, skip_updates=True)\n"
    )
    lifespan = (
        "from contextlib import asynccontextmanager\n"
        "@asynccontextmanager\n"
        "async def lifespan(app):\n"
        "    await tg_app.updater.start_polling()\n"
        "    yield\n"
    )
    quart = (
        "import asyncio\n"
        "from quart import Quart\n"
        "app = Quart(__name__)\n"
        "async def expire_sessions():\n"
        "    while True:\n"
        "        await asyncio.sleep(60)\n"
        "@app.before_serving\n"
        "async def startup():\n"
        "    app.add_background_task(expire_sessions)\n"
    )
    assert ("SK114", 3) in {(f.code, f.line) for f in lint_snippet(polling)}
    assert ("SK114", 4) in {(f.code, f.line) for f in lint_snippet(lifespan)}
    assert ("SK114", 9) in {(f.code, f.line) for f in lint_snippet(quart)}


def test_request_background_tasks_and_guarded_polling_are_not_reported() -> None:
    request = (
        "from fastapi import BackgroundTasks, FastAPI\n"
        "app = FastAPI()\n"
        "async def mail(address):\n"
        "    while True:\n"
        "        await send(address)\n"
        '@app.post("/signup")\n'
        "async def signup(tasks: BackgroundTasks):\n"
        '    tasks.add_task(mail, "a@b.c")\n'
    )
    guarded = (
        "from aiogram import executor\n"
        "from bot import dp\n"
        "if __name__ == '__main__':\n"
        "    executor.start_polling(dp)\n"
    )
    assert not [f for f in lint_snippet(request) if f.code == "SK114"]
    assert not [f for f in lint_snippet(guarded) if f.code == "SK114"]
