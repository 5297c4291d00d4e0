"""``--check`` for the F5 NGINX Ingress Controller's ``nginx.org/sticky-cookie-services``.

Each ``;``-separated entry is ``serviceName=<svc> <cookie> [expires=<time>] [domain=<d>]
[httponly] [secure] [path=<p>]`` (see :mod:`._f5`), handed to NGINX Plus's ``sticky cookie``: an
entry whose ``serviceName`` is not a backend of the Ingress pins nothing; without ``expires`` the
cookie lasts for the browser session; without ``path`` the browser scopes it to the first URL's
directory. An Ingress is taken for this controller when it has these annotations and none of
ingress-nginx's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sessionkit.ingress import _appcookie as app_
from sessionkit.ingress._appcookie import AppCookie
from sessionkit.ingress._f5 import ANNOTATION
from sessionkit.ingress._traps import annotations_of, sub
from sessionkit.ingress._validate import Finding

KEYS = (ANNOTATION, "nginx.com/sticky-cookie-services")  # nginx.org/ wins when both are set
_NGINX_UNITS = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000,
                "y": 31536000, "": 1}
_NGINX_TIME = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+")
_NGINX_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|M|y)?")


def nginx_seconds(value: str) -> float | None:
    """An NGINX time (``48h``, ``1d12h``, ``3600``; ``max`` is far in the future) in seconds."""
    if value == "max":
        return float("inf")
    if not _NGINX_TIME.fullmatch(value):
        return None
    return sum(int(n) * _NGINX_UNITS[unit] for n, unit in _NGINX_PART.findall(value))


def _backends(doc: Mapping[str, Any]) -> set[str]:
    spec = sub(doc, "spec")
    backends = [sub(spec, "defaultBackend")]
    rules = spec.get("rules")
    for rule in rules if isinstance(rules, list) else []:
        paths = sub(rule, "http").get("paths") if isinstance(rule, Mapping) else None
        backends += [sub(p, "backend") for p in (paths if isinstance(paths, list) else [])
                     if isinstance(p, Mapping)]
    return {str(sub(b, "service").get("name")) for b in backends if sub(b, "service")}


def f5_ingress(doc: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    """Every entry of the Ingress's sticky-cookie-services annotation."""
    ann = annotations_of(doc)
    key = next((k for k in KEYS if k in ann), KEYS[0])
    routed = _backends(doc)
    found: list[Finding] = []
    for entry in (e.strip() for e in str(ann.get(key, "")).split(";") if e.strip()):
        words = entry.split()
        params = dict(w.partition("=")[::2] for w in words if "=" in w)
        flags = {w for w in words if "=" not in w}
        service = params.get("serviceName")
        cookie = next((w for w in words[1:] if "=" not in w and w not in ("httponly", "secure")), None)
        if service is None or cookie is None or not words[0].startswith("serviceName="):
            found.append(Finding("problem", key, f"{entry!r}: write serviceName=<service> <cookie> "
                                 "[expires=<time>] [httponly] [secure] [path=<path>]"))
            continue
        if service not in routed:
            found.append(Finding("problem", key, (
                f"serviceName={service}: not a backend of this Ingress "
                f"({', '.join(sorted(routed)) or 'none'}): its requests are not pinned")))
            continue
        field = f"{key} serviceName={service}"
        found += app_.name(f"{field} cookie", cookie, app)
        expires = params.get("expires")
        seconds = nginx_seconds(expires) if expires is not None else None
        if expires is not None and seconds is None:
            found.append(Finding("problem", f"{field} expires", f"{expires!r} is not an NGINX time "
                                 "such as 48h"))
        else:
            found += app_.lifetime(f"{field} expires", seconds, app, "set expires= to at least the app's")
        found += app_.path(f"{field} path", params.get("path"), app)
        found += app_.secure(f"{field} secure", "secure" in flags, app, "add the secure flag")
    return found
