"""Configuration and local-resource shapes (databases, files, caches, sessions, secrets, rate
limits) seen in real apps, with the findings expected for them decided by reading the code.

Each case is a short reproduction written for the test, not a copy of an app's code.
"""

from __future__ import annotations

import re

import pytest

from sessionkit.lint import _fix
from sessionkit.lint._classify import not_runtime
from sessionkit.lint.rules.ratelimit import InMemoryRateLimit

from .conftest import lint_snippet

CASES: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "session-engine-module-path-is-not-a-database-file": (
        'DB_ENGINE = "django.contrib.sessions.backends.db"\n'
        'CACHE_DB = "myproject.backends.cache_db"\n',
        set(),
    ),
    "database-file-next-to-a-module-path": (
        'DATABASE = "instance/app.db"\n'
        'SESSION_DB = "sessions.db"\n',
        {("SK104", 1), ("SK104", 2)},
    ),
    "sqlite-engine-spread-into-the-database-entry": (
        "OPTIONS = {\n"
        '    "ENGINE": "django.db.backends.sqlite3",\n'
        '    "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},\n'
        "}\n"
        "DATABASES = {\n"
        '    "default": {\n'
        '        "NAME": "/data/index.sqlite3",\n'
        "        **OPTIONS,\n"
        "    },\n"
        "}\n"
        "DEBUG_TOOLBAR = {\"IGNORE_SQL\": [r\"^SELECT .* FROM django_session\"]}\n",
        {("SK104", 8)},
    ),
    "fasthtml-and-fastlite-files": (
        "from fasthtml.common import *\n"
        'app, rt, todos, Todo = fast_app("todos.db", id=int, title=str, pk="id")\n'
        'images = database("data/images.db").t.images\n',
        {("SK104", 2), ("SK104", 3)},
    ),
    "app-setting-selects-sqlite": (
        "from pydantic_settings import BaseSettings\n"
        "class Settings(BaseSettings):\n"
        '    DB_ENGINE: str = "sqlite"\n'
        '    DB_NAME: str = "main"\n',
        {("SK104", 3)},
    ),
    "session-key-generated-in-a-factory": (
        "import base64\n"
        "from aiohttp import web\n"
        "from aiohttp_session import setup\n"
        "from aiohttp_session.cookie_storage import EncryptedCookieStorage\n"
        "from cryptography.fernet import Fernet\n"
        "def make_app():\n"
        "    app = web.Application()\n"
        "    generated = Fernet.generate_key()\n"
        "    secret = base64.urlsafe_b64decode(generated)\n"
        "    setup(app, EncryptedCookieStorage(secret))\n"
        "    return app\n",
        {("SK101", 8)},
    ),
    "litestar-cache-store-bound-to-a-name": (
        "from litestar import Litestar\n"
        "from litestar.config.response_cache import ResponseCacheConfig\n"
        "from litestar.stores.memory import MemoryStore\n"
        "STORE = MemoryStore()\n"
        "app = Litestar(\n"
        '    stores={"cache": STORE},\n'
        '    response_cache_config=ResponseCacheConfig(store="cache"),\n'
        ")\n",
        {("SK103", 4)},
    ),
    "mcp-server-on-a-transport-chosen-at-start-up": (
        "import click\n"
        "from mcp.server.mcpserver import MCPServer\n"
        "def build():\n"
        '    return MCPServer("docs")\n'
        "@click.command()\n"
        '@click.option("--transport", default="streamable-http")\n'
        "def main(transport):\n"
        "    build().run(transport=transport)\n",
        {("SK402", 8)},
    ),
    "mcp-server-made-stateless": (
        "from mcp.server.lowlevel import Server\n"
        "from mcp.server.streamable_http_manager import StreamableHTTPSessionManager\n"
        'server = Server("docs")\n'
        "manager = StreamableHTTPSessionManager(app=server, stateless=True)\n"
        "app = server.streamable_http_app(stateless_http=True)\n",
        set(),
    ),
    "upload-folder-constant-created-by-its-module": (
        "# file: app/services/receipts.py\n"
        "import os\n"
        'RECEIPT_UPLOAD_DIR = "receipts"\n'
        "os.makedirs(RECEIPT_UPLOAD_DIR, exist_ok=True)\n"
        "async def save(upload):\n"
        '    path = f"{RECEIPT_UPLOAD_DIR}/{upload.filename}"\n'
        '    with open(path, "wb") as out:\n'
        "        out.write(await upload.read())\n",
        {("SK216", 2), ("SK116", 6)},
    ),
    "local-default-storage-is-the-line-to-change": (
        'MEDIA_ROOT = "/srv/media"\n'
        "STORAGES = {\n"
        '    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},\n'
        '    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},\n'
        "}\n",
        {("SK216", 3)},
    ),
    "storage-alias-with-its-own-location": (
        "STORAGES = {\n"
        '    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},\n'
        '    "reports": {\n'
        '        "BACKEND": "django.core.files.storage.FileSystemStorage",\n'
        '        "OPTIONS": {"location": "/var/reports"},\n'
        "    },\n"
        "}\n",
        {("SK216", 3)},
    ),
    "object-storage-used-only-by-a-management-command": (
        "# file: site/settings.py\n"
        'MEDIA_ROOT = "/srv/media"\n'
        "# file: site/management/commands/archive_logs.py\n"
        "from boto3.session import Session\n"
        "def handle():\n"
        '    Session().client("s3").upload_file("a.log", "logs", "a.log")\n',
        {("SK216", 1)},
    ),
    # A random key in a base config class that the production class (directly or through a class
    # in between) replaces: production never runs it. The key production inherits is reported.
    "random-base-key-replaced-by-the-production-class": (
        "import os\n"
        "class BaseConfig:\n"
        "    SECRET_KEY = '' or os.urandom(64)\n"
        "    JWT_SECRET_KEY = '' or os.urandom(64)\n"
        "class Deployed(BaseConfig):\n"
        "    SECRET_KEY = os.getenv('SECRET_KEY')\n"
        "class DevelopmentConfig(BaseConfig):\n"
        "    DEBUG = True\n"
        "class ProductionConfig(Deployed):\n"
        "    DEBUG = False\n",
        {("SK101", 4)},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_shape(name: str) -> None:
    source, expected = CASES[name]
    found = {(f.code, f.line) for f in lint_snippet(source)}
    assert found == expected


def test_rate_limit_message_and_fix_name_the_same_variable() -> None:
    variables = re.compile(r'os\.environ\["(\w+)"\]')
    in_message = set(variables.findall(InMemoryRateLimit.message))
    in_fix = set(variables.findall(InMemoryRateLimit.fix_hint))
    assert in_message == in_fix == {_fix.LIMITER_SETTING}


def test_sql_quoted_in_a_settings_module_does_not_make_its_database_read_only() -> None:
    settings = (
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}\n'
        'DEBUG_TOOLBAR = {"IGNORE_SQL": [r"^SELECT .* FROM django_session"]}\n'
    )
    findings = lint_snippet("# file: site/settings.py\n" + settings)
    assert [f.code for f in findings] == ["SK104"]
    assert not not_runtime(findings[0], "site/settings.py", settings.encode())


