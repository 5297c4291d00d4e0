"""The same Django shop with its sessions in Redis: any replica can serve any request.

Run:  SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))') \
      gunicorn examples.django.after.app:app --workers 3        (from the repository root)
or, for a quick local try with a fixed demo secret:  SESSIONKIT_DEMO=1 gunicorn examples.django.after.app:app

Environment: REDIS_URL (default redis://127.0.0.1:6379/0), SECRET_KEY (the same on every
replica; required unless SESSIONKIT_DEMO=1). Compared with ../before: SESSION_ENGINE and
SESSIONKIT_REDIS_URL set, sessionkit's SessionMiddleware (503 when Redis is down), the secret comes
from the environment, the cart lives in the session and flash messages use Django's messages
framework with its session storage.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEMO = os.environ.get("SESSIONKIT_DEMO") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY") or ("sessionkit-demo-secret-not-for-production" if DEMO else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Every replica must use the same secret: generate one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))' and export SECRET_KEY, "
        "or set SESSIONKIT_DEMO=1 to use a fixed demo secret (never in production)."
    )

SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": ["*"],
    "INSTALLED_APPS": ["django.contrib.sessions", "django.contrib.messages", "sessionkit.adapters.django"],
    "MIDDLEWARE": [
        "sessionkit.adapters.django.middleware.SessionMiddleware",  # Django's, plus 503 on outages
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    "SESSION_ENGINE": "sessionkit.adapters.django",
    "SESSIONKIT_REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    "SESSIONKIT_USER_KEY": "user",  # bind sessions to users: manage.py sessionkit_revoke_user
    "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage",
    "ROOT_URLCONF": sys.modules[__name__],
}
if not settings.configured:
    settings.configure(**SETTINGS)

import django  # noqa: E402
from django.contrib import messages as flash  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402


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
    request.session.cycle_key()  # new session key on login, as django.contrib.auth.login does
    request.session["user"] = user
    flash.success(request, f"Welcome, {user}!")
    return JsonResponse({"user": user})


@require_GET
def me(request: HttpRequest) -> JsonResponse:
    user = request.session.get("user")
    return JsonResponse({"user": user}) if user else unauthorized()


@require_POST
def cart_add(request: HttpRequest) -> JsonResponse:
    if not request.session.get("user"):
        return unauthorized()
    item = field(request, "item")
    request.session.setdefault("cart", []).append(item)  # nested change: saved, no flag needed
    flash.info(request, f"Added {item} to your cart.")
    return JsonResponse({"items": request.session["cart"]})


@require_GET
def cart(request: HttpRequest) -> JsonResponse:
    if not request.session.get("user"):
        return unauthorized()
    return JsonResponse({"items": request.session.get("cart", [])})


@require_GET
def messages(request: HttpRequest) -> JsonResponse:
    """Flash messages: shown once, then gone."""
    if not request.session.get("user"):
        return unauthorized()
    return JsonResponse({"messages": [str(m) for m in flash.get_messages(request)]})


@require_POST
def logout(request: HttpRequest) -> JsonResponse:
    request.session.flush()  # deleted from Redis, cookie removed
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
