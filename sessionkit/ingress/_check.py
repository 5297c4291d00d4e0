"""``--check FILE``: audit every Ingress's affinity configuration with the generator's rules.

Ingresses for the ALB (class ``alb`` or ``alb.ingress.kubernetes.io/*`` annotations), Traefik
(class ``traefik``) and F5 NGINX (:mod:`._audit_f5`) get their controller's audit instead of
ingress-nginx's; Services, Traefik
IngressRoutes, Gateway API HTTPRoutes, Istio DestinationRules, Envoy Gateway
BackendTrafficPolicies, Emissary Mappings and Contour HTTPProxies get theirs (:mod:`._audit_lb`,
:mod:`._audit_envoy`), each against the app's session cookie (:class:`._appcookie.AppCookie`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sessionkit.ingress import _audit_envoy, _audit_f5, _audit_lb, _yamlio
from sessionkit.ingress._appcookie import AppCookie, tls_in
from sessionkit.ingress._aws import PREFIX as ALB_PREFIX
from sessionkit.ingress._drain import DrainPlan, audit_deployment
from sessionkit.ingress._rules import audit_annotations
from sessionkit.ingress._services import routed_services, service_findings
from sessionkit.ingress._traps import (
    annotations_of,
    canary_mismatches,
    duplicate_routes,
    ingress_traps,
    is_canary,
    sub,
)
from sessionkit.ingress._validate import AffinityConfigError, Finding


@dataclass(frozen=True)
class IngressReport:
    """Findings for one Ingress document (``document`` counts from 0, ``line`` from 1)."""

    document: int
    line: int
    name: str
    findings: tuple[Finding, ...]
    kind: str = "Ingress"


def _label(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata")
    if not isinstance(meta, Mapping):
        return "<unnamed>"
    name = str(meta.get("name", "<unnamed>"))
    ns = meta.get("namespace")
    return f"{ns}/{name}" if ns else name


# (API group, kind) -> audit of that object against the app's cookie.
_AUDITS: dict[tuple[str, str], Callable[[Mapping[str, Any], AppCookie], list[Finding]]] = {
    ("traefik.io", "IngressRoute"): _audit_lb.ingressroute,
    ("traefik.containo.us", "IngressRoute"): _audit_lb.ingressroute,
    ("gateway.networking.k8s.io", "HTTPRoute"): _audit_lb.httproute,
    ("networking.istio.io", "DestinationRule"): _audit_envoy.destination_rule,
    ("gateway.envoyproxy.io", "BackendTrafficPolicy"): _audit_envoy.backend_traffic_policy,
    ("getambassador.io", "Mapping"): _audit_envoy.mapping,
    ("projectcontour.io", "HTTPProxy"): _audit_envoy.httpproxy,
}


def controller(doc: Mapping[str, Any], prefix: str) -> str:
    """Which controller an Ingress is for: ``aws``, ``traefik``, ``f5`` (sticky-cookie-services
    and no ingress-nginx annotation under ``prefix``) or ``nginx`` (anything else)."""
    ann = annotations_of(doc)
    cls = str(sub(doc, "spec").get("ingressClassName") or ann.get("kubernetes.io/ingress.class") or "")
    if cls == "alb" or any(str(k).startswith(ALB_PREFIX + "/") for k in ann):
        return "aws"
    if cls == "traefik":
        return "traefik"
    f5 = any(k in ann for k in _audit_f5.KEYS)
    return "f5" if f5 and not any(str(k).startswith(prefix + "/") for k in ann) else "nginx"


def _ingress_findings(doc: Mapping[str, Any], prefix: str, app: AppCookie) -> list[Finding]:
    found = ingress_traps(doc, prefix) + _audit_lb.traefik_on_ingress(doc)
    which = controller(doc, prefix)
    if which == "aws":
        return found + _audit_lb.alb_ingress(doc, app)
    if which == "f5":  # the trap "an F5 annotation that ingress-nginx ignores" does not apply
        return [f for f in found if f.field not in _audit_f5.KEYS] + _audit_f5.f5_ingress(doc, app)
    if which == "traefik":
        return found
    return found + audit_annotations(annotations_of(doc), prefix, app.name,
                                     canary=is_canary(doc, prefix))


def audit_file(path: str, prefix: str, plan: DrainPlan | None = None,
               app: AppCookie | None = None) -> list[IngressReport]:
    """Audit ``path``; raises :class:`AffinityConfigError` when it cannot be read or parsed.

    ``app`` describes the app's session cookie; TLS in front is also found in the file."""
    _, chunks = _yamlio.load(path, "--check")
    ingresses: list[tuple[int, Mapping[str, Any]]] = []
    objects: list[tuple[int, Mapping[str, Any]]] = []
    for index, chunk in enumerate(chunks):
        doc = _yamlio.kube_object(chunk, index, path)
        if doc is not None:
            objects.append((index, doc))
            if doc["kind"] == "Ingress":
                ingresses.append((index, doc))
    app = app or AppCookie()
    app = dataclasses.replace(app, tls=app.tls or tls_in(doc for _, doc in objects))
    reports = [IngressReport(index, chunks[index].start_line, _label(doc),
                             tuple(_ingress_findings(doc, prefix, app)))
               for index, doc in ingresses]
    routed = routed_services([doc for _, doc in ingresses])
    for index, doc in objects:
        kind = str(doc["kind"])
        if kind == "Service":
            meta = sub(doc, "metadata")
            key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            found = service_findings(doc, key in routed) + _audit_lb.traefik_service(doc, app)
            if found:
                reports.append(IngressReport(index, chunks[index].start_line, _label(doc),
                                             tuple(found), kind))
        elif (audit := _AUDITS.get((str(doc["apiVersion"]).partition("/")[0], kind))) is not None:
            reports.append(IngressReport(index, chunks[index].start_line, _label(doc),
                                         tuple(audit(doc, app)), kind))
    reports += _deployments(path, chunks, plan or DrainPlan())
    lines = [(chunks[i].start_line, doc) for i, doc in ingresses]
    pairs = duplicate_routes(lines, prefix) + canary_mismatches(lines, prefix)
    if pairs:
        reports.append(IngressReport(-1, 0, "<file>", tuple(pairs)))
    return reports


