"""A Django shop as it is often written: fine on one process, broken on several replicas.

Run:  gunicorn examples.django.before.app:app --workers 3   (from the repository root)

What breaks behind a round-robin load balancer (the sessionkit linter finds each of these):
- a per-process random SECRET_KEY: every replica signs differently (messages, tokens, ...);
- sessions in the process-local cache (LocMemCache): another replica does not know the session,
  so the user looks logged out (``manage.py check`` with sessionkit installed reports it);
- carts and flash messages in module-level dicts: each replica has its own copy.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.utils import get_random_secret_key

SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": get_random_secret_key(),  # differs per process
    "ALLOWED_HOSTS": ["*"],
    "INSTALLED_APPS": ["django.contrib.sessions"],
    "MIDDLEWARE": ["django.contrib.sessions.middleware.SessionMiddleware"],
    "SESSION_ENGINE": "django.contrib.sessions.backends.cache",
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},  # per process
    "ROOT_URLCONF": sys.modules[__name__],
}
if not settings.configured:
    settings.configure(**SETTINGS)

import django  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402

CARTS: dict[str, list[str]] = {}  # user -> items, in this process only
FLASHES: dict[str, list[str]] = {}  # user -> pending messages, in this process only


def field(request: HttpRequest, name: str) -> str:
    """A field of a JSON or form-encoded body ('' if missing)."""
    if request.content_type == "application/json":
        data = json.loads(request.body or b"{}")
        return str(data.get(name, "")) if isinstance(data, dict) else ""
    return str(request.POST.get(name, ""))


def unauthorized() -> JsonResponse:
    return JsonResponse({"error": "login required"}, status=401)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "pid": str(os.getpid())})


@require_POST
def login(request: HttpRequest) -> JsonResponse:
    user = field(request, "user")
    if not user:
        return JsonResponse({"error": "field 'user' is required"}, status=400)
    request.session.cycle_key()
    request.session["user"] = user
    FLASHES.setdefault(user, []).append(f"Welcome, {user}!")
    return JsonResponse({"user": user})


@require_GET
def me(request: HttpRequest) -> JsonResponse:
    user = request.session.get("user")
    return JsonResponse({"user": user}) if user else unauthorized()


@require_POST
def cart_add(request: HttpRequest) -> JsonResponse:
    user = request.session.get("user")
    if not user:
        return unauthorized()
    item = field(request, "item")
    CARTS.setdefault(user, []).append(item)
    FLASHES.setdefault(user, []).append(f"Added {item} to your cart.")
    return JsonResponse({"items": CARTS[user]})


@require_GET
def cart(request: HttpRequest) -> JsonResponse:
    user = request.session.get("user")
    return JsonResponse({"items": CARTS.get(user, [])}) if user else unauthorized()


@require_GET
def messages(request: HttpRequest) -> JsonResponse:
    user = request.session.get("user")
    return JsonResponse({"messages": FLASHES.pop(user, [])}) if user else unauthorized()


@require_POST
def logout(request: HttpRequest) -> JsonResponse:
    request.session.flush()
    return JsonResponse({"user": None})


urlpatterns = [
    path("health", health),
    path("login", login),
    path("me", me),
    path("cart/add", cart_add),
    path("cart", cart),
    path("messages", messages),
    path("logout", logout),
]

django.setup()
app = get_wsgi_application()
