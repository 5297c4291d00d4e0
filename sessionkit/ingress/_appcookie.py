"""What ``--check`` compares a balancer's affinity cookie with: the app's own session cookie.

A balancer's cookie is consistent with the app when it outlives the app's session (``--max-age``
given to ``--check``: a session cookie or a shorter lifetime re-pins the user to another pod
while the app still holds their session in one process), covers every path the app's cookie
covers (``--cookie-path``, default ``/``: requests outside the affinity cookie's Path carry no
pin and land on any pod), is Secure when TLS is in front (seen in the file: Ingress ``spec.tls``,
HTTPProxy ``virtualhost.tls``, IngressRoute ``spec.tls``, an Istio Gateway server's ``tls``, a
Gateway API HTTPS listener) and is not the app's cookie itself (``--app-cookie``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sessionkit.ingress._traps import sub
from sessionkit.ingress._validate import Finding

_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_GO_DURATION = re.compile(r"(?:([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+")
_GO_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)")


@dataclass(frozen=True)
class AppCookie:
    """The app's session cookie as ``--check`` knows it (every field optional but ``path``)."""

    name: str | None = None
    max_age: int | None = None
    path: str = "/"
    tls: bool = False


def go_seconds(value: object) -> float | None:
    """A Go duration (``48h``, ``1h30m``, ``0s``, ``0``) in seconds, or ``None`` if it is not one."""
    if value == "0" or value == 0:
        return 0.0
    if not isinstance(value, str) or not _GO_DURATION.fullmatch(value):
        return None
    return sum(float(n) * _GO_UNITS[unit] for n, unit in _GO_PART.findall(value))


def lifetime(field: str, seconds: float | None, app: AppCookie, fix: str) -> list[Finding]:
    """The cookie lasts ``seconds`` (``None``: a browser-session cookie) against ``--max-age``."""
    if app.max_age is None:
        return []
    if seconds is None or seconds == 0:
        return [Finding("warning", field, (
            f"a browser-session cookie, but the app's session lasts {app.max_age}s: a user who "
            "closes the browser comes back logged in on another pod, which does not have the "
            f"in-process session; {fix}"))]
    if seconds < app.max_age:
        return [Finding("warning", field, (
            f"the pin lasts {seconds:g}s, less than the app's session ({app.max_age}s): the user is "
            f"then pinned anew, maybe to another pod, and loses the in-process session; {fix}"))]
    return []


def covers(cookie_path: str, app_path: str) -> bool:
    """True when a cookie with Path ``cookie_path`` is sent with every request under ``app_path``."""
    base = cookie_path.rstrip("/")
    return base == "" or app_path in (cookie_path, base) or app_path.startswith(base + "/")


def path(field: str, value: object, app: AppCookie) -> list[Finding]:
    """The affinity cookie's Path (``None``: not set) against the app cookie's path."""
    if value is None:
        return [Finding("warning", field, (
            "no Path: the browser scopes the cookie to the directory of the first URL that set "
            'it, so requests elsewhere carry no pin and land on any pod; set "/"'))]
    if not isinstance(value, str) or not covers(value, app.path):
        return [Finding("problem", field, (
            f"Path {value!r} does not cover the app's session cookie path {app.path!r}: requests "
            "outside it carry the session but no pin and land on any pod; use the app's path "
            '(or "/")'))]
    return []


def secure(field: str, is_secure: bool, app: AppCookie, how: str) -> list[Finding]:
    """A warning when the affinity cookie has no Secure flag."""
    if is_secure:
        return []
    where = "this file terminates TLS, yet " if app.tls else ""
    return [Finding("warning", field, (
        f"{where}no Secure flag: the cookie also travels over plain HTTP, where it can be read "
        f"or forged to pin a chosen pod; {how}"))]


def name(field: str, value: object, app: AppCookie) -> list[Finding]:
    """A problem when the balancer hashes on, or sets, the app's own session cookie."""
    if app.name is not None and value == app.name:
        return [Finding("problem", field, (
            f"{value!r} is the app's session cookie (--app-cookie): the balancer then sets or "
            "overwrites it, and the pin moves whenever the app issues a new session ID (login); "
            "use a cookie of its own, e.g. 'route'"))]
    return []


def tls_in(docs: Iterable[Mapping[str, Any]]) -> bool:
    """True when any object of the file terminates TLS (see the module docstring)."""
    for doc in docs:
        kind, spec = doc.get("kind"), sub(doc, "spec")
        if kind in ("Ingress", "IngressRoute") and spec.get("tls"):
            return True
        if kind == "HTTPProxy" and sub(spec, "virtualhost").get("tls"):
            return True
        servers = spec.get("servers") if kind == "Gateway" else None
        if isinstance(servers, list) and any(isinstance(s, Mapping) and s.get("tls") for s in servers):
            return True
        listeners = spec.get("listeners") if kind == "Gateway" else None
        if isinstance(listeners, list) and any(
                isinstance(li, Mapping) and li.get("protocol") in ("HTTPS", "TLS") for li in listeners):
            return True
    return False
