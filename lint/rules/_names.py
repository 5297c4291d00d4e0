"""The names and shapes the state rules classify mutations by: container mutator methods, the
naming patterns of connection registries, jobs and caches, and containers the application object
holds (``app["k"]``, ``app.state.k``, ``app.ctx.k``)."""

from __future__ import annotations

import re

import libcst as cst

MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "popitem",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "appendleft",
        "extendleft",
        "put",
        "put_nowait",
        "__setitem__",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "sort",
        "reverse",
    }
)
WS_NAMES = re.compile(
    r"(?i)conn|client|socket|subscriber|websocket|(^|_)ws|peer|listener|room|channel|online|(^|_)sids?($|_)"
)
#: Names that say the container holds websockets themselves (``app["ws_connections"]``,
#: ``app["websockets"]``), not data about a connection: a registry whatever is added.
SOCKETS_NAMED = re.compile(r"(?i)websockets|(^|[^a-z0-9])ws_?(conn\w*|clients?|sockets?)?s?($|[^a-z0-9])")
#: Names that say what a container groups, not what it holds (``rooms`` may hold game state): a
#: registry only when a connection is added to it.
GROUP_NAMES = re.compile(r"(?i)^(\w+\.)?(rooms?|channels?|online)(_\w*)?$")
#: Events pushed to connected clients (SSE, websockets): a registry of their streams.
PUSH_NAMES = re.compile(r"(?i)notif|broadcast|(^|[._])sse($|_)|event_stream")
FAN_OUT = re.compile(r"(?i)^(publish|broadcast|notify|emit|send_(to_)?all|fan_?out)")
#: A value that is a connection: ``ws``, ``websocket``, ``ws_current``, ``client_socket``, ``sid``.
SOCKET_VALUE = re.compile(r"(?i)(^|_)(ws|websocket|socket|sid|connection)(_|$)")
#: A value that names a connection without being one (Socket.IO's session id).
CONNECTION_ID = re.compile(r"(?i)(^|_)sids?(_|$)")
JOB_NAMES = re.compile(r"(?i)job|task|result|status|progress|queue|pending|work")
#: A container named for the jobs it holds (``jobs``, ``task_status``, ``active_runs``, ``upload_queue``):
#: an in-process job store (SK115) wherever it is written. ``results`` or ``status`` alone may be
#: anything (a user's status, quiz results) and stay module state.
JOB_STORE_NAMES = re.compile(r"(?i)job|task|queue|(^|_)runs?($|_)|running")
CACHE_NAMES = re.compile(r"(?i)cache|memo")
_LOGIN_SESSIONS = re.compile(r"(?i)^_*(admin|user|login|auth)_sessions?$")
_SESSIONS = re.compile(r"(?i)^_*sessions?$")
_SESSION_CLASS = re.compile(r"(?i)^_*(user|login|auth|admin)?_?sessions?_?(manager|store|storage|registry)?$")
#: A map of issued session ids (``sessions_ids[name] = uuid4()``): login sessions by another name.
_SESSION_IDS = re.compile(r"(?i)^_*(user_|login_|auth_)?sessions?_(ids?|tokens?)$")
_TOKENS = re.compile(r"(?i)^_*(access_|auth_|api_|session_)?tokens?$")


def session_ids_named(name: str) -> bool:
    """``sessions_ids``, ``user_session_ids``: a map of issued session ids, whoever writes it."""
    return _SESSION_IDS.search(name.partition("[")[0].rpartition(".")[2]) is not None


def session_store(name: str) -> bool:
    """A container of users' login sessions, a session store in process memory: one named for them
    (``admin_sessions``, ``user_sessions``), the application's own ``app.session(s)``, or the
    ``sessions`` of a class named for them (``Sessions.sessions``, ``SessionManager._sessions``).
    A bare ``sessions`` dict may hold anything (browser sessions of a worker, editing sessions)."""
    base = name.partition("[")[0]
    owner, _, attr = base.rpartition(".")
    if _LOGIN_SESSIONS.search(attr) or _SESSION_IDS.search(attr):
        return True
    if owner == "app" and _TOKENS.search(attr):
        return True  # ``app.token.append(token)``: the app's own list of issued login tokens
    if not _SESSIONS.search(attr):
        return False
    return owner == "app" or _SESSION_CLASS.search(owner.rpartition(".")[2]) is not None


#: Names of data about a cache, not a cache: ``memcache_stat``, ``cache_config``, ``cache_hits``.
ABOUT_CACHE = re.compile(
    r"(?i)(cache|memo)\w*_(stats?|statistics|config|conf|cfg|settings|counters?|counts?|metrics|info|hits"
    r"|misses|size|capacity)$"
)


