"""The lexical cross-file call graph (sessionkit.lint._links) and Jinja-templated config files."""

from __future__ import annotations

import ast

from sessionkit.lint._links import module_names, reached, scan
from sessionkit.lint._templates import as_python, branches, untemplate

ROUTES = b"""from flask import Blueprint
from .services import add_item, manager as m
import app.jobs as jobs
from app import store
from app.helpers import *
bp = Blueprint("b", __name__)
def create_app():
    seed_items()
    add_item("boot")
@bp.post("/items")
def post_item():
    add_item(1)
    m.connect(2)
    jobs.enqueue(3)
    store.put(4)
    remember(5)
if __name__ == "__main__":
    m.start()
"""


def test_scan_records_calls_in_function_bodies_of_handler_modules() -> None:
    calls = {tuple(c) for c in scan(ROUTES)["calls"]}
    assert {(".services", "add_item"), (".services", "manager.connect"), ("app.jobs", "enqueue")} <= calls
    assert ("app", "store.put") in calls
    assert ("app.helpers", "remember") in calls  # through the star import
    assert (".services", "manager.start") not in calls  # the __main__ block is a script
    assert ("app.helpers", "seed_items") not in calls  # create_app() is startup code


def test_scan_of_other_modules_records_calls_per_function_only() -> None:
    source = b"from app.services import add_item\ndef job():\n    add_item(1)\ndef other():\n    print(2)\n"
    assert scan(source) == {"fcalls": {"job": [["app.services", "add_item"]]}}
    assert scan(b"def job():\n    add_item(1)\n") == {}


def test_reached_follows_helpers_of_helpers() -> None:
    facts = {
        "server.py": scan(
            b"from flask import Flask\nfrom modules.service import add_book\napp = Flask(__name__)\n"
            b"@app.post('/books')\ndef post():\n    add_book(1)\n"
        ),
        "modules/service.py": scan(
            b"from modules.storage import save_book\nfrom modules import audit\n"
            b"def add_book(b):\n    save_book('books.txt', b)\n    audit.record(b)\n"
            b"def unused(b):\n    purge(b)\n"
        ),
        "modules/storage.py": scan(b"import os\ndef save_book(path, b):\n    os.remove(path)\n"),
        "modules/audit.py": {},
    }
    wanted = [
        ("modules/storage.py", "save_book"),
        ("modules/audit.py", "record"),
        ("modules/storage.py", "purge"),
    ]
    assert reached(facts, wanted) == {
        ("modules/storage.py", "save_book"): "server.py",
        ("modules/audit.py", "record"): "server.py",
    }


def test_reached_resolves_relative_absolute_and_module_attribute_calls() -> None:
    facts = {"app/routes.py": scan(ROUTES)}
    wanted = [
        ("app/services.py", "add_item"),
        ("app/services.py", "manager.connect"),
        ("app/store.py", "put"),
        ("app/jobs.py", "enqueue"),
        ("app/services.py", "unused"),
        ("app/services.py", "manager.start"),
    ]
    found = reached(facts, wanted)
    assert set(found) == {
        ("app/services.py", "add_item"),
        ("app/services.py", "manager.connect"),
        ("app/store.py", "put"),
        ("app/jobs.py", "enqueue"),
    }
    assert set(found.values()) == {"app/routes.py"}


def test_an_http_client_module_is_not_a_request_handler() -> None:
    # The words of the handler vocabulary in a docstring and an HTTP client's ``conn.request()``
    # (or a method named ``url``) make no module serve requests: its calls stay per function,
    # so a helper it calls is request-time only if a real handler reaches it.
    client = (
        b'"""Start replicas and wait until they answer requests."""\n'
        b"import http.client\nfrom demo.children import spawn\n"
        b"def wait(port):\n    conn = http.client.HTTPConnection('127.0.0.1', port)\n"
        b"    conn.request('GET', '/health')\n"
        b"class Server:\n    def url(self):\n        return 'x'\n    def start(self):\n        spawn(['x'])\n"
    )
    facts = {"demo/procs.py": scan(client)}
    assert "calls" not in facts["demo/procs.py"]
    assert reached(facts, [("demo/children.py", "spawn")]) == {}
    served = b"from demo.children import spawn\ndef view(request):\n    spawn(['x'])\n"
    facts["demo/views.py"] = scan(served)
    assert reached(facts, [("demo/children.py", "spawn")]) == {("demo/children.py", "spawn"): "demo/views.py"}


def test_module_names_cover_every_package_suffix() -> None:
    assert module_names("src/app/services.py") == {"src.app.services", "app.services", "services"}
    assert module_names("app/api/__init__.py") == {"app.api", "api"}


