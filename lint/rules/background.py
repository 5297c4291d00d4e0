"""Category 14: background threads inside the web process (job queues: jobs.py)."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._containers import module_containers
from sessionkit.lint.rules._util import keyword, under_main_guard, walk

THREAD = frozenset({"threading.Thread"})
TIMER = frozenset({"threading.Timer"})
#: Methods that change the object they are called on (a dict, list or set of the process).
MUTATORS = frozenset(
    {"update", "pop", "popitem", "append", "extend", "remove", "clear", "add", "discard", "setdefault"}
)
#: A method handed to a thread that by its name runs a loop (``worker.run_worker``, ``bot.poll``).
LOOP_METHOD = re.compile(r"(?i)worker|poll|loop|listen|consume|watch|sniff|forever|periodic")
#: A chat bot's long polling (aiogram, python-telegram-bot, pyTelegramBotAPI): one poller per token.
POLLING = frozenset({"start_polling", "run_polling", "infinity_polling", "polling"})
#: Framework hooks that run a coroutine beside the server (Sanic ``add_task``, Quart's).
APP_TASKS = frozenset({"add_task", "add_background_task"})
TASK_STARTERS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
#: A worker object's loop that long-polls a remote API, and the methods that start it.
POLL_METHOD = re.compile(r"(?i)poll")
STARTERS = frozenset({"start", "connect", "run", "setup", "on_startup"})
#: A task that relays a shared channel to this replica's own clients: per replica by design.
LISTENER = re.compile(r"(?i)listen|subscri|pubsub|redis|relay|consum|broadcast")
#: ...unless it watches the process it runs in (metrics, health, log flushing).
PROCESS_PROBE = re.compile(r"(?i)health|latency|lag|liveness|metric|watchdog|flush|log")


class BackgroundThreadState(Rule):
    """A thread started at import or startup that writes module state which handlers read."""

    code = "SK114"
    name = "background-thread-state"
    category = "background-thread"
    severity = "warning"
    remedy = "refactor"
    prefilter = (
        r"Thread\(|Timer\(|start_background_task\(|add_task\(|add_background_task\(|polling\("
        r"|create_task\(|ensure_future\(",
    )
    message = (
        "the thread runs in every replica and updates only its own process's copy of the state, "
        "so replicas answer from different data (and work is duplicated); have one worker write "
        "the data to Redis or the database and let handlers read it from there"
    )
    fix_hint = "Run the loop in a single worker and share its output through Redis/the database."
    valid = examples(
        """
            import threading
            def work():
                print('x')
            threading.Thread(target=work, daemon=True).start()
        """,
        """
            import threading
            state = {}
            def poll():
                state['x'] = 1
            def view(request):
                threading.Thread(target=poll).start()
        """,
        """
            import threading
            state = {}
            def poll():
                state['x'] = 1
            threading.Thread(target=poll).start()
        """,
        """
            import threading
            if __name__ == '__main__':
                threading.Thread(target=run).start()
        """,
        """
            from threading import Thread
            class Thread2:
                pass
            Thread2()
        """,
        """
            import threading
            from flask import Flask
            app = Flask(__name__)
            def ping():
                print("alive")
            threading.Timer(60, ping).start()
        """,
        """
            import socketio
            sio = socketio.AsyncServer()
            async def notify(sid):
                await sio.emit("done", to=sid)
            @sio.event
            async def submit(sid, data):
                sio.start_background_task(notify, sid)
        """,
        """
            from flask_socketio import SocketIO
            socketio = SocketIO()
            def poll(sid):
                while True:
                    socketio.sleep(1)
                    socketio.emit("tick", to=sid)
            @socketio.on("watch")
            def watch(data):
                socketio.start_background_task(poll, data["sid"])
        """,
        """
            import threading
            import time
            from flask import Flask
            app = Flask(__name__)
            def notify(address):
                time.sleep(5)
                outcome = {"sent": send_mail(address)}
                outcome["at"] = time.time()
            @app.post("/signup")
            def signup():
                threading.Thread(target=notify, args=("a@b.c",)).start()
                return "ok"
        """,
        """
            import threading
            import time
            def loop():
                while True:
                    time.sleep(5)
            def run_cli():
                threading.Thread(target=loop, daemon=True).start()
        """,
        """
            from fastapi import BackgroundTasks, FastAPI
            app = FastAPI()
            async def mail(address):
                while True:
                    if await send(address):
                        break
            @app.post("/signup")
            async def signup(tasks: BackgroundTasks):
                tasks.add_task(mail, "a@b.c")
        """,
        """
            from aiogram import executor
            from bot import dp
            if __name__ == "__main__":
                executor.start_polling(dp)
        """,
        """
            import threading
            import time
            def flush_metrics():
                while True:
                    time.sleep(5)
                    push()
            threading.Thread(target=flush_metrics, daemon=True).start()
        """,
        """
            import asyncio
            from aiohttp import web
            from .pubsub import listen_to_redis
            async def start_listener(app):
                # Each replica relays the shared channel to its own sockets: per replica by design.
                app["listener"] = asyncio.create_task(listen_to_redis(app))
            def make_app():
                app = web.Application()
                app.on_startup.append(start_listener)
                return app
        """,
        """
            import asyncio
            from fastapi import FastAPI
            from .jobs import send_mail
            app = FastAPI()
            @app.post("/signup")
            async def signup():
                asyncio.create_task(send_mail())
        """,
        """
            import asyncio
            class Connection:
                # A per-socket pump: started for one client, not once per process.
                async def open(self, ws):
                    self.task = asyncio.create_task(self.poll())
                async def poll(self):
                    while self.alive:
                        await self.ws.send_json(await self.queue.get())
        """,
    )
    invalid = examples(
        """
            from aiogram import Bot, Dispatcher, executor
            dp = Dispatcher(Bot(token))
            @dp.message_handler()
            async def echo(message):
                await message.answer(message.text)
            executor.start_polling(dp, skip_updates=True)
        """,
        """
            import asyncio
            from quart import Quart
            app = Quart(__name__)
            async def expire_sessions():
                while True:
                    await drop_expired()
                    await asyncio.sleep(60)
            @app.before_serving
            async def startup():
                app.add_background_task(expire_sessions)
        """,
        """
            import threading
            import time
            def worker_loop():
                while True:
                    job = claim_next()
                    if job is None:
                        time.sleep(2)
            threading.Thread(target=worker_loop, daemon=True).start()
        """,
        """
            from threading import Thread
            from flask import Flask
            def sniff():
                while True:
                    packet = capture()
            def create_app():
                app = Flask(__name__)
                Thread(target=sniff, daemon=True).start()
                return app
        """,
        """
            import threading
            import time
            from flask_socketio import SocketIO
            socketio = SocketIO()
            rooms = {}
            @socketio.on("start_question")
            def start_question(data):
                room = rooms[data["room"]]
                def countdown():
                    time.sleep(30)
                    room["state"] = "finished"
                threading.Thread(target=countdown, daemon=True).start()
        """,
        """
            import threading
            from flask import Flask
            app = Flask(__name__)
            rates = {}
            def refresh():
                while True:
                    rates.update(fetch())
            threading.Thread(target=refresh, daemon=True).start()
            @app.get('/rates')
            def get_rates():
                return rates
        """,
        """
            import threading
            LATEST = None
            def poll():
                global LATEST
                LATEST = fetch()
            threading.Thread(target=poll).start()
            def view(request):
                return LATEST
        """,
        """
            from threading import Thread
            from fastapi import FastAPI
            app = FastAPI()
            prices = {}
            def loop():
                prices['btc'] = 1
            @app.on_event('startup')
            def boot():
                Thread(target=loop, daemon=True).start()
            @app.get('/p')
            def p():
                return prices['btc']
        """,
        """
            import threading
            status = []
            def watch():
                status.append(check())
            t = threading.Thread(target=watch)
            t.start()
            async def health(request):
                return status[-1]
        """,
        """
            import threading
            from flask import Flask
            cache = {}
            def warm():
                cache['k'] = load()
            def create_app():
                app = Flask(__name__)
                threading.Thread(target=warm).start()
                @app.get('/k')
                def k():
                    return cache['k']
                return app
        """,
        """
            import threading
            from flask import Flask, jsonify
            app = Flask(__name__)
            readings = {}
            def sample():
                readings["temp"] = read_sensor()
                threading.Timer(1.0, sample).start()
            threading.Timer(1.0, sample).start()
            @app.get("/temp")
            def temp():
                return jsonify(readings)
        """,
        """
            import socketio
            from sanic import Sanic
            sio = socketio.AsyncServer(async_mode="sanic", client_manager=socketio.AsyncRedisManager(url))
            app = Sanic("feed")
            sio.attach(app)
            async def ticker():
                while True:
                    await sio.sleep(10)
                    await sio.emit("tick", {"price": await price()})
            @app.listener("before_server_start")
            def start(app, loop):
                sio.start_background_task(ticker)
        """,
        """
            from threading import Lock
            from flask import Flask
            from flask_socketio import SocketIO, emit
            app = Flask(__name__)
            socketio = SocketIO(app)
            thread = None
            thread_lock = Lock()
            def background_thread():
                count = 0
                while True:
                    socketio.sleep(10)
                    count += 1
                    socketio.emit("my_response", {"count": count})
            @socketio.event
            def connect():
                global thread
                with thread_lock:
                    if thread is None:
                        thread = socketio.start_background_task(background_thread)
                emit("my_response", {"data": "Connected"})
        """,
        """
            import asyncio
            from aiohttp import web
            from chat import utils
            async def start_cleaner(app):
                app["cleaner"] = asyncio.create_task(utils.clean_chat(app))
            def make_app():
                app = web.Application()
                app.on_startup.append(start_cleaner)
                return app
        """,
        """
            import asyncio
            class Poller:
                def __init__(self, store):
                    self.store = store
                    self.is_running = False
                async def start(self):
                    self.is_running = True
                    self.poll_task = asyncio.create_task(self.poll())
                async def poll(self):
                    while self.is_running:
                        updates = await self.store.vk_api.poll()
                        await self.store.bots.handle_updates(updates)
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.ctx.calls(node, TASK_STARTERS) or (
            isinstance(func, cst.Attribute) and func.attr.value == "create_task"
        ):
            self._startup_task(node)
            return
        if isinstance(func, cst.Attribute) and func.attr.value == "start_background_task":
            self._socketio_task(node)
            return
        if isinstance(func, cst.Attribute) and func.attr.value in POLLING | APP_TASKS:
            if not under_main_guard(self.ctx, node) and self._with_the_app(node):
                self._app_loop(node, func.attr.value)
            return
        target = keyword(node, "target")
        if target is None and self.ctx.calls(node, TIMER):  # Timer(interval, function)
            target = keyword(node, "function") or (node.args[1] if len(node.args) > 1 else None)
        elif not self.ctx.calls(node, THREAD):
            return
        if target is None or under_main_guard(self.ctx, node):
            return
        if isinstance(target.value, cst.Attribute):
            self._method_loop(node, target.value)
            return
        if not isinstance(target.value, cst.Name):
            return
        fn = next((f for f in self.ctx.functions.functions if f.name.value == target.value.value), None)
        if fn is None:
            name = target.value.value
            if (
                name in self.ctx.imported
                and LOOP_METHOD.search(name)
                and not PROCESS_PROBE.search(name)
                and self._with_the_app(node)
            ):
                self.report(node, f"thread `{name}` loops in every replica")
            return
        if self.ctx.is_request_time(node):
            self._request_time_worker(node, fn)
            return
        written = self._written_state(fn)
        read = sorted(name for name in written if self._read_by_handler(name))
        if read:
            listed = ", ".join(f"`{n}`" for n in read)
            self.report(node, f"thread `{fn.name.value}` writes {listed} that handlers read")
        elif self._with_the_app(node) and self._loops_forever(fn) and not PROCESS_PROBE.search(fn.name.value):
            self.report(node, f"thread `{fn.name.value}` loops in every replica")

    def _with_the_app(self, node: cst.Call) -> bool:
        """Started at import or by a startup hook (``create_app``, a lifespan), not by a helper
        that some entry point calls, nor in test settings or a development-only branch."""
        functions = self.ctx.enclosing_functions(node)
        if functions and not any(fn in self.ctx.functions.startup for fn in functions):
            return False
        return not (self.ctx.in_test_config(node) or self.ctx.dev_only(node) or self.ctx.is_dev_file)

    @staticmethod
    def _loops_forever(fn: cst.FunctionDef) -> bool:
        """A ``while`` loop that does not end by itself: ``while True``/``while 1`` or a flag
        (``while self.running``, ``while not stop.is_set()``)."""
        for loop in walk(fn.body):
            called = loop.func if isinstance(loop, cst.Call) else None
            if isinstance(called, cst.Attribute) and called.attr.value == "run_pending":
                return False  # a ``schedule`` loop: the scheduler rule (SK113) reports it
        for loop in walk(fn.body):
            if isinstance(loop, cst.While) and not isinstance(loop.test, cst.Comparison):
                return True
        return False

    def _app_loop(self, node: cst.Call, attr: str) -> None:
        """``executor.start_polling(dp)`` (a bot's long polling) or ``app.add_task(loop())``
        with ``loop`` repeating forever, at import or startup of the web process."""
        if attr in POLLING:
            owner = self.ctx.module.code_for_node(node.func)
            if attr != "polling" or "bot" in owner.lower():  # ``bot.polling()``, not any ``.polling()``
                self.report(node, f"`{owner}()` long-polls in every replica")
            return
        first = node.args[0].value if node.args else None
        if isinstance(first, cst.Call):
            first = first.func
        if not isinstance(first, cst.Name):
            return
        name = first.value
        local = [f for f in self.ctx.functions.functions if f.name.value == name]
        looping = (
            any(self._loops_forever(f) for f in local)
            if local
            else (name in self.ctx.imported and bool(LOOP_METHOD.search(name)))
        )
        if looping and not PROCESS_PROBE.search(name):
            self.report(node, f"task `{name}` loops in every replica")

    def _startup_task(self, node: cst.Call) -> None:
        """``app["cleaner"] = asyncio.create_task(utils.clean_chat(app))`` in a startup hook: the
        coroutine of another module (``module.function()``) or a worker object's ``run()``. A task
        started with the app lives as long as the process, so every replica runs its own copy of
        the loop. A coroutine of this module is judged by its body (a sleeping loop is a
        scheduler, SK113); a listener of a shared channel (``listen_to_redis``) is per replica by
        design."""
        if not node.args or under_main_guard(self.ctx, node) or self.ctx.is_import_time(node):
            return  # (``create_task`` at import needs a running loop: a script, not the web app)
        if self._poller_start(node):
            return
        hooks = self._startup_hooks()
        if not self._with_the_app(node) and not any(
            fn.name.value in hooks for fn in self.ctx.enclosing_functions(node)
        ):
            return
        if self.ctx.in_test_config(node) or self.ctx.dev_only(node) or self.ctx.is_dev_file:
            return
        inner = node.args[0].value
        if not isinstance(inner, cst.Call):
            return
        callee = inner.func
        if isinstance(callee, cst.Name):
            # ``create_task(fetch())`` of an imported coroutine: as often a one-shot startup job
            # (open a pool, clean up once) as a loop; a loop-named one is the scheduler rule's.
            return
        elif isinstance(callee, cst.Attribute) and isinstance(callee.value, cst.Name):
            name = callee.attr.value
            owner = callee.value.value
            local_object = owner not in self.ctx.imported and owner not in self.ctx.module_level_names
            if local_object and not (name in {"run", "start"} or LOOP_METHOD.search(name)):
                return
            if not local_object and owner not in self.ctx.imported:
                return
        else:
            return
        if PROCESS_PROBE.search(name) or any(LISTENER.search(q) for q in {name} | self.ctx.qnames(callee)):
            return
        code = self.ctx.module.code_for_node(callee)
        started: set[tuple[int, str]] = self.ctx.memo.setdefault("startup_tasks", set())
        functions = self.ctx.enclosing_functions(node)
        key = (id(functions[0]) if functions else 0, code)
        if key in started:  # ``create_task(fetch())`` again in the ``except`` branch: one loop
            return
        started.add(key)
        self.report(node, f"task `{code}()` started with the app runs in every replica")

    def _poller_start(self, node: cst.Call) -> bool:
        """``self.poll_task = asyncio.create_task(self.poll())`` in a ``start()`` method, with
        ``poll`` a method of the class that polls in a loop (``while self.is_running``): a
        long-polling worker (a chat bot's ``getUpdates``, a VK long poll) that the app starts
        once per process, so every replica polls and handles the same updates."""
        inner = node.args[0].value
        callee = inner.func if isinstance(inner, cst.Call) else None
        if not (
            isinstance(callee, cst.Attribute)
            and isinstance(callee.value, cst.Name)
            and callee.value.value == "self"
            and POLL_METHOD.search(callee.attr.value)
        ):
            return False
        functions = self.ctx.enclosing_functions(node)
        if not functions or functions[-1].name.value not in STARTERS:
            return False
        holder = self.ctx.parents.get(functions[-1])
        owner = self.ctx.parents.get(holder) if holder is not None else None
        if not isinstance(owner, cst.ClassDef) or self.ctx.in_test_config(node) or self.ctx.is_dev_file:
            return False
        methods = [f for f in walk(owner.body) if isinstance(f, cst.FunctionDef)]
        if any(f.name.value == callee.attr.value and self._loops_forever(f) for f in methods):
            self.report(node, f"polling task `self.{callee.attr.value}()` started by `{owner.name.value}`")
            return True
        return False

    def _startup_hooks(self) -> frozenset[str]:
        """Functions this module registers as aiohttp startup hooks (``app.on_startup.append(f)``)."""
        found = self.ctx.memo.get("aiohttp_startup_hooks")
        if isinstance(found, frozenset):
            return found
        names = set()
        if "on_startup" in (self.ctx.source or self.ctx.module.code):
            for call in self.ctx.nodes(cst.Call):
                func = call.func if isinstance(call, cst.Call) else None
                if (
                    isinstance(call, cst.Call)
                    and isinstance(func, cst.Attribute)
                    and func.attr.value in {"append", "extend", "insert"}
                    and isinstance(func.value, cst.Attribute)
                    and func.value.attr.value == "on_startup"
                ):
                    for arg in call.args:
                        for sub in walk(arg.value):
                            if isinstance(sub, cst.Name):
                                names.add(sub.value)
        result = frozenset(names)
        self.ctx.memo["aiohttp_startup_hooks"] = result
        return result

    def _method_loop(self, node: cst.Call, target: cst.Attribute) -> None:
        """``Thread(target=worker.run_worker).start()`` at import or startup: a worker or poller
        object's loop, run by every replica (each drains its own queue, or polls the same feed)."""
        if not self._with_the_app(node):
            return
        name = target.attr.value
        methods = [f for f in self.ctx.functions.functions if f.name.value == name]
        looping = any(self._loops_forever(f) for f in methods) if methods else bool(LOOP_METHOD.search(name))
        if looping and not PROCESS_PROBE.search(name):
            self.report(node, f"thread `{self.ctx.module.code_for_node(target)}` loops in every replica")

    def _socketio_task(self, node: cst.Call) -> None:
        """``sio.start_background_task(loop)`` at import or startup, ``loop`` repeating forever:
        every replica runs its own copy (one event stream per replica, work done N times)."""
        first = node.args[0].value if node.args else None
        if not isinstance(first, cst.Name) or under_main_guard(self.ctx, node):
            return
        when = "started in every replica"
        if self.ctx.is_request_time(node):
            if not self._started_once(node):
                fn = next((f for f in self.ctx.functions.functions if f.name.value == first.value), None)
                if fn is not None:
                    self._request_time_worker(node, fn)
                return
            when = "started by the first request each replica serves"
        for fn in self.ctx.functions.functions:
            if fn.name.value == first.value and any(isinstance(n, cst.While) for n in walk(fn.body)):
                self.report(node, f"background task `{fn.name.value}` {when}")
                return

    def _request_time_worker(self, node: cst.Call, fn: cst.FunctionDef) -> None:
        """A handler starts a thread (or background task) that waits (``sleep``) and then changes
        state outside itself (a ``global``, a module or enclosing object): a game loop, a
        countdown, a grace-period cleanup. It runs in the process that got the request, over the
        copy of the state that process holds; the other replicas never see it. A thread that
        only emits, or that writes once without waiting, is not reported."""
        calls = [n for n in walk(fn.body) if isinstance(n, cst.Call)]
        if not any(self.ctx.module.code_for_node(c.func).endswith("sleep") for c in calls):
            return
        written = sorted(self._outside_writes(fn))
        if written:
            listed = ", ".join(f"`{n}`" for n in written[:3])
            self.report(node, f"a request starts `{fn.name.value}`, which waits and then changes {listed}")

    def _outside_writes(self, fn: cst.FunctionDef) -> set[str]:
        """Names not bound in ``fn`` that it rebinds (``global``), assigns into or mutates."""
        params = {p.name.value for p in walk(fn.params) if isinstance(p, cst.Param)}
        declared: set[str] = set()
        bound = set(params)
        for node in walk(fn.body):
            if isinstance(node, cst.Global | cst.Nonlocal):
                declared.update(item.name.value for item in node.names)
            elif isinstance(node, cst.AssignTarget | cst.AnnAssign | cst.AugAssign | cst.For):
                if isinstance(node.target, cst.Name):
                    bound.add(node.target.value)
            elif isinstance(node, cst.AsName) and isinstance(node.name, cst.Name):
                bound.add(node.name.value)

        def free(name: str) -> bool:
            return name in declared or name not in bound

        written: set[str] = set()
        for node in walk(fn.body):
            targets: list[cst.BaseExpression] = []
            if isinstance(node, cst.AssignTarget | cst.AugAssign | cst.Del):
                targets = [node.target]
            elif (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and node.func.attr.value in MUTATORS
            ):
                targets = [node.func]  # ``rooms.pop(code)``: the owner ``rooms`` changes
            for target in targets:
                if isinstance(target, cst.Name) and target.value in declared:
                    written.add(target.value)
                elif isinstance(target, cst.Subscript | cst.Attribute):
                    base: cst.BaseExpression = target
                    while isinstance(base, cst.Subscript | cst.Attribute):
                        base = base.value
                    if isinstance(base, cst.Name) and base.value != "self" and free(base.value):
                        written.add(base.value)
        return written

    def _started_once(self, node: cst.Call) -> bool:
        """``if thread is None: thread = sio.start_background_task(loop)`` in a handler, with
        ``thread`` a ``global``: the loop starts once per process, on its first request."""
        statement = self.ctx.parents.get(node)
        if not isinstance(statement, cst.Assign):
            return False
        targets = {t.target.value for t in statement.targets if isinstance(t.target, cst.Name)}
        functions = self.ctx.enclosing_functions(node)
        declared = {
            item.name.value
            for g in (walk(functions[0].body) if functions else ())
            if isinstance(g, cst.Global)
            for item in g.names
        }
        if not targets & declared:
            return False
        for parent in self.ctx.ancestors(node):
            if isinstance(parent, cst.If):
                test = self.ctx.module.code_for_node(parent.test)
                if any(re.search(rf"\b{re.escape(t)}\b", test) for t in targets):
                    return True
        return False

    def _written_state(self, fn: cst.FunctionDef) -> set[str]:
        containers = module_containers(self.ctx)
        globals_: set[str] = set()
        written: set[str] = set()
        for node in walk(fn.body):
            if isinstance(node, cst.Global):
                globals_.update(item.name.value for item in node.names)
            elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                owner = node.func.value
                if isinstance(owner, cst.Name) and owner.value in containers:
                    written.add(owner.value)
            elif isinstance(node, cst.AssignTarget):
                target = node.target
                if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
                    if target.value.value in containers:
                        written.add(target.value.value)
                elif isinstance(target, cst.Name) and target.value in globals_:
                    written.add(target.value)
        return written

    def _read_by_handler(self, name: str) -> bool:
        for node in self.ctx.nodes(cst.Name):
            if isinstance(node, cst.Name) and node.value == name and self.ctx.is_request_time(node):
                return self.ctx.module_binding(node) == name
        return False
