"""F5 NGINX Ingress Controller (nginx/kubernetes-ingress): ``nginx.org/sticky-cookie-services``.

Not ingress-nginx: different annotation names and syntax, often confused because both default to
the ``nginx`` IngressClass. Syntax (``internal/configs/parsing_helpers.go``, ``parseStickyService``):
``serviceName=<svc> <cookie> [expires=<time>] [domain=<d>] [httponly] [secure] [path=<p>]``,
``;`` between services; the parameters must match ``^([^"$\\\\]|\\\\[^$])*$`` and are passed to
NGINX's ``sticky cookie`` directive, an NGINX Plus feature (the annotation is validated as
Plus-only; ``nginx.com/sticky-cookie-services`` is the older name, ``nginx.org/`` wins if both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sessionkit.ingress import _validate as v
from sessionkit.ingress._validate import AffinityConfigError

ANNOTATION = "nginx.org/sticky-cookie-services"
_CONTROLLER_VALUE = re.compile(r'([^"$\\]|\\[^$])*')
NOTE: tuple[str, ...] = (
    "F5 NGINX Ingress Controller, not ingress-nginx: nginx.ingress.kubernetes.io/* annotations",
    "do nothing here. sticky cookie needs NGINX Plus.",
)


def nginx_time(seconds: int) -> str:
    """Seconds as an NGINX time value (``172800`` -> ``48h``)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts)


@dataclass(frozen=True)
class F5Affinity:
    """Validated options of one service's sticky cookie."""

    service: str = "app"
    cookie_name: str = "route"
    expires: int = 172800
    domain: str = ""
    http_only: bool = True
    secure: bool = True
    path: str = "/"
    app_cookie: str | None = None

    def __post_init__(self) -> None:
        v.dns1035_label(self.service, "--service")
        v.cookie_name(self.cookie_name, "--cookie-name")
        v.positive_seconds(self.expires, "--max-age")
        if self.domain:
            v.cookie_domain(self.domain, "--cookie-domain")
        v.cookie_path(self.path, "--cookie-path")
        if self.app_cookie == self.cookie_name:
            raise AffinityConfigError(
                f"--cookie-name: {self.cookie_name!r} is the app's session cookie (--app-cookie)"
            )


def sticky_value(o: F5Affinity) -> str:
    """The annotation value for one service."""
    parts = [f"serviceName={o.service}", o.cookie_name, f"expires={nginx_time(o.expires)}"]
    if o.domain:
        parts.append(f"domain={o.domain}")
    if o.http_only:
        parts.append("httponly")
    if o.secure:
        parts.append("secure")
    parts.append(f"path={o.path}")
    value = " ".join(parts)
    if not _CONTROLLER_VALUE.fullmatch(value.split(" ", 1)[1]):  # pragma: no cover - by design
        raise AffinityConfigError(f"{ANNOTATION}: {value!r} would be rejected by the controller")
    return value


def f5_annotations(o: F5Affinity) -> dict[str, str]:
    """The single annotation enabling the sticky cookie for ``o.service``."""
    return {ANNOTATION: sticky_value(o)}
