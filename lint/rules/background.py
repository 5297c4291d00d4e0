"""Categories 13–15: schedulers, background threads and job queues inside the web process."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import Rule
from sessionkit.lint.rules._state import module_containers, request_time_mutations
from sessionkit.lint.rules._util import keyword, walk
from sessionkit.lint.rules.module_state import CONTAINER_PREFILTER

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
TIMER = frozenset({"threading.Timer"})
THREAD = frozenset({"threading.Thread"})
WORKER_ENTRYPOINTS = frozenset({"main", "handle", "run_worker", "worker", "run_scheduler"})


def _under_main_guard(rule: Rule, node: cst.CSTNode) -> bool:
    for parent in rule.ctx.ancestors(node):
        if isinstance(parent, cst.If) and "__main__" in rule.ctx.module.code_for_node(parent.test):
            return True
    return False


class InProcessScheduler(Rule):
    """APScheduler, Flask-APScheduler, ``schedule`` or an import-time ``threading.Timer`` in the app.

    Every replica (and every worker process) runs its own scheduler, so each job runs N times.
    """

    code = "SK113"
    name = "in-process-scheduler"
    category = "scheduler"
    severity = "error"
    remedy = "refactor"
    prefilter = (r"Scheduler|schedule|Timer|Rocketry|repeat_every",)
    message = (
        "each replica starts its own scheduler, so every job runs once per replica (duplicate "
        "e-mails, double charges) and jobs stop when that pod dies; run one scheduler process "
        "(a separate deployment with one replica, Celery beat, a Kubernetes CronJob)"
    )
    fix_hint = "Move scheduled jobs to a single dedicated scheduler process or a CronJob."
    valid = (
        "from apscheduler.schedulers.blocking import BlockingScheduler\nsched = BlockingScheduler()\n",
        "from apscheduler.schedulers.background import BackgroundScheduler\nif __name__ == '__main__':\n    BackgroundScheduler().start()\n",
        "from apscheduler.schedulers.background import BackgroundScheduler\ndef main():\n    s = BackgroundScheduler()\n    s.start()\n",
        "import threading\ndef later(fn):\n    threading.Timer(5, fn).start()\n",
        "class BackgroundScheduler:\n    pass\ns = BackgroundScheduler()\n",
    )
    invalid = (
        "from apscheduler.schedulers.background import BackgroundScheduler\nscheduler = BackgroundScheduler()\nscheduler.add_job(cleanup, 'interval', minutes=5)\nscheduler.start()\n",
        "from flask_apscheduler import APScheduler\nscheduler = APScheduler()\nscheduler.init_app(app)\nscheduler.start()\n",
        "import schedule\nschedule.every(10).minutes.do(job)\n",
        "import threading\nthreading.Timer(60, refresh).start()\n",
        "from apscheduler.schedulers.asyncio import AsyncIOScheduler\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.on_event('startup')\nasync def boot():\n    AsyncIOScheduler().start()\n",
        "from fastapi_utils.tasks import repeat_every\n@app.on_event('startup')\n@repeat_every(seconds=60)\ndef purge():\n    pass\n",
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.calls(node, SCHEDULERS):
            self._maybe(node, f"`{self.ctx.module.code_for_node(node.func)}()` scheduler")
        elif self.ctx.calls(node, TIMER) and self.ctx.is_import_time(node):
            self._maybe(node, "`threading.Timer` started at import")

    def _maybe(self, node: cst.Call, subject: str) -> None:
        if _under_main_guard(self, node):
            return
        if any(fn.name.value in WORKER_ENTRYPOINTS for fn in self.ctx.enclosing_functions(node)):
            return
        self.report(node, subject, guard=self.ctx.guard(node))


class BackgroundThreadState(Rule):
    """A thread started at import or startup that writes module state which handlers read."""

    code = "SK114"
    name = "background-thread-state"
    category = "background-thread"
    severity = "warning"
    remedy = "refactor"
    prefilter = (r"Thread\(",)
    message = (
        "the thread runs in every replica and updates only its own process's copy of the state, "
        "so replicas answer from different data (and work is duplicated); have one worker write "
        "the data to Redis or the database and let handlers read it from there"
    )
    fix_hint = "Run the loop in a single worker and share its output through Redis/the database."
    valid = (
        "import threading\ndef work():\n    print('x')\nthreading.Thread(target=work, daemon=True).start()\n",
        "import threading\nstate = {}\ndef poll():\n    state['x'] = 1\ndef view(request):\n    threading.Thread(target=poll).start()\n",
        "import threading\nstate = {}\ndef poll():\n    state['x'] = 1\nthreading.Thread(target=poll).start()\n",
        "import threading\nif __name__ == '__main__':\n    threading.Thread(target=run).start()\n",
        "from threading import Thread\nclass Thread2:\n    pass\nThread2()\n",
    )
    invalid = (
        "import threading\nfrom flask import Flask\napp = Flask(__name__)\nrates = {}\ndef refresh():\n    while True:\n        rates.update(fetch())\nthreading.Thread(target=refresh, daemon=True).start()\n@app.get('/rates')\ndef get_rates():\n    return rates\n",
        "import threading\nLATEST = None\ndef poll():\n    global LATEST\n    LATEST = fetch()\nthreading.Thread(target=poll).start()\ndef view(request):\n    return LATEST\n",
        "from threading import Thread\nfrom fastapi import FastAPI\napp = FastAPI()\nprices = {}\ndef loop():\n    prices['btc'] = 1\n@app.on_event('startup')\ndef boot():\n    Thread(target=loop, daemon=True).start()\n@app.get('/p')\ndef p():\n    return prices['btc']\n",
        "import threading\nstatus = []\ndef watch():\n    status.append(check())\nt = threading.Thread(target=watch)\nt.start()\nasync def health(request):\n    return status[-1]\n",
        "import threading\nfrom flask import Flask\ncache = {}\ndef warm():\n    cache['k'] = load()\ndef create_app():\n    app = Flask(__name__)\n    threading.Thread(target=warm).start()\n    @app.get('/k')\n    def k():\n        return cache['k']\n    return app\n",
    )

    def visit_Call(self, node: cst.Call) -> None:
        target = keyword(node, "target")
        if target is None or not isinstance(target.value, cst.Name):
            return
        if not self.ctx.calls(node, THREAD) or _under_main_guard(self, node):
            return
        if self.ctx.is_request_time(node):
            return
        fn = next((f for f in self.ctx.functions.functions if f.name.value == target.value.value), None)
        if fn is None:
            return
        written = self._written_state(fn)
        read = sorted(name for name in written if self._read_by_handler(name))
        if read:
            listed = ", ".join(f"`{n}`" for n in read)
            self.report(node, f"thread `{fn.name.value}` writes {listed} that handlers read")

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
        for node in walk(self.ctx.module):
            if isinstance(node, cst.Name) and node.value == name and self.ctx.is_request_time(node):
                return self.ctx.module_binding(node) == name
        return False


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
    valid = (
        "import queue\njobs = queue.Queue()\ndef worker():\n    while True:\n        jobs.get()\n",
        "from flask import Flask\napp = Flask(__name__)\n@app.post('/jobs')\ndef submit():\n    job = queue_job.delay()\n    return job.id\n",
        "from fastapi import FastAPI, BackgroundTasks\napp = FastAPI()\n@app.post('/send')\nasync def send(tasks: BackgroundTasks):\n    tasks.add_task(notify)\n",
        "TASKS = {}\nTASKS['boot'] = 'done'\n",
        "from flask import Flask\napp = Flask(__name__)\nTASKS = {}\n@app.get('/tasks/<tid>')\ndef status(tid):\n    return TASKS.get(tid, 'unknown')\n",
    )
    invalid = (
        "import uuid, threading\nfrom flask import Flask\napp = Flask(__name__)\njobs = {}\n@app.post('/export')\ndef export():\n    jid = str(uuid.uuid4())\n    jobs[jid] = {'status': 'running'}\n    threading.Thread(target=run, args=(jid,)).start()\n    return jid\n",
        "import queue\nfrom flask import Flask, request\napp = Flask(__name__)\nwork = queue.Queue()\n@app.post('/enqueue')\ndef enqueue():\n    work.put(request.json)\n    return ''\n",
        "import asyncio\nfrom fastapi import FastAPI\napp = FastAPI()\npending = asyncio.Queue()\n@app.post('/q')\nasync def q(item: dict):\n    await pending.put(item)\n",
        "from collections import deque\nfrom django.http import JsonResponse\nresults = deque(maxlen=100)\ndef run_report(request):\n    results.append(make_report())\n    return JsonResponse({})\n",
        "from fastapi import FastAPI, BackgroundTasks\napp = FastAPI()\ntask_status: dict[str, str] = {}\ndef work(tid):\n    task_status[tid] = 'done'\n@app.post('/t')\nasync def start(tasks: BackgroundTasks):\n    task_status['1'] = 'queued'\n    tasks.add_task(work, '1')\n",
        "from flask import Flask\napp = Flask(__name__)\nclass JobStore:\n    jobs = {}\n    def add(self, jid):\n        self.jobs[jid] = 'queued'\nstore = JobStore()\n@app.post('/jobs/<jid>')\ndef submit(jid):\n    store.add(jid)\n    return jid\n",
    )

    def visit_Module(self, node: cst.Module) -> None:
        for mutation in request_time_mutations(self.ctx):
            if mutation.role == "jobs":
                self.report(mutation.node, f"in-memory job store `{mutation.name}` written at request time")
