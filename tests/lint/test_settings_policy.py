"""The settings policy: what only development or tests run is not reported; defaults are.

Each case is a small synthetic project; the expected (code, line) pairs were decided by reading
the snippet against docs/rules.md ("Which settings count").
"""

from __future__ import annotations

import pytest

from .conftest import lint_snippet

CASES: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "opt-in-env-switch-string-compare": (
        "# file: proj/settings.py\n"
        "import os\n"
        'if os.getenv("USE_SQLITE", "no") == "yes":\n'
        '    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}}\n'
        "else:\n"
        '    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "x"}}\n',
        set(),
    ),
    "opt-in-env-switch-through-a-name": (
        "# file: proj/settings.py\n"
        "from decouple import config\n"
        'sqlite_wanted = config("SQLITE_WANTED", default=False, cast=bool)\n'
        "if sqlite_wanted:\n"
        '    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}}\n',
        set(),
    ),
    "opt-in-env-switch-combined-with-debug": (
        "# file: proj/settings.py\n"
        "import os\n"
        'DEBUG = os.getenv("DEBUG", "False") == "True"\n'
        'if not DEBUG and os.getenv("SQLITE_PATH") is not None:\n'
        '    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}}\n'
        'if not DEBUG and os.getenv("REDIS_CACHE_LOCATION") is not None:\n'
        '    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache"}}\n',
        # both bodies are off while the variables are unset; without the shared cache the
        # project runs on Django's per-process LocMemCache, reported at the CACHES it skips
        {("SK103", 6)},
    ),
    "opt-out-env-switch-is-the-default": (
        "# file: proj/settings.py\n"
        "import os\n"
        'if not os.environ.get("POSTGRES_HOST"):\n'
        '    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}}\n',
        {("SK104", 3)},
    ),
    "switch-on-by-default": (
        "# file: proj/settings.py\n"
        "import os\n"
        'if os.getenv("EMBEDDED_DB", "true").lower() == "true":\n'
        '    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}}\n',
        {("SK104", 3)},
    ),
    "debug-only-branch": (
        "# file: proj/settings.py\n"
        "DEBUG = False\n"
        "if DEBUG:\n"
        '    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
        set(),
    ),
    "development-config-class": (
        "# file: config.py\n"
        "import os\n"
        "class BaseConfig:\n"
        '    SECRET_KEY = os.environ["SECRET_KEY"]\n'
        "class DevelopmentConfig(BaseConfig):\n"
        '    SQLALCHEMY_DATABASE_URI = "sqlite:///dev.db"\n'
        "class ProductionConfig(BaseConfig):\n"
        '    SQLALCHEMY_DATABASE_URI = "sqlite:////srv/prod.db"\n',
        {("SK104", 7)},
    ),
    "development-settings-module": (
        "# file: proj/settings/development.py\n"
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "dev.db"}}\n'
        "# file: proj/settings/production.py\n"
        "# production\n"
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/data/db"}}\n',
        {("SK104", 2)},
    ),
    "env-fallback-is-still-reported": (
        "# file: config.py\n"
        "import os\n"
        'SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///app.db")\n',
        {("SK104", 2)},
    ),
    "a-device-class-is-not-development-config": (
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "class DeviceRegistry:\n"
        "    devices = {}\n"
        "registry = DeviceRegistry()\n"
        "@app.post('/devices/<name>')\n"
        "def add(name):\n"
        "    registry.devices[name] = True\n"
        "    return ''\n",
        {("SK105", 8)},
    ),
    # Development settings modules by the names projects give them are not reported...
    "development-settings-module-names": (
        "# file: tcms/settings/devel.py\n"
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}}\n'
        "# file: devproject/settings.py\n"
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "y.db"}}\n'
        "# file: proj/settings_local.py\n"
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "z.db"}}\n',
        set(),
    ),
    # ...but a module merely called ``local.py`` outside the settings (a local storage backend)
    # is code production runs.
    "a-local-storage-backend-is-not-development-settings": (
        "# file: storage/local.py\n"
        "from flask import Flask, request\n"
        "app = Flask(__name__)\n"
        "@app.post('/up')\n"
        "def up():\n"
        "    request.files['f'].save('uploads/' + request.files['f'].filename)\n"
        "    return ''\n",
        {("SK116", 5)},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_settings_policy(name: str) -> None:
    source, expected = CASES[name]
    got = {(f.code, f.line) for f in lint_snippet(source) if f.path.endswith(".py")}
    assert got == expected
