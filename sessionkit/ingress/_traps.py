"""Known ingress-nginx traps visible in an Ingress object, and the host/path duplicate check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sessionkit.ingress._validate import Finding

RETIRED_APIS = ("networking.k8s.io/v1beta1", "extensions/v1beta1")
CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def annotations_of(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """``metadata.annotations`` of a manifest, or an empty mapping."""
    meta = doc.get("metadata")
    if not isinstance(meta, Mapping):
        return {}
    ann = meta.get("annotations")
    return ann if isinstance(ann, Mapping) else {}


def _true(value: object) -> bool:
    return (isinstance(value, str) and value.strip().lower() == "true") or value is True


def ingress_traps(doc: Mapping[str, Any], prefix: str) -> list[Finding]:
    """Traps that break or weaken affinity on this Ingress, whatever its annotation values."""
    found: list[Finding] = []
    ann = annotations_of(doc)
    api = doc.get("apiVersion")
    if api in RETIRED_APIS:
        found.append(Finding("problem", "apiVersion",
                             f"{api} is not served since Kubernetes 1.22; use networking.k8s.io/v1"))
    regex = _true(ann.get(f"{prefix}/use-regex")) or f"{prefix}/rewrite-target" in ann
    if regex and f"{prefix}/session-cookie-path" not in ann:
        found.append(Finding(
            "problem", f"{prefix}/session-cookie-path",
            "use-regex/rewrite-target without an explicit cookie path: the cookie gets the regex "
            'as its Path, the browser never sends it back and nothing sticks; set "/"'))
    if _true(ann.get(f"{prefix}/service-upstream")):
        found.append(Finding(
            "problem", f"{prefix}/service-upstream",
            '"true" sends traffic to the Service ClusterIP, so kube-proxy picks the pod and '
            "cookie affinity has no effect; remove it"))
    spec = doc.get("spec")
    if CLASS_ANNOTATION in ann and isinstance(spec, Mapping) and "ingressClassName" in spec:
        found.append(Finding(
            "warning", f"metadata.annotations.{CLASS_ANNOTATION}",
            "set together with spec.ingressClassName; the API server refuses new Ingresses with "
            "both, keep only spec.ingressClassName"))
    for key in ann:
        if key in ("nginx.org/sticky-cookie-services", "nginx.com/sticky-cookie-services"):
            found.append(Finding(
                "warning", key,
                "an F5 NGINX Ingress Controller annotation: ingress-nginx ignores it (use "
                "--target f5 if that is your controller)"))
    if _true(ann.get(f"{prefix}/canary")):
        found.append(Finding(
            "warning", f"{prefix}/canary",
            "canary Ingress: with affinity, users who reach the canary stay on it (the default "
            'affinity-canary-behavior "sticky"); set "legacy" here to let canary traffic ignore '
            "affinity, and keep the cookie settings identical to the main Ingress"))
    return found


def host_paths(doc: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """Every (host, path) an Ingress routes; host ``*`` when a rule has none."""
    spec = doc.get("spec")
    rules = spec.get("rules") if isinstance(spec, Mapping) else None
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, Mapping):
            continue
        host = str(rule.get("host") or "*")
        http = rule.get("http")
        paths = http.get("paths") if isinstance(http, Mapping) else None
        for item in paths if isinstance(paths, list) else []:
            if isinstance(item, Mapping):
                yield host, str(item.get("path") or "/")


def duplicate_routes(ingresses: Iterable[tuple[int, Mapping[str, Any]]]) -> list[Finding]:
    """One problem per host/path routed by several Ingresses (of one namespace) in a file.

    ``ingresses`` pairs each document's first line number with the document.
    """
    seen: dict[tuple[str, str, str], int] = {}
    found: list[Finding] = []
    for index, doc in ingresses:
        meta = doc.get("metadata")
        ns = str(meta.get("namespace") or "") if isinstance(meta, Mapping) else ""
        for host, path in set(host_paths(doc)):
            key = (ns, host, path)
            if key in seen:
                found.append(Finding(
                    "problem", "spec.rules",
                    f"the Ingresses at lines {seen[key]} and {index} both route host {host} path "
                    f"{path}; the controller merges them and which affinity settings win is "
                    "unclear"))
            else:
                seen[key] = index
    return found
