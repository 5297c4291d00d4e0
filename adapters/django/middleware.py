"""``SessionMiddleware``: Django's, plus ``503`` + ``Retry-After`` when Redis is unreachable.

Use it in ``MIDDLEWARE`` in place of ``django.contrib.sessions.middleware.SessionMiddleware``.
It also keeps a degraded session's cookie untouched (never re-set, never deleted).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from sessionkit import SessionBackendUnavailable
from sessionkit._web import (
    UNAVAILABLE_BODY,
    PlainHttpWarning,
    local_http,
    unavailable_headers,
    unavailable_log,
)
from sessionkit.adapters.django import _conf

log = logging.getLogger("sessionkit.django")
_FLAG = "_sessionkit_unavailable"


def unavailable_response(exc: SessionBackendUnavailable) -> HttpResponse:
    """The ``503 Service Unavailable`` reply with ``Retry-After`` (logged on ``sessionkit.django``)."""
    degraded = _conf.setting("SESSIONKIT_DEGRADED") is True
    log.error("%s", unavailable_log(exc, None if degraded else "SESSIONKIT_DEGRADED = True"))
    response = HttpResponse(UNAVAILABLE_BODY, status=503)
    for name, value in unavailable_headers(exc).items():
        response[name] = value
    return response


def _remember(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Inner middleware turn exceptions into 500 responses before we see them: note the cause.
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, SessionBackendUnavailable):
        setattr(request, _FLAG, exc)


got_request_exception.connect(_remember, dispatch_uid="sessionkit.django.unavailable")


class SessionMiddleware(DjangoSessionMiddleware):  # type: ignore[misc]
    """Django's session middleware with sessionkit's failure policy and Secure rule: unless
    ``SESSION_COOKIE_SECURE`` is set, the cookie is Secure except on plain-http localhost."""

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        secure = settings.SESSION_COOKIE_SECURE if settings.is_overridden("SESSION_COOKIE_SECURE") else None
        self._secure, self._plain_http = secure, PlainHttpWarning(secure, "SESSION_COOKIE_SECURE")
        if settings.DEBUG:  # runserver is plain http: say so at start-up
            self._plain_http.check(True)

    def _secure_rule(self, request: HttpRequest, response: HttpResponse) -> None:
        morsel = response.cookies.get(settings.SESSION_COOKIE_NAME)
        if morsel is None or not morsel.value:
            return  # no cookie sent, or a deletion
        host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME")
        local = local_http(request.scheme or "http", host)
        self._plain_http.check(local)
        if self._secure is None and not local:
            morsel["secure"] = True

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SessionBackendUnavailable):
            return unavailable_response(exception)
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if getattr(session, "degraded", False):
            patch_vary_headers(response, ("Cookie",))
            return response
        try:
            response = super().process_response(request, response)
        except SessionBackendUnavailable as exc:
            return unavailable_response(exc)
        cause = getattr(request, _FLAG, None)
        if cause is not None and response.status_code == 500:
            return unavailable_response(cause)
        self._secure_rule(request, response)
        return response
