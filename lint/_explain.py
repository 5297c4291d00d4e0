"""Rule reference text, generated from the rule classes (``--explain``, docs/rules.md)."""

from __future__ import annotations

from sessionkit.lint._diagnostics import ALL_DIAGNOSTICS
from sessionkit.lint._rule import Rule
from sessionkit.lint.rules import ALL_RULES, RULES_BY_CODE

ANCHORING = """
## Where a finding points, and what is not reported

A finding points at the line a person would change:

- **configuration**: the value that is set — the string `"sqlite:///app.db"`, the `CACHE_TYPE` value,
  the `MEDIA_ROOT`/`UPLOAD_FOLDER` assignment (each model field's `upload_to=` when the project sets no
  `MEDIA_ROOT` at all), the `"class": "...FileHandler"` entry of a logging dict —
  wherever it is set: module or class constants, `app.config[...]`, `from_mapping(...)`/`update(...)`,
  dict literals and `dict(...)`, the default of `os.environ.get(...)`, either side of `or` and of
  `... if DEBUG else ...`, and Python config files loaded with `from_pyfile` (`*.cfg`, Jinja-templated
  `*.cfg.template` included). A value read back from configuration (`sqlite3.connect(app.config["DATABASE"])`)
  is not reported again where it is used; the other way round, a path constant of a module that opens the
  database itself (`db_path = ...` then `create_engine(f"sqlite:///{db_path}")`) is reported once, at the
  opening. A secret generated at start-up is reported where it is generated (`_key = os.urandom(24)`),
  however many places use it; a random fallback (SK201) where the fallback is taken. Django's `CACHES`
  set only behind an environment switch that is off by default (`if CACHES_ENABLED:`) is reported at
  that `CACHES`, guarded: by default the project runs on the per-process LocMemCache.
- **schedulers**: the call that starts them (`scheduler.start()`), also when that call is in another
  module that imports the scheduler (a lifespan in `app.py` starting `scheduler` from `scheduler.py`);
  the constructor when nothing starts it by name. A periodic loop is reported where a startup hook or
  lifespan starts it (`asyncio.create_task(update_loop())`, the loop in this module or imported from one
  whose name says it repeats: `*loop*`, `poll`, `refresh`, `watch`...), not at tasks the loop starts.
- **state**: the mutation (`CARTS[user] = ...`, `.append(...)`, `ROOMS[r]["votes"].append(v)`, an element
  of the container reached through `for room in ROOMS:` or held in a local name, `room = ROOMS.get(code)`
  then `room.players.append(p)` or `room.started = True`, also through a chain `player =
  room.players.get(uid)`), once per statement: each site that changes the state is a line to change
  (removals included). A class-level container changed through its class (`Reply.OK.update(...)`, also
  from another module that imports the class) is module state too. A container filled when a key is
  missing with data fetched elsewhere (`if uid not in self.roles: self.roles[uid] = await
  db.find_one(...)`) is a memo (SK208), whatever it is named, each fill site reported. A container named
  for what it groups (`rooms`, `channels`) is a connection registry only where a connection joins it
  (`rooms[r].add(ws)`), and a change of an element's attribute (`rooms[].players`) only when the value is
  a connection; for `global`, the first assignment to the
  global after the `global` statement. A connection registry (websockets, SSE streams), also one kept
  by a registry class (`self.connections = set()` in `__init__` of `manager = ConnectionManager()`), is
  reported at every statement that changes it, where connections join it and where they leave
  (`remove`, `discard`, `pop`, `del`): each is a line that moves to pub/sub; a container keyed by the
  connection
  (`last_seen[ws] = now`) is part of the registry, and so is an application-object registry
  (`request.app["peers"][name] = ws`), also through Flask's and Quart's `current_app`
  (`current_app.games[gid] = game`; not a method of an extension object it holds,
  `current_app.cache.update(...)`). Handing a message to each subscriber's queue
  (`for q in listeners: q.put(msg)`) does not change the registry.
- **libraries with their own in-process state**: the store, backend or URL that is set
  (`stores={"sessions": FileStore(...)}`, `MemoryChannelsBackend()`, the `"memory://"` default of
  `Broadcast(...)`'s URL), or the config that names a local store (`ServerSideSessionConfig(store="file")`).
- **threads, loops and jobs**: the call that starts them (`Thread(...)`, `Timer(...)`,
  `asyncio.create_task(...)`, `sio.start_background_task(...)`, `background_tasks.add_task(...)`); a
  container named for its jobs (`JOBS[jid] = {"status": ...}`, `task_status`, `active_runs`) is an
  in-process job store (SK115) at every statement that writes it, and a handler that also starts the
  job in-process gets SK115 at the start too; a container with another job-ish name (`results`,
  `status`) is module state (SK105). An in-process work queue
  (`queue.Queue()`, `asyncio.Queue()`, a project `*Queue()` class at module level) assigned at module
  level, in `__init__` or on the application object (`app.ctx.jobs = asyncio.Queue()`) in a module that
  also starts its consumer (a thread or task) is reported at that assignment; putting work on it is the
  same hazard, not another site.

Request time: a function runs per request when this module decorates or registers it as a handler (or a
class-based view method, a raw ASGI/WSGI callable), when such a function calls it in the same module, or
when a module of the project that handles requests calls it inside a function body, directly or through
the project's own functions that call it in turn (the cross-file call graph, read lexically from imports,
any number of hops; those findings are one severity lower and name the handler module). A method of a
class counts when some module keeps an instance of the class (`broker = Broker()` at module level,
`app.events = EventManager()`) and a request-handling module calls `.method(`. So does a method of a class
whose objects a lasting container keeps (`games[gid] = Game()` in a module-level dict, `self.games[gid] =
Game()` in a manager that is itself kept, `Server.players.append(Player())` in a class attribute), at
every statement where the method changes its own object (`self.turn += 1`, `self.players.append(p)`),
through any number of keepers; objects made on a cache miss (`if key not in _objs: _objs[key] = Obj()`)
are an instance cache and do not count. A handler changing a name
it imports from a project module that binds it to a list/dict/set (`from fruit_db import fruits`) is
reported at the handler's change. Code under `if __name__ == "__main__":` is a script, unless that block
also starts the web server (`app.run()`, `uvicorn.run(...)`). A background loop a handler starts once per
process (`if thread is None: thread = sio.start_background_task(loop)` with `thread` a `global`) is
started by the first request of every replica and is reported.

Which settings count (the settings policy): a finding is for what production runs, so CI fails on what
would break a deployment of several replicas and on nothing else.

- *Not reported* — code that only tests or development run: settings modules for tests
  (`settings/test.py`, `configs/testing.py`, `test_settings.py`, `config_testing.py`, `conftest.py`) and
  config classes named like `TestingConfig`; development settings modules (`settings/dev.py`,
  `config/settings/local.py`, `settings/devel.py`, `dev_settings.py`, `settings_local.py`,
  `devproject/settings.py`; a `local.py` or `dev.py` outside a settings or config folder is not one:
  `storage/local.py` is code production runs) and config classes named like
  `DevelopmentConfig`/`LocalConfig`/`DebugConfig`; a value in a base config class that the production
  class (`ProductionConfig`, directly or through a class between them) sets again; the body of a
  debug-only branch (`if DEBUG:`,
  `if settings.DEBUG:`, `if app.debug:`, `if ENV == "development":`); and the body of a branch that only an
  environment switch turns on when the switch is off while the variable is unset
  (`if os.getenv("USE_SQLITE", "False") == "True":`, `flag = config("LOCAL_DB", default=False, cast=bool)`
  then `if flag:`). A project with a single settings module has no development settings: that module is
  production, `DEBUG = True` or not.
- *Reported one severity lower, marked guarded* — values production runs whenever a variable is unset: the
  default of `os.environ.get(...)`, the right side of `os.getenv(...) or ...`, the body of
  `if not os.environ.get("DATABASE_URL"):`, and other branches on the environment whose default cannot be
  read from the code.
Shared storage configured anywhere in the project (`STORAGES`, `DEFAULT_FILE_STORAGE`, also assigned
conditionally, or a module using boto3/MinIO/GCS/Azure Blob) silences `MEDIA_ROOT`/`UPLOAD_FOLDER` findings
(and other upload/storage folder settings: `UPLOADS_DEFAULT_DEST`, `FHOST_STORAGE_PATH`,
`STORAGE_FILESYSTEM_DIRECTORY`, in `app.config.update(...)` too), and so does a project that stores no
uploads (no `FileField`/`ImageField`/`upload_to`, no `default_storage.save(...)`, no module that names the
upload folder and writes, saves, copies or moves a file) — for `MEDIA_ROOT` only when the project's
models are in view (some module defines a `Model` class); otherwise `MEDIA_ROOT` is reported. Writes
through Django's default cache (`cache.set(...)`, `@cache_page(...)`) in a project with no `CACHES` are
reported at each write. A hand-made rate limit, a container named for it (`cooldowns`, `rate_limits`,
`login_attempts`, `request_counts`, `last_request`) that request handlers change, also on the application
object (`app.cooldowns[action][uid] = until`), is SK109 at each change. A rate limiter made without the
app (`limiter = Limiter(key_func=...)`) is reported only if some module attaches it
(`limiter.init_app(app)`, `app.state.limiter = limiter`) or, for slowapi, decorates a route with it. A
registry class that also talks to Redis/pub-sub/a message broker (its source names `redis`, `pubsub`,
Kafka, RabbitMQ/AMQP or NATS) only keeps local subscribers of a shared bus and is not reported.
Files: `open(path, "w")` and `path.open("w")`, `write_text`/`write_bytes`, `.save(path)`, `to_csv(...)`,
copies, moves and renames (`shutil.move`, `os.rename`, `folder.rename(...)`) and saves through Django's
`FileSystemStorage()` are writes. A removal (`os.remove`, `path.unlink()`, `shutil.rmtree`) is reported
where a function deletes a stored file and writes none: beside a write it undoes or replaces it (the
write is the finding), after reading the file back it drops a scratch file served in the same request
(`FileResponse(open(path, "rb"))` then `os.remove(path)`), and on a temporary or cache path it is
cleanup; new folders are not reported. Copies and moves are judged by their destination
(`shutil.move(temporary.name, upload_path)` is an upload); `with open(path, "w"): pass` only creates an
empty file and is not a write. Test configuration is a settings module for tests or a class named like
`TestingConfig`/`TestSettings`/`...TestCase` (not any class whose name contains "Test").
"""


