"""Whole objects around the annotations: a ``networking.k8s.io/v1`` Ingress and merge patches."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from sessionkit.ingress import _validate as v
from sessionkit.ingress._validate import AffinityConfigError

PathType = Literal["Prefix", "Exact", "ImplementationSpecific"]
# Kubernetes (ValidateIngress for Prefix/Exact) and the Gateway API HTTPRoute CRD refuse these.
_BAD_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F", "#")
_BAD_SUFFIXES = ("/..", "/.")
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9/\-._~%!$&'()*+,;=:@]*")


def _check_path(path: str, path_type: str) -> None:
    if not path.startswith("/") or any(c.isspace() or c == "`" for c in path):
        raise AffinityConfigError(
            f"--path: {path!r} must be an absolute path starting with '/', without spaces or '`'"
        )
    if path_type == "ImplementationSpecific":
        return  # regex paths (ingress-nginx use-regex) are the controller's business
    bad = [seq for seq in _BAD_SEQUENCES if seq in path] + [
        suffix for suffix in _BAD_SUFFIXES if path.endswith(suffix)
    ]
    if bad or not _PLAIN_PATH.fullmatch(path):
        raise AffinityConfigError(
            f"--path: {path!r} is not a valid {path_type} path (no //, /./, /../, %2f, # or "
            "regex characters; use --path-type ImplementationSpecific for regex paths)"
        )


@dataclass(frozen=True)
class Backend:
    """Where an Ingress or route sends traffic; construction validates every field."""

    name: str = "app"
    namespace: str | None = None
    host: str = "app.example.com"
    path: str = "/"
    path_type: PathType = "Prefix"
    service: str = "app"
    port: int | str = 80
    tls_secret: str | None = None
    ingress_class: str | None = "nginx"

    def __post_init__(self) -> None:
        v.object_name(self.name, "--name")
        if self.namespace is not None:
            v.dns1123_label(self.namespace, "--namespace")
        v.hostname(self.host, "--host")
        if self.path_type not in ("Prefix", "Exact", "ImplementationSpecific"):
            raise AffinityConfigError(
                f"--path-type: {self.path_type!r} is not accepted; use Prefix, Exact or "
                "ImplementationSpecific"
            )
        _check_path(self.path, self.path_type)
        v.dns1035_label(self.service, "--service")
        object.__setattr__(self, "port", v.port(self.port, "--port"))
        if self.tls_secret is not None:
            v.object_name(self.tls_secret, "--tls-secret")
        if self.ingress_class is not None:
            v.object_name(self.ingress_class, "--ingress-class")


def metadata(b: Backend, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """``metadata`` with name, optional namespace and optional annotations."""
    meta: dict[str, Any] = {"name": b.name}
    if b.namespace is not None:
        meta["namespace"] = b.namespace
    if annotations is not None:
        meta["annotations"] = dict(annotations)
    return meta


def service_port(b: Backend) -> dict[str, int | str]:
    """An IngressServiceBackend port: ``number`` or ``name``."""
    return {"number": b.port} if isinstance(b.port, int) else {"name": b.port}


def ingress_manifest(b: Backend, annotations: dict[str, str]) -> dict[str, Any]:
    """A complete ``networking.k8s.io/v1`` Ingress for ``b`` carrying ``annotations``."""
    spec: dict[str, Any] = {}
    if b.ingress_class is not None:
        spec["ingressClassName"] = b.ingress_class
    if b.tls_secret is not None:
        spec["tls"] = [{"hosts": [b.host], "secretName": b.tls_secret}]
    spec["rules"] = [
        {
            "host": b.host,
            "http": {
                "paths": [
                    {
                        "path": b.path,
                        "pathType": b.path_type,
                        "backend": {"service": {"name": b.service, "port": service_port(b)}},
                    }
                ]
            },
        }
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(b, annotations or None),
        "spec": spec,
    }


def merge_patch(
    b: Backend, annotations: dict[str, str], kind: str = "Ingress",
    api_version: str = "networking.k8s.io/v1",
) -> dict[str, Any]:
    """A strategic-merge patch (``kubectl patch``, kustomize ``patches:``) adding annotations."""
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata(b, annotations)}