def _deployments(path: str, chunks: list[_yamlio.Chunk], plan: DrainPlan) -> list[IngressReport]:
    docs = [(i, c.start_line, c.data) for i, c in enumerate(chunks) if isinstance(c.data, Mapping)]
    pdbs = [d for _, _, d in docs if d.get("kind") == "PodDisruptionBudget"]
    namespaces = {str((d.get("metadata") or {}).get("name")): (d.get("metadata") or {}).get("labels") or {}
                  for _, _, d in docs if d.get("kind") == "Namespace"}
    reports: list[IngressReport] = []
    for index, line, doc in docs:
        if doc.get("kind") != "Deployment":
            continue
        labels = (((doc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        has_pdb = any(
            ((pdb.get("spec") or {}).get("selector") or {}).get("matchLabels", {}).items()
            <= dict(labels).items() for pdb in pdbs)
        ns = str((doc.get("metadata") or {}).get("namespace") or "default")
        try:
            found = audit_deployment(doc, plan, has_pdb, namespaces.get(ns))
        except AffinityConfigError as exc:
            raise AffinityConfigError(f"--check {path}:{line}: {exc}") from exc
        reports.append(IngressReport(index, line, _label(doc), tuple(found), "Deployment"))
    return reports


def count(reports: list[IngressReport], severity: str) -> int:
    """How many findings of ``severity`` the reports hold."""
    return sum(1 for r in reports for f in r.findings if f.severity == severity)


def render_text(path: str, reports: list[IngressReport]) -> str:
    """Human-readable report: one block per Ingress, then totals."""
    if not reports:
        return f"{path}: nothing to audit (no Ingress, route, affinity policy, Service or Deployment)\n"
    lines: list[str] = []
    for r in reports:
        where = f"{path}:{r.line} {r.kind} {r.name}" if r.document >= 0 else f"{path}"
        lines.append(f"{where}: {'ok' if not r.findings else ''}".rstrip())
        lines += [f"  {f.severity:<8} {f.field}: {f.message}" for f in r.findings]
    problems, warnings = count(reports, "problem"), count(reports, "warning")
    lines.append(f"{problems} problem(s), {warnings} warning(s)")
    return "\n".join(lines) + "\n"


def as_dict(path: str, reports: list[IngressReport]) -> dict[str, Any]:
    """Plain-data report for ``--format json``."""
    return {
        "file": path,
        "ingresses": [
            {
                "document": r.document,
                "line": r.line,
                "name": r.name,
                "kind": r.kind,
                "findings": [f.as_dict() for f in r.findings],
            }
            for r in reports
        ],
        "problems": count(reports, "problem"),
        "warnings": count(reports, "warning"),
    }