def render_rule(rule: type[Rule]) -> str:
    parts = [
        f"## {rule.code} `{rule.name}`",
        "",
        f"- category: `{rule.category}`",
        f"- severity: `{rule.severity}`",
        f"- remedy: `{rule.remedy}`",
        f"- autofix: {'yes (`--fix`/`--diff`)' if rule.fixable else 'no'}",
        "",
        rule.description(),
        "",
        f"**Why it breaks and what to do:** {rule.message}.",
        "",
        f"**Fix:** {rule.fix_hint}",
        "",
        "### Flagged",
    ]
    for example in rule.invalid:
        parts += ["", "```python", example.rstrip("\n"), "```"]
    parts += ["", "### Not flagged"]
    for example in rule.valid:
        parts += ["", "```python", example.rstrip("\n"), "```"]
    return "\n".join(parts) + "\n"


def render_all() -> str:
    head = [
        "# sessionkit lint — rule reference",
        "",
        "Generated from the rule classes by `sessionkit lint --explain all`; do not edit by hand.",
        "Codes read `SK<variant><category>`: the last two digits are the category number of issue 5",
        "(01 secret keys … 17 thread-locals), the first digit numbers rules within a category.",
        "",
        "| code | name | category | severity | remedy |",
        "|---|---|---|---|---|",
    ]
    for rule in ALL_RULES:
        head.append(f"| {rule.code} | `{rule.name}` | {rule.category} | {rule.severity} | {rule.remedy} |")
    head += [
        "",
        "Input diagnostics (never a crash; the run goes on):",
        "",
        "| code | name | severity | meaning |",
        "|---|---|---|---|",
    ]
    for d in ALL_DIAGNOSTICS:
        head.append(f"| {d.code} | `{d.name}` | {d.severity} | {d.message} |")
    head += ["", ANCHORING.strip()]
    body = [render_rule(rule) for rule in ALL_RULES]
    return "\n".join(head) + "\n\n" + "\n".join(body)


def explain(code: str) -> str | None:
    if code.lower() == "all":
        return render_all()
    rule = RULES_BY_CODE.get(code.upper())
    if rule is not None:
        return render_rule(rule)
    for d in ALL_DIAGNOSTICS:
        if d.code == code.upper():
            head = f"## {d.code} `{d.name}`\n\n- severity: `{d.severity}`\n\n"
            return f"{head}{d.message}.\n\n**Fix:** {d.fix_hint}\n"
    return None


def name_of(code: str) -> str:
    """The kebab-case name of a rule or diagnostic code (``""`` when unknown)."""
    rule = RULES_BY_CODE.get(code)
    if rule is not None:
        return rule.name
    return next((d.name for d in ALL_DIAGNOSTICS if d.code == code), "")
