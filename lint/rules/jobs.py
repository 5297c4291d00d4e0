"""Category 15: job queues kept inside the web process."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._containers import class_attributes
from sessionkit.lint.rules._queues import created_queues, queue_named
from sessionkit.lint.rules._state import request_time_mutations
from sessionkit.lint.rules.module_state import CONTAINER_PREFILTER


class InMemoryJobQueue(Rule):
    """Jobs, task results or progress kept in a module-level dict/queue and polled by later requests.

    The follow-up request ("is job 42 done?") usually reaches another replica, which has no such
    job; the queue is also lost when the pod restarts.
    """

    code = "SK115"
    name = "in-memory-job-queue"
    category = "job-queue"
    severity = "error"
    remedy = "refactor"
    prefilter = CONTAINER_PREFILTER
    message = (
        "the job list lives in one process, so polling requests served by other replicas cannot "
        "find the job and queued work is lost on restart; use a real queue (RQ, Celery, arq) and "
        "keep job status in Redis"
    )
    fix_hint = "Enqueue with RQ/Celery/arq and store job status in Redis."
    valid = examples(
        """
            from flask import Flask, request
            from flask_socketio import SocketIO
            app = Flask(__name__)
            socketio = SocketIO(app, message_queue="redis://r")
            queue = []
            @socketio.on("join_queue")
            def join_queue(name):
                queue.append({"sid": request.sid, "name": name})
        """,
        """
            import asyncio
            from fastapi import FastAPI, WebSocket
            app = FastAPI()
            @app.websocket("/feed")
            async def feed(ws: WebSocket):
                outbox = asyncio.Queue()
                asyncio.create_task(pump(ws, outbox))
                while True:
                    await outbox.put(await ws.receive_text())
        """,
        """
            import queue
            jobs = queue.Queue()
            def worker():
                while True:
                    jobs.get()
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            @app.post('/jobs')
            def submit():
                job = queue_job.delay()
                return job.id
        """,
        """
            from fastapi import FastAPI, BackgroundTasks
            app = FastAPI()
            @app.post('/send')
            async def send(tasks: BackgroundTasks):
                tasks.add_task(notify)
        """,
        """
            TASKS = {}
            TASKS['boot'] = 'done'
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            TASKS = {}
            @app.get('/tasks/<tid>')
            def status(tid):
                return TASKS.get(tid, 'unknown')
        """,
    )
    invalid = examples(
        """
            import queue
            import threading
            from flask import Flask, request
            app = Flask(__name__)
            resize_queue = queue.Queue()
            def resizer():
                while True:
                    make_thumbnail(resize_queue.get())
            threading.Thread(target=resizer, daemon=True).start()
            @app.post("/images")
            def upload():
                resize_queue.put(request.files["image"].filename)
                return "", 202
        """,
        """
            import queue
            import threading
            class Dispatcher:
                def __init__(self):
                    self._pending = queue.Queue(maxsize=100)
                    self._thread = threading.Thread(target=self._drain, daemon=True)
                    self._thread.start()
                def _drain(self):
                    while True:
                        send(self._pending.get())
        """,
        """
            import asyncio
            from sanic import Sanic
            app = Sanic("jobs")
            @app.before_server_start
            async def start_workers(app, _):
                app.ctx.work_queue = asyncio.Queue()
                app.add_task(consume(app.ctx.work_queue))
        """,
        """
            import uuid, threading
            from flask import Flask
            app = Flask(__name__)
            jobs = {}
            @app.post('/export')
            def export():
                jid = str(uuid.uuid4())
                jobs[jid] = {'status': 'running'}
                threading.Thread(target=run, args=(jid,)).start()
                return jid
        """,
        """
            import queue
            from flask import Flask, request
            app = Flask(__name__)
            work = queue.Queue()
            @app.post('/enqueue')
            def enqueue():
                work.put(request.json)
                return ''
        """,
        """
            import asyncio
            from fastapi import FastAPI
            app = FastAPI()
            pending = asyncio.Queue()
            @app.post('/q')
            async def q(item: dict):
                await pending.put(item)
        """,
        """
            from collections import deque
            from django.http import JsonResponse
            results = deque(maxlen=100)
            def run_report(request):
                results.append(make_report())
                return JsonResponse({})
        """,
        """
            from fastapi import FastAPI, BackgroundTasks
            app = FastAPI()
            task_status: dict[str, str] = {}
            def work(tid):
                task_status[tid] = 'done'
            @app.post('/t')
            async def start(tasks: BackgroundTasks):
                task_status['1'] = 'queued'
                tasks.add_task(work, '1')
        """,
        """
            import asyncio
            import uuid
            from fastapi import BackgroundTasks, FastAPI
            app = FastAPI()
            tasks = {}
            async def long_task(task_id):
                for step in ("fetching", "processing", "done"):
                    tasks[task_id] = step
                    await asyncio.sleep(20)
            @app.put("/long_task", status_code=202)
            async def start_long_task(background_tasks: BackgroundTasks):
                task_id = str(uuid.uuid4())
                tasks[task_id] = "in_progress"
                background_tasks.add_task(long_task, task_id)
                return {"task_id": task_id}
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            class JobStore:
                jobs = {}
                def add(self, jid):
                    self.jobs[jid] = 'queued'
            store = JobStore()
            @app.post('/jobs/<jid>')
            def submit(jid):
                store.add(jid)
                return jid
        """,
        """
            # file: api.py
            from fastapi import FastAPI
            from renders import new_render
            app = FastAPI()
            @app.post("/renders")
            def start():
                return {"id": new_render()}
            # file: renders.py
            import uuid
            _jobs: dict[str, dict] = {}
            def new_render():
                rid = uuid.uuid4().hex
                _jobs[rid] = {"status": "queued", "progress": 0}
                return rid
        """,
    )

    def visit_Module(self, node: cst.Module) -> None:
        created = created_queues(self.ctx)
        for assign, name in created:
            self.report(assign, f"in-process work queue `{name}` with its consumer in this process")
        in_class = class_attributes(self.ctx)  # ``class TaskQueue: queue = []``: made right here
        for mutation in request_time_mutations(self.ctx):
            put = mutation.role == "jobs" and not mutation.started and queue_named(mutation.name)
            if put and (created or ("." in mutation.name and mutation.name not in in_class)):
                continue  # work put on a queue created (and reported) where it is made
            if mutation.role == "jobs":
                subject = (
                    f"job run inside this process, its status kept in `{mutation.name}`"
                    if mutation.started
                    else f"in-memory job store `{mutation.name}` written at request time"
                )
                self.report_request_time(mutation.node, subject, mutation.deferred)
