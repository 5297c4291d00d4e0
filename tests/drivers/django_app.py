"""Conformance driver for Django: the contract of ``drivers/base.py`` over ``SESSION_ENGINE``.

The driver's settings (Redis URL, key prefix, options) are applied with ``override_settings``
from ``make_driver`` until ``close()``; one Django driver is active at a time.
"""

from __future__ import annotations

import sys
from typing import Any

from drivers import django_settings
from drivers.base import Reply, parse_set_cookie

django_settings.configure()

from django.contrib.sessions.backends.file import SessionStore as FileSessionStore  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

FALLBACK_ENGINE = "django.contrib.sessions.backends.file"
OPTIONS = {
    "degraded": "SESSIONKIT_DEGRADED",
    "idle_timeout": "SESSION_COOKIE_AGE",
    "absolute_timeout": "SESSIONKIT_ABSOLUTE_TIMEOUT",
    "refresh_interval": "SESSIONKIT_REFRESH_INTERVAL",
    "max_size": "SESSIONKIT_MAX_SIZE",
    "local_cache": "SESSIONKIT_LOCAL_CACHE",
}


def login(request: HttpRequest, user: str) -> JsonResponse:
    request.session.cycle_key()  # what django.contrib.auth.login does
    request.session["user"] = user  # SESSIONKIT_USER_KEY = "user": binds the session to the user
    return JsonResponse({"user": user})


def whoami(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": request.session.get("user")})


def set_value(request: HttpRequest, key: str, value: str) -> JsonResponse:
    request.session[key] = value
    return JsonResponse({"ok": True})


def append(request: HttpRequest, key: str, value: str) -> JsonResponse:
    values = request.session.setdefault(key, [])
    values.append(value)  # no `modified = True`: the store sees the change
    return JsonResponse({"value": values})


def get_value(request: HttpRequest, key: str) -> JsonResponse:
    return JsonResponse({"value": request.session.get(key)})


def logout(request: HttpRequest) -> JsonResponse:
    request.session.flush()  # what django.contrib.auth.logout does
    return JsonResponse({"ok": True})


def untouched(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("login/<str:user>", login),
    path("whoami", whoami),
    path("set/<str:key>/<str:value>", set_value),
    path("append/<str:key>/<str:value>", append),
    path("get/<str:key>", get_value),
    path("logout", logout),
    path("untouched", untouched),
]


def driver_settings(redis_url: str, key_prefix: str, **options: Any) -> dict[str, Any]:
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise TypeError(f"unsupported driver options: {sorted(unknown)}")
    values: dict[str, Any] = {
        "SESSIONKIT_REDIS_URL": redis_url,
        "SESSIONKIT_KEY_PREFIX": key_prefix,
        "SESSIONKIT_USER_KEY": "user",
        "SESSIONKIT_FALLBACK_ENGINE": FALLBACK_ENGINE,
        "ROOT_URLCONF": sys.modules[__name__],
        "MIDDLEWARE": ["sessionkit.adapters.django.middleware.SessionMiddleware"],
    }
    for option, value in options.items():
        values[OPTIONS[option]] = int(value) if option == "idle_timeout" else value
    return values


class DjangoDriver:
    framework = "django"
    cookie_name = "sessionid"

    def __init__(self, redis_url: str, key_prefix: str, **options: Any) -> None:
        self._override = override_settings(**driver_settings(redis_url, key_prefix, **options))
        self._override.enable()

    def request(self, method: str, path: str, cookie: str | None = None) -> Reply:
        client = Client(raise_request_exception=False)
        if cookie is not None:
            client.cookies[self.cookie_name] = cookie
        response = client.generic(method, "/" + path.lstrip("/"))
        headers = [c.OutputString() for c in response.cookies.values()]
        value, attrs = parse_set_cookie(headers, self.cookie_name)
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        return Reply(response.status_code, response.json() if is_json else None, dict(response.headers),
                     value, attrs)

    def legacy_cookie(self, data: dict[str, Any]) -> str:
        """The key of a session stored by the previous engine (files), as its cookie held it."""
        old = FileSessionStore()
        old.update(data)
        old.create()  # create() saves under a fresh key
        old.save()
        return str(old.session_key)

    def close(self) -> None:
        self._override.disable()


def make_driver(redis_url: str, key_prefix: str, **options: Any) -> DjangoDriver:
    return DjangoDriver(redis_url, key_prefix, **options)
