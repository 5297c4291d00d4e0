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
        {("SK101", 5)},
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
        {("SK110", 7)},  # the removal is the same registry (docs/rules.md)
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_realworld_shape(name: str) -> None:
    source, expected = CASES[name]
    found = {(f.code, f.line) for f in lint_snippet(source)}
    assert found == expected
