"""Category 4: SQLite and file "databases" on one pod's disk."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._util import (
    CONFIG_OWNERS,
    keyword,
    literal_or_default,
    module_value,
    settings_in,
    string_value,
    walk,
)

SQLITE_URL = re.compile(r"^sqlite(\+\w+)?:///(?!:memory:|$)")
MEMORY_URL = re.compile(r"^sqlite(\+\w+)?:///:memory:$")
SQLITE_PREFIX = re.compile(r"^sqlite(\+\w+)?:////?")
DB_KEY = re.compile(r"(?i)(^|_)(DATABASE|DB|SQLITE)(_|$)")
DB_FILE = re.compile(r"\.(sqlite3?|db3?|accdb|mdb)$")
#: ``DB_ENGINE: str = "sqlite"``: an app's own setting choosing its database kind.
ENGINE_KEY = re.compile(r"(?i)^(\w+_)?(DB|DATABASE)_(ENGINE|TYPE|BACKEND|DRIVER|KIND|DIALECT)$")
SQLITE_NAMES = frozenset({"sqlite", "sqlite3"})
#: ``"django.contrib.sessions.backends.db"``: a dotted module path (a backend, an engine), not a
#: file name, though it ends in ``.db``.
MODULE_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*){2,}$")
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
#: fastlite's ``database(path)`` and FastHTML's ``fast_app(db_file, ...)``: SQLite files.
FASTLITE = frozenset({"fastlite.database", "fastlite.core.database", "fasthtml.common.database"})
FAST_APP = frozenset({"fasthtml.fast_app", "fasthtml.common.fast_app", "fasthtml.fastapp.fast_app"})
FASTHTML_MODULES = ("fasthtml", "fastlite")
DJANGO_SQLITE = "django.db.backends.sqlite3"


OPENS_SQLITE = re.compile(r"sqlite3\.connect\(|[\"']sqlite(\+\w+)?:///")


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
        r"|TinyDB|pickledb|SqliteDict|aiosqlite|\.(sqlite3?|db3?|accdb|mdb)['\"]"
        r"|\bdatabase\(|\bfast_app\(|(DB|DATABASE)_(ENGINE|TYPE|BACKEND|DRIVER|KIND|DIALECT)\b",
    )
    message = (
        "the database file lives on one pod's disk, so each replica sees different data and the "
        "data is lost when the pod is replaced; use a shared database server (PostgreSQL, MySQL) "
        "or Redis"
    )
    fix_hint = "Read the database URL from the environment and point it at a shared server."
    valid = examples(
        """
            from fasthtml.common import *
            app, rt = fast_app(live=True)
            scratch = database(":memory:")
        """,
        """
            from pydantic_settings import BaseSettings
            class Settings(BaseSettings):
                DB_ENGINE: str = "postgres"
        """,
        """
            # A dotted module path ending in ``.db`` names a session engine, not a file.
            DB_ENGINE = "django.contrib.sessions.backends.db"
        """,
        """
            DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app"}}
        """,
        """
            import os
            DB_URL = os.environ["DATABASE_URL"]
            if DB_URL.startswith("sqlite:////tmp/"):
                raise RuntimeError("use a database server: every replica would get its own file")
        """,
        """
            DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app"}}
            USE_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        """,
        """
            import sqlite3
            conn = sqlite3.connect(":memory:")
        """,
        """
            SQLALCHEMY_DATABASE_URI = "postgresql://db/app"
        """,
        """
            from sqlalchemy import create_engine
            engine = create_engine("sqlite://")
        """,
        '''
            """Docs mention sqlite:///app.db here."""
            x = 1
        ''',
        """
            import shelve
            print(shelve.__doc__)
        """,
        """
            import sqlite3
            from flask import current_app, g
            def get_db():
                if "db" not in g:
                    g.db = sqlite3.connect(current_app.config["DATABASE"])
                return g.db
        """,
        """
            class Config:
                SQLALCHEMY_DATABASE_URI = "postgresql://db/app"
            class TestingConfig(Config):
                SQLALCHEMY_DATABASE_URI = "sqlite:///test.db"
        """,
        """
            import os
            class BaseConfig:
                # A default every deployable config replaces.
                SQLALCHEMY_DATABASE_URI = "sqlite:///:memory:"
            class ProductionConfig(BaseConfig):
                SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]
        """,
    )
    invalid = examples(
        """
            from fasthtml.common import *
            app, rt, notes, Note = fast_app("data/notes.db", id=int, text=str, pk="id")
        """,
        """
            from fastlite import database
            db = database("instance/orders.db")
            orders = db.t.orders
        """,
        """
            from pydantic_settings import BaseSettings
            class AppSettings(BaseSettings):
                DB_ENGINE: str = "sqlite"  # or "postgres"
        """,
        """
            SQLITE_OPTIONS = {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {"timeout": 20}}
            DATABASES = {"default": {"NAME": DATA_DIR / "index.sqlite3", **SQLITE_OPTIONS}}
        """,
        """
            DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
        """,
        """
            import sqlite3
            def get_db():
                return sqlite3.connect("app.db")
        """,
        """
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///app.db"
        """,
        """
            from sqlalchemy import create_engine
            engine = create_engine("sqlite:///./data.db", connect_args={"check_same_thread": False})
        """,
        """
            import shelve
            def save(k, v):
                with shelve.open("store") as db:
                    db[k] = v
        """,
        """
            import os
            SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///dev.db")
        """,
        """
            from sqlite3 import connect
            DB = connect("/data/app.sqlite")
        """,
        """
            import os
            basedir = os.path.abspath(os.path.dirname(__file__))
            class Config:
                SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or \\
                    "sqlite:///" + os.path.join(basedir, "app.db")
        """,
        """
            DB_NAME = "shop.db"
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{DB_NAME}"
        """,
        """
            import os
            from flask import Flask
            def create_app():
                app = Flask(__name__, instance_relative_config=True)
                app.config.from_mapping(
                    SECRET_KEY=os.environ["SECRET_KEY"],
                    DATABASE=os.path.join(app.instance_path, "blog.sqlite"),
                )
                return app
        """,
        """
            class Config:
                # Each process opens a database of its own, empty at start.
                SQLALCHEMY_DATABASE_URI = "sqlite:///:memory:"
        """,
    )

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = string_value(node)
        if value is None or self._is_docstring(node) or self._is_test_operand(node):
            return
        if SQLITE_URL.match(value):
            self.report(node, f"SQLite URL `{value}`", guard=self.ctx.guard(node))
        elif MEMORY_URL.match(value) and self._database_setting(node):
            self.report(node, f"in-memory SQLite URL `{value}`", guard=self.ctx.guard(node))
        elif SQLITE_PREFIX.match(value) and self._is_prefix(node):
            self.report(node, "SQLite URL built from `sqlite:///`", guard=self.ctx.guard(node))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        first = node.parts[0] if node.parts else None
        text = first.value if isinstance(first, cst.FormattedStringText) else ""
        if SQLITE_PREFIX.match(text) and ":memory:" not in text:
            self.report(node, "SQLite URL built with an f-string", guard=self.ctx.guard(node))

    def _database_setting(self, node: cst.SimpleString) -> bool:
        """The string is the value of the app's database setting (``SQLALCHEMY_DATABASE_URI =
        "sqlite:///:memory:"``, also as the default of an environment read), outside test
        configuration: each process then has a database of its own."""
        holder: cst.CSTNode | None = self.ctx.parents.get(node)
        while isinstance(holder, cst.Arg | cst.Call | cst.BooleanOperation):
            holder = self.ctx.parents.get(holder)
        if not isinstance(holder, cst.Assign | cst.AnnAssign):
            return False
        keys = [
            k for k, _, _ in settings_in(self.ctx, holder) if DB_KEY.search(k) or k.endswith("DATABASE_URI")
        ]
        return bool(keys) and not self._overridden(holder, keys)

    def _overridden(self, statement: cst.CSTNode, keys: list[str]) -> bool:
        """A config class's default that a subclass in the module sets again (``BaseConfig``
        in memory, ``ProductionConfig(BaseConfig)`` on a real database)."""
        owner = next((a for a in self.ctx.ancestors(statement) if isinstance(a, cst.ClassDef)), None)
        if owner is None:
            return False
        for cls in self.ctx.nodes(cst.ClassDef):
            if not isinstance(cls, cst.ClassDef) or not any(
                isinstance(b.value, cst.Name) and b.value.value == owner.name.value for b in cls.bases
            ):
                continue
            for node in walk(cls.body):
                target = node.target if isinstance(node, cst.AssignTarget) else None
                if isinstance(target, cst.Name) and target.value in keys:
                    return True
        return False

    def _is_prefix(self, node: cst.CSTNode) -> bool:
        """``"sqlite:///" + path`` or ``"sqlite:///%s" % path``: the string starts a built URL."""
        parent = self.ctx.parents.get(node)
        return isinstance(parent, cst.BinaryOperation) and parent.left is node

    def visit_DictElement(self, node: cst.DictElement) -> None:
        holder = self._sqlite_engine(node)
        if holder is not None and not self._spread_elsewhere(node):
            self.report(holder, "Django `ENGINE` sqlite3", guard=self.ctx.guard(holder))

    def visit_StarredDictElement(self, node: cst.StarredDictElement) -> None:
        """``"default": {"NAME": ..., **SQLITE_OPTIONS}``: the database entry takes its sqlite3
        ``ENGINE`` from a dict of options, and is the line to change."""
        options = module_value(self.ctx, node.value) if isinstance(node.value, cst.Name) else None
        if not isinstance(options, cst.Dict):
            return
        for element in options.elements:
            if isinstance(element, cst.DictElement) and self._sqlite_engine(element) is not None:
                name = self.ctx.module.code_for_node(node.value)
                self.report(node, f"Django `ENGINE` sqlite3 (from `{name}`)", guard=self.ctx.guard(node))
                return

    def _sqlite_engine(self, node: cst.DictElement) -> cst.CSTNode | None:
        if string_value(node.key) != "ENGINE":
            return None
        value, holder = literal_or_default(self.ctx, node.value, {DJANGO_SQLITE})
        return holder if value == DJANGO_SQLITE else None

    def _spread_elsewhere(self, node: cst.DictElement) -> bool:
        """The element is in a module-level dict of options that a database entry spreads
        (``**OPTIONS``): reported at the spread."""
        statement = self.ctx.parents.get(self.ctx.parents.get(node) or node)
        if not isinstance(statement, cst.Assign) or len(statement.targets) != 1:
            return False
        target = statement.targets[0].target
        if not isinstance(target, cst.Name) or not self.ctx.is_import_time(target):
            return False
        return any(
            isinstance(spread.value, cst.Name) and spread.value.value == target.value
            for spread in self.ctx.nodes(cst.StarredDictElement)
            if isinstance(spread, cst.StarredDictElement)
        )

    def visit_Assign(self, node: cst.Assign) -> None:
        self._file_setting(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._file_setting(node)

    def _file_setting(self, node: cst.CSTNode) -> None:
        """A config key naming a database set to a ``.sqlite``/``.db`` path: ``DATABASE =
        os.path.join(app.instance_path, "app.sqlite")`` (also in ``from_mapping(...)``)."""
        for key, value, where in settings_in(self.ctx, node):
            if isinstance(where, cst.Name) and self._opened_here():
                continue  # ``db_path = ...`` then ``sqlite3.connect(db_path)``: reported at the use
            if ENGINE_KEY.match(key):
                text, holder = literal_or_default(self.ctx, value, SQLITE_NAMES)
                if text is not None and text.lower() in SQLITE_NAMES:
                    self.report(holder, f"`{key}` selects SQLite", guard=self.ctx.guard(holder))
                    return
            if DB_KEY.search(key):
                for sub in walk(value):
                    text = string_value(sub)
                    if (
                        text is not None
                        and DB_FILE.search(text)
                        and not MODULE_PATH.match(text)
                        and not text.startswith(("sqlite:", "django.db."))
                        and not self._is_test_operand(sub)
                    ):
                        self.report(sub, f"`{key}` is a database file", guard=self.ctx.guard(sub))
                        return

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.calls(node, SQLITE_CONNECT):
            first = node.args[0].value if node.args else None
            if string_value(first) in {":memory:", ""} or first is None or _from_config(first):
                return
            self.report(node, "`sqlite3.connect()` on a local file", guard=self.ctx.guard(node))
        elif self._fasthtml(node, FASTLITE, "database") or self._fasthtml(node, FAST_APP, "fast_app"):
            path = keyword(node, "db_file") or next((a for a in node.args[:1] if a.keyword is None), None)
            text = string_value(path.value) if path is not None else None
            if path is not None and text != ":memory:" and (text is not None or not _from_config(path.value)):
                name = self.ctx.module.code_for_node(node.func)
                self.report(path.value, f"`{name}()` SQLite file", guard=self.ctx.guard(path.value))
        elif self.ctx.calls(node, FILE_DB_CALLS):
            name = self.ctx.module.code_for_node(node.func)
            self.report(node, f"`{name}()` file database", guard=self.ctx.guard(node))
        else:
            self._file_setting(node)

    def _fasthtml(self, node: cst.Call, names: frozenset[str], bare: str) -> bool:
        """A call of one of ``names``, also as the bare ``bare`` name that a star import from
        FastHTML or fastlite brings (``from fasthtml.common import *``, the documented style)."""
        if self.ctx.calls(node, names):
            return True
        if not (isinstance(node.func, cst.Name) and node.func.value == bare and self.ctx.star_import):
            return False
        return any(
            isinstance(imp, cst.ImportFrom)
            and isinstance(imp.names, cst.ImportStar)
            and imp.module is not None
            and self.ctx.module.code_for_node(imp.module).startswith(FASTHTML_MODULES)
            for imp in self.ctx.nodes(cst.ImportFrom)
        )

    def _opened_here(self) -> bool:
        """Outside settings modules, a module that opens the database itself (``sqlite3.connect(``,
        a ``sqlite:///`` URL): a path constant is the input of that finding, not another one."""
        if self.ctx.is_settings:
            return False
        source = self.ctx.source if self.ctx.source is not None else self.ctx.module.code
        return OPENS_SQLITE.search(source) is not None

    def _is_test_operand(self, node: cst.CSTNode) -> bool:
        """``url.startswith("sqlite:///")``, ``ENGINE == "...sqlite3"``: the string tests a value
        set elsewhere; it sets nothing."""
        parent = self.ctx.parents.get(node)
        if isinstance(parent, cst.ComparisonTarget) or (
            isinstance(parent, cst.Comparison) and parent.left is node
        ):
            return True
        call = self.ctx.parents.get(parent) if isinstance(parent, cst.Arg) else None
        return (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in {"startswith", "endswith", "match", "search", "fullmatch"}
        )

    def _is_docstring(self, node: cst.CSTNode) -> bool:
        parent = self.ctx.parents.get(node)
        return isinstance(parent, cst.Expr)


def _from_config(node: cst.BaseExpression) -> bool:
    """``app.config["DATABASE"]``, ``settings.DB_PATH``: the path is set (and reported) elsewhere."""
    if isinstance(node, cst.Subscript):
        node = node.value
    if isinstance(node, cst.Attribute):
        owner = node.value
        name = owner.attr.value if isinstance(owner, cst.Attribute) else getattr(owner, "value", "")
        return name in CONFIG_OWNERS or node.attr.value in CONFIG_OWNERS
    return isinstance(node, cst.Name) and node.value in CONFIG_OWNERS