def test_argparse_in_an_annotation_makes_no_command_line_tool() -> None:
    source = (
        "import argparse\n"
        "import logging\n"
        "def configure(args: argparse.Namespace) -> None:\n"
        "    logging.getLogger().addHandler(logging.FileHandler(args.logfile, mode='w'))\n"
    )
    findings = lint_snippet("# file: service/log_setup.py\n" + source)
    assert [f.code for f in findings] == ["SK316"]
    assert not not_runtime(findings[0], "service/log_setup.py", source.encode())
    tool = source + "parser = argparse.ArgumentParser()\n"
    assert not_runtime(findings[0], "service/log_setup.py", tool.encode())


def test_an_mcp_server_on_a_network_transport_is_web_runtime() -> None:
    source = (
        "import click\n"
        "from mcp.server.fastmcp import FastMCP\n"
        "@click.command()\n"
        "def main():\n"
        '    FastMCP("docs").run(transport="sse")\n'
    )
    findings = [f for f in lint_snippet("# file: server.py\n" + source) if f.code == "SK402"]
    assert [f.line for f in findings] == [5]
    assert not not_runtime(findings[0], "server.py", source.encode())
    stdio = source.replace('"sse"', '"stdio"')
    assert not_runtime(findings[0], "server.py", stdio.encode())
