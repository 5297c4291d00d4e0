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


def sub(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``doc[key]`` when it is a mapping, else an empty mapping."""
    value = doc.get(key)
    return value if isinstance(value, Mapping) else {}


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
    canary = is_canary(doc, prefix)
    if canary and f"{prefix}/affinity" not in ann:
        found.append(Finding(
            "warning", f"{prefix}/affinity",
            "canary Ingress without affinity: users the canary serves are not pinned to it and "
            "move between canary and main pods; give it the main Ingress's affinity annotations "
            "(sessionkit ingress --patch FILE does both of a pair)"))
    if not canary and f"{prefix}/affinity-canary-behavior" in ann:
        found.append(Finding(
            "warning", f"{prefix}/affinity-canary-behavior",
            'has no effect on a non-canary Ingress; the controller reads it from the Ingress '
            'marked canary: "true" (remove it here)'))
    return found


def is_canary(doc: Mapping[str, Any], prefix: str) -> bool:
    """True for an ingress-nginx canary Ingress (``canary: "true"``)."""
    return _true(annotations_of(doc).get(f"{prefix}/canary"))


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


def duplicate_routes(
    ingresses: Iterable[tuple[int, Mapping[str, Any]]], prefix: str = "nginx.ingress.kubernetes.io"
) -> list[Finding]:
    """One problem per host/path routed by several Ingresses (of one namespace) in a file.

    ``ingresses`` pairs each document's first line number with the document. A canary Ingress
    routing the same host/path as one main Ingress is the canary pattern, not a duplicate.
    """
    seen: dict[tuple[str, str, str, bool], int] = {}
    found: list[Finding] = []
    for index, doc in ingresses:
        meta = doc.get("metadata")
        ns = str(meta.get("namespace") or "") if isinstance(meta, Mapping) else ""
        canary = is_canary(doc, prefix)
        for host, path in set(host_paths(doc)):
            key = (ns, host, path, canary)
            if key in seen:
                found.append(Finding(
                    "problem", "spec.rules",
                    f"the {'canary ' if canary else ''}Ingresses at lines {seen[key]} and {index} "
                    f"both route host {host} path {path}; the controller merges them and which "
                    "affinity settings win is unclear"))
            else:
                seen[key] = index
    return found


_PAIR_IGNORED = ("canary", "canary-weight", "canary-weight-total", "canary-by-header",
                 "canary-by-header-value", "canary-by-header-pattern", "canary-by-cookie",
                 "affinity-canary-behavior")


def canary_mismatches(
    ingresses: Iterable[tuple[int, Mapping[str, Any]]], prefix: str
) -> list[Finding]:
    """Warn where a canary's affinity annotations differ from its main Ingress's."""
    mains: dict[tuple[str, str, str], tuple[int, Mapping[str, Any]]] = {}
    canaries: list[tuple[int, Mapping[str, Any]]] = []
    for line, doc in ingresses:
        if is_canary(doc, prefix):
            canaries.append((line, doc))
            continue
        meta = doc.get("metadata")
        ns = str(meta.get("namespace") or "") if isinstance(meta, Mapping) else ""
        for host, path in host_paths(doc):
            mains.setdefault((ns, host, path), (line, doc))
    found: list[Finding] = []
    for line, doc in canaries:
        meta = doc.get("metadata")
        ns = str(meta.get("namespace") or "") if isinstance(meta, Mapping) else ""
        pair = next((mains[(ns, h, p)] for h, p in host_paths(doc) if (ns, h, p) in mains), None)
        if pair is None or f"{prefix}/affinity" not in annotations_of(doc):
            continue
        mine, theirs = _affinity(annotations_of(doc), prefix), _affinity(annotations_of(pair[1]), prefix)
        differ = sorted({key.split("/", 1)[1] for key, _ in mine ^ theirs})
        if differ:
            found.append(Finding(
                "warning", f"{prefix}/session-cookie-*",
                f"the canary at line {line} and its main Ingress at line {pair[0]} differ in "
                f"{', '.join(differ)}; keep the cookie settings identical so a "
                "user's cookie means the same on both"))
    return found


def _affinity(ann: Mapping[str, Any], prefix: str) -> set[tuple[str, str]]:
    return {(str(k), str(v)) for k, v in ann.items()
            if str(k).startswith(f"{prefix}/") and str(k)[len(prefix) + 1:].startswith(
                ("affinity", "session-cookie-"))
            and str(k)[len(prefix) + 1:] not in _PAIR_IGNORED}
