"""The request-handling vocabulary, as data: how frameworks spell routes, handlers, views,
registrations and startup hooks.

:mod:`sessionkit.lint._handlers` classifies functions with these words, and the lexical
prefilters that decide which files are parsed at all are generated from the same words
(:data:`HANDLER_PATTERN`, :data:`VIEW_CLASS_PATTERN`), so a word added here can never be missing
from a prefilter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ROUTE_ATTRS = frozenset(
    {
        "route",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "trace",
        "api_route",
        "websocket",
        "websocket_route",
        "on",
        "event",
        "before_request",
        "after_request",
        "teardown_request",
        "context_processor",
        "endpoint",
        "middleware",
        "exception_handler",
        "errorhandler",
        "view",
    }
)
WEBSOCKET_ATTRS = frozenset({"websocket", "websocket_route", "on", "event", "ws"})
STARTUP_ATTRS = frozenset(
    {
        "before_serving",
        "before_first_request",
        "on_startup",
        "after_serving",
        "on_shutdown",
        "listener",
        "before_server_start",
        "after_server_start",
        "cli",
        "command",
        "shell_context_processor",
    }
)
STARTUP_EVENTS = frozenset({"startup", "shutdown"})
STARTUP_NAMES = frozenset(
    {
        "create_app",
        "make_app",
        "init_app",
        "setup_app",
        "configure_app",
        "app_factory",
        "main",
        "lifespan",
        "startup",
        "on_startup",
        "ready",
        "setup",
        "configure",
        "register_extensions",
        "register_blueprints",
        "handle",
        "add_arguments",
        "get_application",
    }
)
#: Function names starting like this set the app up (``register_tasks``, ``init_db``...).
STARTUP_PREFIXES = ("register_", "init_", "setup_", "configure_", "create_app", "install_", "load_")
REQUEST_PARAM_NAMES = frozenset({"request", "req", "websocket", "ws"})
REQUEST_ANNOTATIONS = frozenset(
    {
        "Request",
        "HttpRequest",
        "WebSocket",
        "HTTPConnection",
        "ASGIRequest",
        "WSGIRequest",
        "Websocket",
        # an uploaded file exists only while its request is handled (FastAPI/Starlette/Litestar
        # ``UploadFile``, Werkzeug ``FileStorage``, Django ``UploadedFile``)
        "UploadFile",
        "FileStorage",
        "UploadedFile",
    }
)
VIEW_METHODS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "dispatch",
        "get_context_data",
        "get_queryset",
        "get_object",
        "form_valid",
        "form_invalid",
        "perform_create",
        "perform_update",
        "perform_destroy",
        "list",
        "create",
        "retrieve",
        "update",
        "partial_update",
        "destroy",
        "on_get",
        "on_post",
        "on_put",
        "on_delete",
        "connect",
        "disconnect",
        "receive",
        "receive_json",
        "websocket_connect",
        "websocket_receive",
        "websocket_disconnect",
        "on_connect",
        "on_receive",
        "on_disconnect",
        "handle_request",
        "get_response",
        "__call__",
        "process_request",
        "process_response",
        "process_view",
    }
)
VIEW_BASE_SUFFIXES = (
    "View",
    "ViewSet",
    "APIView",
    "Resource",
    "Endpoint",
    "Controller",
    "Handler",
    "Consumer",
    "Middleware",
    "Namespace",
)
REGISTRATION_FUNCS = frozenset(
    {
        "Route",
        "WebSocketRoute",
        "path",
        "re_path",
        "url",
        "add_url_rule",
        "add_api_route",
        "add_route",
        "add_websocket_route",
        "add_api_websocket_route",
        "route",
        "register_view",
        # aiohttp's router: ``app.router.add_get("/", handler)``.
        "add_get",
        "add_post",
        "add_put",
        "add_patch",
        "add_delete",
        "add_head",
        "add_view",
    }
)
#: aiohttp's route definitions, called on the ``web`` module: ``web.get("/", handler)``.
AIOHTTP_ROUTE_DEFS = frozenset({"get", "post", "put", "patch", "delete", "head", "view", "route"})
#: aiohttp's signal lists of the application: ``app.on_startup.append(hook)`` runs ``hook`` once per
#: process, at startup or shutdown, never per request.
AIOHTTP_SIGNALS = frozenset({"on_startup", "on_shutdown", "on_cleanup", "cleanup_ctx"})
LITESTAR_HANDLERS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "route", "websocket", "websocket_listener"}
)
REQUEST_DECORATOR_QNAMES = frozenset(
    {
        "django.contrib.auth.decorators.login_required",
        "django.contrib.auth.decorators.permission_required",
        "django.views.decorators.http.require_http_methods",
        "django.views.decorators.http.require_GET",
        "django.views.decorators.http.require_POST",
        "django.views.decorators.http.require_safe",
        "django.views.decorators.csrf.csrf_exempt",
        "rest_framework.decorators.api_view",
        "rest_framework.decorators.action",
        "flask_login.login_required",
        "flask_login.utils.login_required",
        "flask_socketio.SocketIO.on",
    }
)


#: Registration functions called by their bare name (Django's URL patterns).
BARE_REGISTRATION_FUNCS = frozenset({"path", "re_path", "url"})
#: Parameter lists of raw ASGI and WSGI applications and middleware.
RAW_APP_SIGNATURES = frozenset({("scope", "receive", "send"), ("environ", "start_response")})
#: Keyword arguments of registration calls that name the view function.
REGISTRATION_KWARGS = frozenset({"view_func", "endpoint", "view"})
#: Class names that make a class a class-based view, besides the suffixes.
VIEW_BASE_NAMES = frozenset({"View", "MethodView", "HTTPEndpoint"})


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so a word is never shadowed by its own prefix.
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


def _minimal(words: Iterable[str]) -> set[str]:
    """Drop words that contain another word: as substrings they can never add a match."""
    unique = set(words)
    return {w for w in unique if not any(o != w and o in w for o in unique)}


def is_view_base(name: str) -> bool:
    """``name`` (the last part of a base class) makes a class-based view."""
    return name in VIEW_BASE_NAMES or name.endswith(VIEW_BASE_SUFFIXES)


def _handler_pattern() -> str:
    names = {n.lower() for n in REQUEST_PARAM_NAMES | REQUEST_ANNOTATIONS}
    names |= {sig[1] for sig in RAW_APP_SIGNATURES}  # "receive", "start_response"
    long_names = _minimal(n for n in names if len(n) >= 5)
    short_names = {n for n in names if len(n) < 5 and not any(o in n for o in long_names)}
    decorators = (
        ROUTE_ATTRS
        | WEBSOCKET_ATTRS
        | LITESTAR_HANDLERS
        | {q.rsplit(".", 1)[-1] for q in REQUEST_DECORATOR_QNAMES}
    )
    parts = [
        rf"(?i:{_alternation(long_names)})",
        rf"\b(?:{_alternation(short_names)})\b",
        rf"\b(?:{_alternation(REGISTRATION_FUNCS)})\(",
        rf"\b(?:{_alternation(REGISTRATION_KWARGS)})\s*=",
        _alternation(_minimal(VIEW_BASE_SUFFIXES + tuple(VIEW_BASE_NAMES))),
        rf"@\s*(?:\w+\.)*(?:{_alternation(decorators)})\b",
    ]
    return "|".join(parts)


def _serves_pattern() -> str:
    """Where the words occur, not only that they do: a route decorator, a function whose first
    parameter is the request (or that takes a ``Request``-annotated one, or is a raw ASGI/WSGI
    app), a registration call, or a class-based view (multi-line mode)."""
    decorators = (
        ROUTE_ATTRS
        | WEBSOCKET_ATTRS
        | LITESTAR_HANDLERS
        | {q.rsplit(".", 1)[-1] for q in REQUEST_DECORATOR_QNAMES}
    )
    signatures = "|".join(r"\s*,\s*".join(sig) for sig in RAW_APP_SIGNATURES)
    define = r"^[ \t]*(?:async[ \t]+)?def[ \t]+\w+[ \t]*\(\s*(?:(?:self|cls)\s*,\s*)?"
    parts = [
        rf"^[ \t]*@[ \t]*(?:\w+\.)*(?:{_alternation(decorators)})\b",
        rf"{define}(?:(?:{_alternation(REQUEST_PARAM_NAMES)})\b|(?:{signatures})\b)",
        rf"{define}[^)]*:\s*(?:[\w.]+\.)?(?:{_alternation(REQUEST_ANNOTATIONS)})\b",
        # Django's ``path(...)``/``url(...)`` are called bare; a ``def url(self)`` or a client's
        # ``self.url(...)`` registers nothing.
        rf"(?<!def )(?<![\w.])(?:{_alternation(BARE_REGISTRATION_FUNCS)})\(",
        rf"(?<!def )\b(?:{_alternation(REGISTRATION_FUNCS - BARE_REGISTRATION_FUNCS)})\(",
        rf"\b(?:{_alternation(REGISTRATION_KWARGS)})\s*=",
        VIEW_CLASS_PATTERN,
    ]
    return "(?m)" + "|".join(parts)


#: Occurs in every file in which :mod:`._handlers` can find a request handler.
HANDLER_PATTERN = _handler_pattern()
#: A class statement with a class-based-view base (use it in multi-line mode).
VIEW_CLASS_PATTERN = (
    rf"^class\s+\w+\([^)]*(?:{_alternation(_minimal(VIEW_BASE_SUFFIXES + tuple(VIEW_BASE_NAMES)))})"
)
#: The request-handling vocabulary where it makes a module serve requests (see
#: :func:`_serves_pattern`); stricter than :data:`HANDLER_PATTERN`, which only has to be a
#: superset (a word in a docstring or an HTTP client's ``conn.request(...)`` matches it too).
SERVES_PATTERN = _serves_pattern()

#: Settings that name where uploaded or stored files go: ``MEDIA_ROOT``, ``UPLOAD_FOLDER``,
#: ``UPLOADS_DEFAULT_DEST``, ``FHOST_STORAGE_PATH``, ``STORAGE_FILESYSTEM_DIRECTORY``.
UPLOAD_SETTING = (
    r"MEDIA_ROOT|UPLOAD(S|ED)?_(\w+_)?(FOLDER|DIR|DIRECTORY|PATH|ROOT|DEST)"
    r"|STORAGE_(\w+_)?(FOLDER|DIR|DIRECTORY|PATH|ROOT)\b"
)
