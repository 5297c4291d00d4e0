"""Category 4: SQLite and file "databases" on one pod's disk."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule
from sessionkit.lint.rules._util import literal_or_default, string_value

SQLITE_URL = re.compile(r"^sqlite(\+\w+)?:///(?!:memory:|$)")
FILE_DB_CALLS = frozenset(
    {
        "shelve.open",
        "dbm.open",
        "dbm.gnu.open",
        "dbm.ndbm.open",
        "dbm.dumb.open",
        "tinydb.TinyDB",
        "pickledb.load",
        "sqlitedict.SqliteDict",
        "aiosqlite.connect",
    }
)
SQLITE_CONNECT = frozenset({"sqlite3.connect", "sqlite3.dbapi2.connect"})
DJANGO_SQLITE = "django.db.backends.sqlite3"


class LocalDatabase(Rule):
    """A database file on the pod's own disk.

    Each replica reads and writes its own copy: data written through one replica is missing on
    the others, and the file disappears when the pod is replaced.
    """

    code = "SK104"
    name = "local-database"
    category = "local-database"
    severity = "error"
    remedy = "refactor"
    prefilter = (
        r"sqlite3|sqlite(\+\w+)?:///|shelve|dbm"
        r"|TinyDB|pickledb|SqliteDict|aiosqlite",
    )
    message = (
        "the database file lives on one pod's disk, so each replica sees different data and the "
        "data is lost when the pod is replaced; use a shared database server (PostgreSQL, MySQL) "
        "or Redis"
    )
    fix_hint = "Read the database URL from the environment and point it at a shared server."
    valid = (
        'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app"}}\n',
        'import sqlite3\nconn = sqlite3.connect(":memory:")\n',
        'SQLALCHEMY_DATABASE_URI = "postgresql://db/app"\n',
        'from sqlalchemy import create_engine\nengine = create_engine("sqlite://")\n',
        '"""Docs mention sqlite:///app.db here."""\nx = 1\n',
        "import shelve\nprint(shelve.__doc__)\n",
    )
    invalid = (
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}\n',
        'import sqlite3\ndef get_db():\n    return sqlite3.connect("app.db")\n',
        'app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///app.db"\n',
        'from sqlalchemy import create_engine\nengine = create_engine("sqlite:///./data.db", connect_args={"check_same_thread": False})\n',
        'import shelve\ndef save(k, v):\n    with shelve.open("store") as db:\n        db[k] = v\n',
        'import os\nSQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///dev.db")\n',
        'from sqlite3 import connect\nDB = connect("/data/app.sqlite")\n',
    )

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = string_value(node)
        if value is None or not SQLITE_URL.match(value) or self._is_docstring(node):
            return
        self.report(node, f"SQLite URL `{value}`", guard=self.ctx.guard(node))

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if string_value(node.key) == "ENGINE":
            value, holder = literal_or_default(self.ctx, node.value)
            if value == DJANGO_SQLITE:
                self.report(holder, "Django `ENGINE` sqlite3", guard=self.ctx.guard(holder))

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.calls(node, SQLITE_CONNECT):
            first = node.args[0].value if node.args else None
            if string_value(first) in {":memory:", ""} or (string_value(first) is None and first is None):
                return
            self.report(node, "`sqlite3.connect()` on a local file", guard=self.ctx.guard(node))
        elif self.ctx.calls(node, FILE_DB_CALLS):
            name = self.ctx.module.code_for_node(node.func)
            self.report(node, f"`{name}()` file database", guard=self.ctx.guard(node))

    def _is_docstring(self, node: cst.CSTNode) -> bool:
        parent = self.ctx.parents.get(node)
        return isinstance(parent, cst.Expr)
