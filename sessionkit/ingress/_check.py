"""``--check FILE``: audit every Ingress's affinity configuration with the generator's rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sessionkit.ingress import _yamlio
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


def audit_file(path: str, prefix: str, app_cookie: str | None = None,
               plan: DrainPlan | None = None) -> list[IngressReport]:
    """Audit ``path``; raises :class:`AffinityConfigError` when it cannot be read or parsed."""
    _, chunks = _yamlio.load(path, "--check")
    ingresses: list[tuple[int, Mapping[str, Any]]] = []
    for index, chunk in enumerate(chunks):
        doc = _yamlio.kube_object(chunk, index, path)
        if doc is not None and doc["kind"] == "Ingress":
            ingresses.append((index, doc))
    reports = [
        IngressReport(
            index,
            chunks[index].start_line,
            _label(doc),
            tuple(ingress_traps(doc, prefix) + audit_annotations(
                annotations_of(doc), prefix, app_cookie, canary=is_canary(doc, prefix))),
        )
        for index, doc in ingresses
    ]
    routed = routed_services([doc for _, doc in ingresses])
    for index, chunk in enumerate(chunks):
        doc = chunk.data
        if isinstance(doc, Mapping) and doc.get("kind") == "Service":
            meta = sub(doc, "metadata")
            key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            found = service_findings(doc, key in routed)
            if found:
                reports.append(IngressReport(index, chunk.start_line, _label(doc), tuple(found),
                                             "Service"))
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
        return f"{path}: no Ingress documents found\n"
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