#: A container named for a hand-made rate limit: ``cooldowns``, ``rate_limits``, ``login_attempts``,
#: ``request_counts``, ``last_request`` (a per-client timestamp or counter checked on every call).
RATE_WORDS = (
    r"(?i:cool_?downs?|rate_?limit|throttl|(login|failed|auth)_?attempts|request_?(counts?|times|log)"
    r"|last_?requests?\b|hits_?per)"
)
RATE_NAMES = re.compile(RATE_WORDS)


def rate_named(name: str) -> bool:
    """``app.cooldowns``, ``RATE_LIMITS``, ``rate_limiter.request_counts``: a hand-made rate limit."""
    return RATE_NAMES.search(name) is not None


def cache_named(name: str) -> bool:
    """``CACHE``, ``_memo``, ``user_cache``; not ``memcache_stat`` (counters about a cache)."""
    return CACHE_NAMES.search(name) is not None and ABOUT_CACHE.search(name) is None


#: Containers the application object holds: ``app["k"]`` (aiohttp), ``app.state.k``
#: (Starlette/FastAPI/Litestar), ``app.ctx.k`` (Sanic), also through ``request.app``.
APP_HELD = re.compile(
    r"\b(?:current_)?app(\[|\.(state|ctx)\.|[\"']\]\.state\.|\.\w+((\[[^\]\n]*\])+\s*[-+*|]?=(?!=)|\[\s*$|\.(append|add|pop|update|setdefault|remove"
    r"|discard|extend|insert|clear|put|put_nowait|popitem|appendleft)\())"
)
#: Names of the application object (``current_app``: Flask's and Quart's proxy to it).
APP_OWNERS = frozenset({"app", "application", "current_app"})
#: Attributes of the application object that are the framework's own (configuration, routing,
#: hooks), set up at startup; any other attribute holding a container is state the app keeps
#: (``app.games = {}``, then ``request.app.games[gid] = game``).
APP_OWN_ATTRIBUTES = frozenset(
    {
        "config",
        "extensions",
        "state",
        "ctx",
        "router",
        "routes",
        "url_map",
        "middleware",
        "middlewares",
        "user_middleware",
        "middleware_stack",
        "on_startup",
        "on_shutdown",
        "on_cleanup",
        "on_response_prepare",
        "cleanup_ctx",
        "dependency_overrides",
        "blueprints",
        "jinja_env",
        "jinja_loader",
        "view_functions",
        "error_handler_spec",
        "exception_handlers",
        "before_request_funcs",
        "after_request_funcs",
        "teardown_request_funcs",
        "template_context_processors",
        "url_default_functions",
        "url_value_preprocessors",
        "openapi_schema",
        "openapi_tags",
        "extra",
        "logger",
        "listeners",
        "signal_handlers",
        "plugins",
        "registry",
    }
)


def app_object(node: cst.BaseExpression) -> bool:
    """``app``, ``request.app``, ``self.request.app``, or the ASGI scope's ``scope["app"]``."""
    if isinstance(node, cst.Name):
        return node.value in APP_OWNERS
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        owner = node.value
        return (
            isinstance(index, cst.Index)
            and isinstance(index.value, cst.SimpleString)
            and index.value.value[1:-1] == "app"
            and (
                (isinstance(owner, cst.Name) and owner.value == "scope")
                or (isinstance(owner, cst.Attribute) and owner.attr.value == "scope")
            )
        )
    return isinstance(node, cst.Attribute) and node.attr.value == "app"


def app_held(node: cst.BaseExpression) -> str | None:
    """``app["sockets"]`` -> ``app["sockets"]``; ``request.app.state.rooms`` -> ``app.state.rooms``;
    ``request.app.games`` -> ``app.games`` (an attribute that is not the framework's own)."""
    if isinstance(node, cst.Subscript) and app_object(node.value) and len(node.slice) == 1:
        index = node.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString | cst.Name):
            key = index.value.value  # a string, or an aiohttp ``AppKey`` constant
            return f"app[{key}]"
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Attribute):
        holder = node.value
        if holder.attr.value in {"state", "ctx"} and app_object(holder.value):
            return f"app.{holder.attr.value}.{node.attr.value}"
    if (
        isinstance(node, cst.Attribute)
        and app_object(node.value)
        and node.attr.value not in APP_OWN_ATTRIBUTES
        and not node.attr.value.startswith("__")
    ):
        return f"app.{node.attr.value}"  # ``request.app.games``: a container kept on the app itself
    return None


#: Calls that run work inside this process after (or beside) the response.
JOB_STARTERS = frozenset({"add_task", "start_background_task", "create_task", "ensure_future", "submit"})


def puts_message(node: cst.CSTNode) -> bool:
    """``q.put(msg)``: a message handed to a subscriber's queue."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in {"put", "put_nowait"}
    )


def starts_job(node: cst.CSTNode) -> bool:
    """``add_task(...)``, ``create_task(...)``, ``Thread(target=...)``: work run in this process."""
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    return name in JOB_STARTERS or (
        name in {"Thread", "Process"}
        and any(a.keyword is not None and a.keyword.value == "target" for a in node.args)
    )
