"""Traefik sticky cookies: Service annotations and the IngressRoute ``sticky.cookie`` form.

Names from Traefik's Kubernetes Ingress provider reference: ``traefik.ingress.kubernetes.io/
service.sticky.cookie`` (+ ``.name``, ``.secure``, ``.httponly``, ``.samesite``, ``.maxage``). They
are read from the **Service**, not the Ingress. Traefik maps samesite with a case-sensitive
``switch`` on ``none``/``lax``/``strict`` and silently uses the browser default otherwise, so only
those lowercase spellings are emitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from sessionkit.ingress import _validate as v
from sessionkit.ingress._manifest import Backend, metadata
from sessionkit.ingress._validate import AffinityConfigError

TraefikSameSite = Literal["lax", "strict", "none"]
PREFIX = "traefik.ingress.kubernetes.io/service.sticky.cookie"
NOTE: tuple[str, ...] = (
    "Traefik reads sticky-cookie annotations from the Service, not from the Ingress.",
)


@dataclass(frozen=True)
class TraefikAffinity:
    """Validated Traefik sticky-cookie options."""

    cookie_name: str = "route"
    secure: bool = True
    http_only: bool = True
    samesite: TraefikSameSite = "lax"
    max_age: int = 172800
    app_cookie: str | None = None

    def __post_init__(self) -> None:
        v.cookie_name(self.cookie_name, "--cookie-name")
        if self.samesite not in ("lax", "strict", "none"):
            raise AffinityConfigError(
                f"--samesite: {self.samesite!r} is not accepted; use lax, strict or none"
            )
        if self.samesite == "none" and not self.secure:
            raise AffinityConfigError("--samesite none needs --secure")
        v.positive_seconds(self.max_age, "--max-age")
        if self.app_cookie == self.cookie_name:
            raise AffinityConfigError(
                f"--cookie-name: {self.cookie_name!r} is the app's session cookie (--app-cookie)"
            )


def _b(value: bool) -> str:
    return "true" if value else "false"


def service_annotations(o: TraefikAffinity) -> dict[str, str]:
    """The Service annotations enabling a sticky cookie."""
    return {
        PREFIX: "true",
        f"{PREFIX}.name": o.cookie_name,
        f"{PREFIX}.secure": _b(o.secure),
        f"{PREFIX}.httponly": _b(o.http_only),
        f"{PREFIX}.samesite": o.samesite,
        f"{PREFIX}.maxage": str(o.max_age),
    }


def parse_selector(text: str | None, service: str) -> dict[str, str]:
    """``app=web,tier=front`` as a Service selector; default ``app=<service>``."""
    if text is None:
        return {"app": service}
    selector: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key or not _LABEL_VALUE.fullmatch(value) or not _LABEL_KEY.fullmatch(key):
            raise AffinityConfigError(
                f"--selector: {item!r} is not KEY=VALUE with Kubernetes label syntax (e.g. app=web)")
        selector[key] = value
    return selector


_LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def service_manifest(b: Backend, annotations: dict[str, str], selector: dict[str, str],
                     target_port: int | str) -> dict[str, Any]:
    """A complete ``v1`` Service (selector and port) carrying the sticky-cookie annotations."""
    if not isinstance(b.port, int):
        raise AffinityConfigError(
            f"--port: {b.port!r}: a complete Service needs a port number; or use --output patch "
            "to annotate the existing Service")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(Backend(name=b.service, namespace=b.namespace), annotations),
        "spec": {"selector": selector,
                 "ports": [{"name": "http", "port": b.port, "targetPort": target_port}]},
    }


SERVICE_NOTE: tuple[str, ...] = (
    "The Service below is complete and replaces yours on kubectl apply: check its selector and",
    "targetPort (--selector, --target-port), or use --output patch to only annotate your Service.",
)


def sticky(o: TraefikAffinity) -> dict[str, Any]:
    """The ``sticky`` object of an IngressRoute service (or TraefikService)."""
    return {
        "cookie": {
            "name": o.cookie_name,
            "secure": o.secure,
            "httpOnly": o.http_only,
            "sameSite": o.samesite,
            "maxAge": o.max_age,
        }
    }


def ingressroute(o: TraefikAffinity, b: Backend) -> dict[str, Any]:
    """A ``traefik.io/v1alpha1`` IngressRoute routing ``b`` with a sticky cookie."""
    matcher = "Path" if b.path_type == "Exact" else "PathPrefix"
    spec: dict[str, Any] = {
        "entryPoints": ["websecure"],
        "routes": [
            {
                "match": f"Host(`{b.host}`) && {matcher}(`{b.path}`)",
                "kind": "Rule",
                "services": [{"name": b.service, "port": b.port, "sticky": sticky(o)}],
            }
        ],
    }
    if b.tls_secret is not None:
        spec["tls"] = {"secretName": b.tls_secret}
    return {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "IngressRoute",
        "metadata": metadata(b),
        "spec": spec,
    }
