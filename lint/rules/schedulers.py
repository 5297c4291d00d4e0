"""Category 13: schedulers inside the web process."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint import _links as links
from sessionkit.lint._rule import Facts, Rule, examples
from sessionkit.lint._types import Finding
from sessionkit.lint.rules._util import under_main_guard, walk

SCHEDULERS = frozenset(
    {
        "apscheduler.schedulers.background.BackgroundScheduler",
        "apscheduler.schedulers.asyncio.AsyncIOScheduler",
        "apscheduler.schedulers.gevent.GeventScheduler",
        "apscheduler.schedulers.tornado.TornadoScheduler",
        "apscheduler.schedulers.qt.QtScheduler",
        "apscheduler.BackgroundScheduler",
        "apscheduler.AsyncScheduler",
        "flask_apscheduler.APScheduler",
        "schedule.every",
        "rocketry.Rocketry",
        "fastapi_utils.tasks.repeat_every",
        "fastapi_utilities.repeat_every",
    }
)
TASK_STARTERS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
EVERY = frozenset({"schedule.every"})
RUN_PENDING = frozenset({"schedule.run_pending", "schedule.default_scheduler.run_pending"})
THREADS = frozenset({"threading.Thread"})
TIMERS = frozenset({"threading.Timer"})
#: A job store shared by the replicas (SQLAlchemy, Redis, MongoDB, django-apscheduler's).
JOB_STORE = re.compile(r"JobStore\b|add_jobstore\(|SCHEDULER_JOBSTORES")
WORKER_ENTRYPOINTS = frozenset({"main", "handle", "run_worker", "worker", "run_scheduler"})


#: A coroutine that by its name repeats (``update_loop``, ``poll_feeds``, ``refresh_forever``).
LOOP_NAME = re.compile(r"(?i)loop|poll|periodic|forever|refresh|watch|cron|tick|heartbeat")
#: ...unless it probes the process it runs in (event-loop lag, liveness, process metrics).
PROCESS_PROBE = re.compile(r"(?i)health|latency|lag|liveness|metrics|watchdog")


class InProcessScheduler(Rule):
    """APScheduler, Flask-APScheduler, ``schedule``, or a periodic asyncio loop started with the app.

    (A ``threading.Timer`` that keeps state for handlers is a background thread, SK114.)

    Every replica (and every worker process) runs its own scheduler, so each job runs N times.
    """

    code = "SK113"
    name = "in-process-scheduler"
    category = "scheduler"
    severity = "error"
    remedy = "refactor"
    prefilter = (
        r"Scheduler|schedule|Timer|Rocketry|repeat_every|create_task|ensure_future|JobStore|JOBSTORES",
    )
    message = (
        "each replica starts its own scheduler, so every job runs once per replica (duplicate "
        "e-mails, double charges) and jobs stop when that pod dies; run one scheduler process "
        "(a separate deployment with one replica, Celery beat, a Kubernetes CronJob)"
    )
    fix_hint = "Move scheduled jobs to a single dedicated scheduler process or a CronJob."
    valid = examples(
        """
            from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
            from flask import Flask
            app = Flask(__name__)
            @app.post("/reminders")
            def remind():
                # Jobs live in the shared database; the scheduler runs in its own process.
                scheduler.add_job(send, "date", run_date=when, jobstore="default")
                return "ok"
        """,
        """
            from apscheduler.schedulers.blocking import BlockingScheduler
            sched = BlockingScheduler()
        """,
        """
            from apscheduler.schedulers.background import BackgroundScheduler
            if __name__ == '__main__':
                BackgroundScheduler().start()
        """,
        """
            from apscheduler.schedulers.background import BackgroundScheduler
            def main():
                s = BackgroundScheduler()
                s.start()
        """,
        """
            import threading
            def later(fn):
                threading.Timer(5, fn).start()
        """,
        """
            class BackgroundScheduler:
                pass
            s = BackgroundScheduler()
        """,
        """
            import asyncio
            from fastapi import FastAPI
            app = FastAPI()
            async def warm_up():
                await load_templates()
            @app.on_event("startup")
            async def boot():
                asyncio.create_task(warm_up())
        """,
        """
            # file: app/probes.py
            import asyncio
            async def event_loop_health_ticker():
                while True:
                    await asyncio.sleep(5)
            # file: app/main.py
            import asyncio
            from litestar import Litestar
            from app.probes import event_loop_health_ticker
            async def on_startup():
                asyncio.create_task(event_loop_health_ticker())
            app = Litestar(on_startup=[on_startup])
        """,
        """
            import schedule
            from django.db import models
            class BackupConfig(models.Model):
                def save(self, *args, **kwargs):
                    schedule.clear("backup")
                    schedule.every(self.hours).hours.do(run_backup).tag("backup")
                    super().save(*args, **kwargs)
        """,
    )
    invalid = examples(
        """
            import threading
            from flask_socketio import SocketIO
            socketio = SocketIO()
            rooms = {}
            @socketio.on("settle")
            def settle(data):
                threading.Timer(10, rooms.pop, args=(data["room"],)).start()
        """,
        """
            from flask import Flask
            from apscheduler.schedulers.background import BackgroundScheduler
            app = Flask(__name__)
            scheduler = BackgroundScheduler()
            @app.post("/stats/start")
            def start_stats():
                scheduler.add_job(push_stats, "interval", seconds=5, id="stats")
                return "ok"
        """,
        """
            # file: app/jobs.py
            import asyncio
            async def refresh_loop():
                while True:
                    await asyncio.sleep(60)
            # file: app/main.py
            import asyncio
            from contextlib import asynccontextmanager
            from fastapi import FastAPI
            from app.jobs import refresh_loop
            @asynccontextmanager
            async def lifespan(app):
                asyncio.create_task(refresh_loop())
                yield
            app = FastAPI(lifespan=lifespan)
        """,
        """
            from apscheduler.schedulers.background import BackgroundScheduler
            scheduler = BackgroundScheduler()
            scheduler.add_job(cleanup, 'interval', minutes=5)
            scheduler.start()
        """,
        """
            from flask_apscheduler import APScheduler
            scheduler = APScheduler()
            scheduler.init_app(app)
            scheduler.start()
        """,
        """
            import schedule
            schedule.every(10).minutes.do(job)
        """,
        """
            import threading
            import time
            import schedule
            from django.apps import AppConfig
            class CoreConfig(AppConfig):
                def ready(self):
                    def run_schedule():
                        while True:
                            schedule.run_pending()
                            time.sleep(1)
                    schedule.every().hour.do(backup)
                    threading.Thread(target=run_schedule, daemon=True).start()
        """,
        """
            from apscheduler.schedulers.background import BackgroundScheduler
            from flask import Flask
            def create_app():
                app = Flask(__name__)
                scheduler = BackgroundScheduler(daemon=True)
                scheduler.add_job(send_digest, "cron", hour=7)
                scheduler.start()
                return app
        """,
        """
            from apscheduler.schedulers.asyncio import AsyncIOScheduler
            from fastapi import FastAPI
            app = FastAPI()
            @app.on_event('startup')
            async def boot():
                AsyncIOScheduler().start()
        """,
        """
            from fastapi_utils.tasks import repeat_every
            @app.on_event('startup')
            @repeat_every(seconds=60)
            def purge():
                pass
        """,
        """
            from flask import Flask
            from flask_apscheduler import APScheduler
            scheduler = APScheduler()
            @scheduler.task("interval", id="sync", seconds=30)
            def sync():
                pull()
            if __name__ == "__main__":
                app = Flask(__name__)
                scheduler.init_app(app)
                scheduler.start()
                app.run()
        """,
        """
            import asyncio
            from contextlib import asynccontextmanager
            from fastapi import FastAPI
            async def refresh_rates():
                while True:
                    await update_rates()
                    await asyncio.sleep(600)
            @asynccontextmanager
            async def lifespan(app):
                asyncio.create_task(refresh_rates())
                yield
            app = FastAPI(lifespan=lifespan)
        """,
        """
            # file: src/scheduler.py
            from apscheduler.schedulers.background import BackgroundScheduler
            from src.jobs import check_prices
            scheduler = BackgroundScheduler()
            scheduler.add_job(check_prices, "interval", minutes=30)
            # file: src/app.py
            from contextlib import asynccontextmanager
            from fastapi import FastAPI
            from src.scheduler import scheduler
            @asynccontextmanager
            async def lifespan(app):
                scheduler.start()
                yield
            app = FastAPI(lifespan=lifespan)
        """,
    )

    _loops: set[str] | None = None

    def visit_Call(self, node: cst.Call) -> None:
        armed = self._armed_by_request(node)
        if armed is not None:
            if under_main_guard(self.ctx, node) or self.ctx.in_test_config(node) or self.ctx.dev_only(node):
                return
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "add_job":
                # Kept for the cross-file phase: a shared job store set up in another module
                # (``scheduler.add_jobstore(DjangoJobStore())``) makes the job no replica's own.
                if self.ctx.is_request_time(node):
                    jobs = self.ctx.facts.setdefault("request_jobs", [])
                    jobs.append({"subject": armed, **self.position(node)})
                return
            deferred = None if self.ctx.is_request_time(node) else self.ctx.deferred(node)
            self.report_request_time(node, armed, deferred)
            return
        if self.ctx.calls(node, SCHEDULERS):
            if self.ctx.calls(node, EVERY) and not self._every_runs_here(node):
                return
            subject = f"`{self.ctx.module.code_for_node(node.func)}()` scheduler"
            starts = self._starts(node)
            for start in starts:
                self._maybe(start, f"{subject} started")
            if not starts:
                self._maybe(node, subject, self._module_level_name(node))
        elif self._periodic_task(node):
            self._maybe(node, "a periodic loop started with the app")
        else:
            loop = self._pending_loop_thread(node)
            if loop is not None:
                self._maybe(node, f"thread `{loop}` running `schedule.run_pending()` in a loop")

    def visit_Module(self, node: cst.Module) -> None:
        if JOB_STORE.search(self.ctx.source or node.code):
            self.ctx.facts["job_store"] = True

    def _armed_by_request(self, node: cst.Call) -> str | None:
        """A timer or job that request-time code arms in this process: ``threading.Timer(30,
        expire).start()`` for a turn or a room, ``scheduler.add_job(...)`` on an in-process
        scheduler (not with a shared job store). It fires only in the replica that got the
        request, and is lost with it."""
        if self.ctx.is_import_time(node) or any(
            fn in self.ctx.functions.startup for fn in self.ctx.enclosing_functions(node)
        ):
            return None
        func = node.func
        if self.ctx.calls(node, TIMERS):
            if self._never_started(node):
                return None
            subject = "a `threading.Timer` armed"
        elif isinstance(func, cst.Attribute) and func.attr.value == "add_job":
            subject = f"a job added to `{self.ctx.module.code_for_node(func.value)}`"
        else:
            return None
        if not self.ctx.is_request_time(node) and self.ctx.deferred(node) is None:
            return None
        return f"{subject} at request time, in this process only"

    def _never_started(self, node: cst.Call) -> bool:
        """``timer = Timer(30, expire)`` and nothing in the function starts ``timer``, hands it
        on or returns it: a timer that never fires."""
        parent = self.ctx.parents.get(node)
        if not (isinstance(parent, cst.Assign) and len(parent.targets) == 1):
            return False
        target = parent.targets[0].target
        functions = self.ctx.enclosing_functions(node)
        if not isinstance(target, cst.Name) or not functions:
            return False
        for sub in walk(functions[0].body):
            if isinstance(sub, cst.Name) and sub.value == target.value and sub is not target:
                return False  # used: started, stored, passed or returned
        return True

    def _run_pending_loops(self) -> set[str]:
        """Functions of this module that call ``schedule.run_pending()`` in a loop."""
        if self._loops is not None:  # one rule instance per file
            return self._loops
        found: set[str] = set()
        self._loops = found
        if "run_pending" not in (self.ctx.source or self.ctx.module.code):
            return found
        for fn in self.ctx.functions.functions:
            for loop in walk(fn.body):
                if isinstance(loop, cst.While | cst.For) and any(
                    isinstance(n, cst.Call) and self.ctx.calls(n, RUN_PENDING) for n in walk(loop)
                ):
                    found.add(fn.name.value)
                    break
        return found

    def _every_runs_here(self, node: cst.Call) -> bool:
        """``schedule.every(...)`` registers a job; the jobs run where a loop calls
        ``run_pending()``. With such a loop in this module its start is the line to change (see
        :meth:`_pending_loop_thread`); a job registered inside a method or helper (a model's
        ``save()`` re-registering a backup) is a change to the registry, not a scheduler start."""
        if self._run_pending_loops():
            return False
        functions = self.ctx.enclosing_functions(node)
        return not functions or any(fn in self.ctx.functions.startup for fn in functions)

    def _pending_loop_thread(self, node: cst.Call) -> str | None:
        """``Thread(target=run_schedule)`` (or ``start_background_task(run_schedule)``) at import
        or startup, where ``run_schedule`` loops over ``schedule.run_pending()``."""
        if self.ctx.calls(node, THREADS):
            target = next((a.value for a in node.args if a.keyword and a.keyword.value == "target"), None)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "start_background_task":
            target = node.args[0].value if node.args else None
        else:
            return None
        if not isinstance(target, cst.Name) or self.ctx.is_request_time(node):
            return None
        return target.value if target.value in self._run_pending_loops() else None

    def _starts(self, node: cst.Call) -> list[cst.Call]:
        """The ``name.start()`` calls of the scheduler that ``name = Scheduler()`` binds (the
        line a person changes is the one that starts it)."""
        statement = self.ctx.parents.get(node)
        if isinstance(statement, cst.AssignTarget):
            return []
        if not (isinstance(statement, cst.Assign) and len(statement.targets) == 1):
            return []
        target = statement.targets[0].target
        if not isinstance(target, cst.Name | cst.Attribute):
            return []
        name = self.ctx.module.code_for_node(target)
        return [
            call
            for call in self.ctx.nodes(cst.Call)
            if isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "start"
            and self.ctx.module.code_for_node(call.func.value) == name
        ]

    def _periodic_task(self, node: cst.Call) -> bool:
        """``asyncio.create_task(loop())`` at import or startup, where ``loop`` is a coroutine of
        this module that repeats forever with a sleep: a timer every replica runs."""
        func = node.func
        starter = self.ctx.calls(node, TASK_STARTERS) or (
            isinstance(func, cst.Attribute) and func.attr.value == "create_task"
        )
        if not starter or not node.args or self.ctx.is_request_time(node):
            return False
        functions = self.ctx.enclosing_functions(node)
        if functions and not any(fn in self.ctx.functions.startup for fn in functions):
            return False  # started by some other function (a loop that a startup hook starts)
        inner = node.args[0].value
        if not (isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name)):
            return False
        if inner.func.value in self.ctx.imported and LOOP_NAME.search(inner.func.value):
            # ``create_task(update_loop())`` with the loop in another module; a loop that watches
            # the process itself (``event_loop_health_ticker``) is per process by design
            return not PROCESS_PROBE.search(inner.func.value)
        for fn in self.ctx.functions.functions:
            if fn.name.value == inner.func.value and fn.asynchronous is not None:
                loops = [n for n in walk(fn.body) if isinstance(n, cst.While)]
                return any(
                    isinstance(n, cst.Call) and "sleep" in self.ctx.module.code_for_node(n.func)
                    for loop in loops
                    for n in walk(loop)
                )
        return False

    def _module_level_name(self, node: cst.Call) -> str | None:
        """``name`` when ``name = Scheduler(...)`` is a module-level statement (other modules may
        import it and start it)."""
        statement = self.ctx.parents.get(node)
        if (
            isinstance(statement, cst.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0].target, cst.Name)
            and self.ctx.is_import_time(node)
        ):
            return statement.targets[0].target.value
        return None

    def _maybe(self, node: cst.Call, subject: str, exported: str | None = None) -> None:
        if under_main_guard(self.ctx, node):
            return
        if any(fn.name.value in WORKER_ENTRYPOINTS for fn in self.ctx.enclosing_functions(node)):
            return
        if exported is not None and not self.ctx.in_test_config(node):
            # Reported where another module starts it, else here (the cross-file phase).
            guard = self.ctx.guard(node)
            pending = self.ctx.facts.setdefault("schedulers", [])
            pending.append({"name": exported, "subject": subject, "guard": guard, **self.position(node)})
            return
        self.report(node, subject, guard=self.ctx.guard(node))

    @classmethod
    def project(cls, facts: Facts) -> list[Finding]:
        """A module-level scheduler is reported at the ``.start()`` calls of the modules that
        import it (``scheduler.start()`` in a lifespan), or where it is created when none does."""
        out = super().project(facts)
        index: dict[str, list[str]] = {}
        for path in facts:
            for name in links.module_names(path):
                index.setdefault(name, []).append(path)
        for path, own in sorted(facts.items()):
            for item in own.get("schedulers", ()):
                starts = [
                    (starter, start)
                    for starter, other in sorted(facts.items())
                    for start in other.get("starts", ())
                    if start[1] == item["name"] and path in index.get(links.absolute(starter, start[0]), ())
                ]
                for starter, (_, _, line, column, end_column) in starts:
                    where = {"line": line, "column": column, "end_line": line, "end_column": end_column}
                    subject = f"{item['subject']} (created in {path}) started"
                    out.append(cls.finding_at(starter, where, subject, guard=item["guard"]))
                if not starts:
                    out.append(cls.finding_at(path, item, item["subject"], guard=item["guard"]))
        if not any(own.get("job_store") for own in facts.values()):
            for path, own in sorted(facts.items()):
                out.extend(cls.finding_at(path, job, job["subject"]) for job in own.get("request_jobs", ()))
        return out
