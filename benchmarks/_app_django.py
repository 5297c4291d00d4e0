"""Django benchmark app; ``BENCH_CONFIG``: none | signed-cookies | cache-redis | django-redis | sessionkit.

``cache-redis`` is the cache session engine on Django's built-in ``RedisCache``; ``django-redis``
the same engine on django-redis. Same endpoints as ``_app_flask``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings

CONFIG = os.environ.get("BENCH_CONFIG", "none")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
USES_SESSION = CONFIG != "none"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
options: dict[str, Any] = {}
if CONFIG == "signed-cookies":
    options["SESSION_ENGINE"] = "django.contrib.sessions.backends.signed_cookies"
elif CONFIG in ("cache-redis", "django-redis"):
    backend = ("django.core.cache.backends.redis.RedisCache" if CONFIG == "cache-redis"
               else "django_redis.cache.RedisCache")
    options["SESSION_ENGINE"] = "django.contrib.sessions.backends.cache"
    options["CACHES"] = {"default": {"BACKEND": backend, "LOCATION": REDIS_URL,
                                     "KEY_PREFIX": f"bench:{CONFIG}"}}
elif CONFIG in ("sessionkit", "sessionkit-nocache"):
    options.update(SESSION_ENGINE="sessionkit.adapters.django", SESSIONKIT_REDIS_URL=REDIS_URL,
                   SESSIONKIT_KEY_PREFIX=f"bench:{CONFIG}:", SESSIONKIT_LOCAL_CACHE=CONFIG == "sessionkit")
    SESSION_MIDDLEWARE = "sessionkit.adapters.django.middleware.SessionMiddleware"
elif CONFIG != "none":
    raise RuntimeError(f"unknown BENCH_CONFIG {CONFIG!r}")

if not settings.configured:
    settings.configure(
        DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=sys.modules[__name__],
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-secret-bench-secret-bench-secret-bench-secret"),
        INSTALLED_APPS=["django.contrib.sessions"] if USES_SESSION else [],
        MIDDLEWARE=[SESSION_MIDDLEWARE] if USES_SESSION else [],
        **options,
    )

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def untouched(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


def read(request: HttpRequest) -> HttpResponse:
    if not USES_SESSION:
        return JsonResponse({"user": "bench", "items": 3})
    return JsonResponse({"user": request.session.get("user"), "items": len(request.session.get("cart", []))})


def write(request: HttpRequest) -> HttpResponse:
    if USES_SESSION:
        request.session["counter"] = request.GET.get("value", "")
    return JsonResponse({"ok": True})


def set_key(request: HttpRequest) -> HttpResponse:
    request.session[request.GET["key"]] = request.GET.get("value", "")
    return JsonResponse({"ok": True})


def login(request: HttpRequest) -> HttpResponse:
    request.session.update({"user": "bench", "cart": ["apple", "pear", "plum"],
                            "prefs": {"theme": "dark", "lang": "en"}})
    return JsonResponse({"ok": True})


def dump(request: HttpRequest) -> HttpResponse:
    return JsonResponse(dict(request.session.items()))


urlpatterns = [path(p, f) for p, f in [("health", health), ("untouched", untouched), ("read", read),
                                        ("write", write), ("set", set_key), ("login", login), ("dump", dump)]]
app = get_wsgi_application()
