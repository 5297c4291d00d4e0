"""``--check`` on Services: the kube-proxy and cloud-balancer traps that break or fake affinity.

The reasoning comes from field reports: a cloud balancer in front of a ``type: LoadBalancer``
Service registers *nodes*, and kube-proxy then picks the pod, so stickiness at the balancer pins
a node, not a pod; ``sessionAffinity: ClientIP`` keys on the source address kube-proxy sees, which
behind an L7 balancer is the balancer's (kube-proxy reads neither X-Forwarded-For nor the PROXY
protocol); ``externalTrafficPolicy: Cluster`` fails in-flight requests with 502 when a node is
scaled in, ``Local`` fails requests when a deploy moves pods to other nodes before the balancer's
health checks notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessionkit.ingress._traps import annotations_of, sub
from sessionkit.ingress._validate import Finding

AWS = "service.beta.kubernetes.io/aws-load-balancer-"
_L7_PROTOCOLS = ("http", "https")
USE_INSTEAD = ("register pods, not nodes: a ClusterIP Service behind an ingress controller that "
               "balances on endpoints, or an ALB/NLB in IP mode (target-type ip) with pod "
               "readiness gates")


def _ip_mode(ann: Mapping[str, Any]) -> bool:
    return ann.get(f"{AWS}nlb-target-type") == "ip" or ann.get(f"{AWS}type") == "nlb-ip"


def _l7_balancer(ann: Mapping[str, Any]) -> bool:
    return str(ann.get(f"{AWS}backend-protocol", "")).lower() in _L7_PROTOCOLS


def service_findings(doc: Mapping[str, Any], routed_by_ingress: bool) -> list[Finding]:
    """Findings for one Service; ``routed_by_ingress`` when an Ingress in the file sends to it."""
    spec = sub(doc, "spec")
    ann = annotations_of(doc)
    kind = str(spec.get("type") or "ClusterIP")
    found: list[Finding] = []
    if spec.get("sessionAffinity") == "ClientIP":
        behind_l7 = routed_by_ingress or _l7_balancer(ann)
        found.append(Finding(
            "problem" if behind_l7 else "warning", "spec.sessionAffinity",
            "ClientIP pins by the source address kube-proxy sees; behind an L7 balancer or an "
            "ingress controller that is the balancer's address, not the client's (kube-proxy reads "
            "neither X-Forwarded-For nor PROXY protocol), so users pile onto one pod or stickiness "
            "degenerates. Use cookie affinity at the ingress controller (sessionkit ingress), or "
            "keep sessions in Redis"
            + ("" if behind_l7 else "; fine only if clients reach kube-proxy with their own address")))
    if kind == "LoadBalancer" and not _ip_mode(ann):
        sticky = "stickiness.enabled=true" in str(ann.get(f"{AWS}target-group-attributes", ""))
        found.append(Finding(
            "problem" if sticky else "warning", "spec.type",
            "LoadBalancer: the cloud balancer registers nodes and kube-proxy picks the pod, so "
            "stickiness at the balancer pins a node, not a pod"
            + (" (this Service enables it)" if sticky else "") + "; " + USE_INSTEAD))
    if kind in ("LoadBalancer", "NodePort") and not _ip_mode(ann):
        policy = str(spec.get("externalTrafficPolicy") or "Cluster")
        if policy == "Local":
            why = ("Local: when a deploy moves pods to other nodes, the balancer keeps sending to "
                   "nodes that no longer run a ready pod until its health check fails, and those "
                   "requests fail")
        else:
            why = ("Cluster (the default): every node forwards to any pod, so scaling in a node "
                   "drops the requests in flight through it (502s)")
        found.append(Finding("warning", "spec.externalTrafficPolicy", f"{why}; {USE_INSTEAD}"))
    return found


def routed_services(ingresses: list[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(namespace, service) pairs that the Ingresses send traffic to."""
    out: set[tuple[str, str]] = set()
    for doc in ingresses:
        meta = sub(doc, "metadata")
        ns = str(meta.get("namespace") or "")
        spec = sub(doc, "spec")
        for rule in spec.get("rules") or []:
            http = rule.get("http") if isinstance(rule, Mapping) else None
            for item in (http or {}).get("paths") or []:
                svc = ((item.get("backend") or {}).get("service") or {}) if isinstance(item, Mapping) else {}
                if isinstance(svc, Mapping) and svc.get("name"):
                    out.add((ns, str(svc["name"])))
    return out