def test_templated_config_keeps_lines_and_parses() -> None:
    source = (
        b"SECURE = {% if https %}True{% else %}False{% endif %}\n"
        b"URL = {{ redis_uri }}\n"
        b'CACHE_TYPE = "{% if redis %}RedisCache{% else %}SimpleCache{% endif %}"\n'
    )
    out = untemplate(source)
    assert out.count(b"\n") == source.count(b"\n")
    tree = ast.parse(out)
    assert [type(s.value).__name__ for s in tree.body] == ["Constant", "Constant", "Constant"]  # type: ignore[attr-defined]
    assert b"{% if redis %}RedisCache" in out  # tags inside strings are left for the rules
    assert branches("{% if redis %}RedisCache{% else %}SimpleCache{% endif %}") == [
        "RedisCache",
        "SimpleCache",
    ]


def test_ini_config_is_not_python() -> None:
    assert as_python(b"[flake8]\nmax-line-length = 100\n") is None
    assert as_python(b'CACHE_TYPE = "simple"\n') == b'CACHE_TYPE = "simple"\n'


def test_scan_records_instances_and_called_methods() -> None:
    source = b"""from flask import Flask
from chat.broker import Broker
from events import EventManager
from forms import Form, Manager
class Local:
    pass
app = Flask(__name__)
broker = Broker()
local = Local()
def init_events(app):
    app.events = EventManager()
    g.form = Form()  # per request
    manager = Manager()  # a local variable
@app.get("/ws")
def ws():
    return broker.subscribe(app.events.listen())
"""
    facts = scan(source)
    assert {tuple(i) for i in facts["instances"]} == {
        ("chat.broker", "Broker"),
        ("events", "EventManager"),
        ("", "Local"),
        ("flask", "Flask"),  # resolved against the project's files only
    }
    assert {"subscribe", "listen"} <= set(facts["methods"])


def test_reached_resolves_instantiated_classes_and_imported_containers() -> None:
    facts = {
        "chat/__init__.py": scan(
            b"from quart import Quart\nfrom chat.broker import Broker\napp = Quart(__name__)\n"
            b"broker = Broker()\n@app.websocket('/ws')\nasync def ws():\n    broker.subscribe()\n"
        ),
        "chat/broker.py": {},
        "chat/rooms.py": {},
        "fruit_db.py": {"containers": ["fruits"]},
    }
    wanted = [
        ("chat/broker.py", "Broker().subscribe"),
        ("chat/broker.py", "Broker().unsubscribe"),  # never called by a handler module
        ("chat/rooms.py", "Room().join"),  # never instantiated
        ("main.py", "fruit_db:fruits"),
        ("main.py", "fruit_db:missing"),
    ]
    found = reached(facts, wanted)
    assert found == {
        ("chat/broker.py", "Broker().subscribe"): "chat/__init__.py",
        ("main.py", "fruit_db:fruits"): "fruit_db.py",
    }


def test_object_writes_skip_init_and_module_instances() -> None:
    source = (
        b"class Game:\n"
        b"    def __init__(self):\n"
        b"        self.turn = 0\n"
        b"    def play(self, move):\n"
        b"        self.turn += 1\n"
        b"        self.moves.append(move)\n"
        b"        return self.turn == 3\n"
        b"class Stats:\n"
        b"    def hit(self):\n"
        b"        self.count += 1\n"
        b"stats = Stats()\n"
    )
    # Stats has a module-level instance here: the rules see it directly
    assert scan(source)["writes"] == [["Game", "play", "turn", 5, 9, 23], ["Game", "play", "moves", 6, 9, 32]]


def test_objects_kept_by_kept_objects() -> None:
    manager = (
        b"from .game import Game\n"
        b"class Manager:\n"
        b"    def __init__(self):\n"
        b"        self.games = {}\n"
        b"    def create(self, gid):\n"
        b"        self.games[gid] = Game(gid)\n"
        b"    def preview(self, gid):\n"
        b"        if gid not in self.cache:\n"
        b"            self.cache[gid] = Board(gid)\n"
        b"class Board:\n"
        b"    pass\n"
    )
    # a Board made on a cache miss is an instance cache, not a kept record
    assert scan(manager)["stored"] == [[".game", "Game", "Manager"]]
    facts = {
        "pkg/game.py": scan(b"class Game:\n    def join(self, p):\n        self.players.append(p)\n"),
        "pkg/manager.py": scan(manager),
        "pkg/views.py": scan(
            b"from flask import Blueprint\nfrom .manager import Manager\nbp = Blueprint('b', __name__)\n"
            b"manager = Manager()\n@bp.post('/j')\ndef join():\n    game.join(1)\n"
        ),
    }
    from sessionkit.lint._links import kept_writes

    assert [(path, write[:3], caller) for path, write, caller in kept_writes(facts)] == [
        ("pkg/game.py", ["Game", "join", "players"], "pkg/views.py")
    ]
    # the same game made per request only: not kept
    facts["pkg/views.py"] = scan(
        b"from flask import Blueprint\nfrom .manager import Manager\nbp = Blueprint('b', __name__)\n"
        b"@bp.post('/j')\ndef join():\n    Manager().create(1)\n    game.join(1)\n"
    )
    assert kept_writes(facts) == []
