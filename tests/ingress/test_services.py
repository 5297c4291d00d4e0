"""``--check`` knows Services: ClientIP behind L7, node-pinning LoadBalancers, externalTrafficPolicy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _ingress_support import k8s_valid, run
from ruamel.yaml import YAML

from sessionkit.ingress._services import service_findings

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
    nginx.ingress.kubernetes.io/affinity: "cookie"
spec:
  rules:
  - host: a.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""


def service(spec: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web"}
    if annotations:
        meta["annotations"] = annotations
    doc = {"apiVersion": "v1", "kind": "Service", "metadata": meta,
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}
    k8s_valid(doc)
    return doc


def fields(doc: dict[str, Any], routed: bool = False) -> list[tuple[str, str]]:
    return [(f.severity, f.field) for f in service_findings(doc, routed)]


def test_plain_cluster_ip_service_is_fine() -> None:
    assert fields(service({})) == []
    assert fields(service({"type": "ClusterIP"}), routed=True) == []


def test_client_ip_behind_an_ingress_or_l7_elb_is_a_problem() -> None:
    doc = service({"sessionAffinity": "ClientIP"})
    assert fields(doc) == [("warning", "spec.sessionAffinity")]
    assert fields(doc, routed=True) == [("problem", "spec.sessionAffinity")]
    elb = service({"sessionAffinity": "ClientIP", "type": "LoadBalancer"},
                  {"service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "http"})
    assert ("problem", "spec.sessionAffinity") in fields(elb)
    [finding] = service_findings(doc, True)
    assert "kube-proxy reads neither X-Forwarded-For nor PROXY protocol" in finding.message
    assert "cookie affinity at the ingress controller" in finding.message


@pytest.mark.parametrize(("policy", "needle"), [
    (None, "scaling in a node drops the requests in flight"),
    ("Cluster", "scaling in a node drops the requests in flight"),
    ("Local", "when a deploy moves pods to other nodes"),
])
def test_load_balancer_pins_nodes_and_traffic_policy_drops_requests(policy: str | None,
                                                                    needle: str) -> None:
    spec: dict[str, Any] = {"type": "LoadBalancer"}
    if policy:
        spec["externalTrafficPolicy"] = policy
    found = service_findings(service(spec), False)
    assert [(f.severity, f.field) for f in found] == [
        ("warning", "spec.type"), ("warning", "spec.externalTrafficPolicy")]
    assert "pins a node, not a pod" in found[0].message
    assert needle in found[1].message
    assert "IP mode" in found[1].message


def test_sticky_nlb_on_instance_targets_is_a_problem_ip_mode_is_fine() -> None:
    attrs = {"service.beta.kubernetes.io/aws-load-balancer-target-group-attributes":
             "stickiness.enabled=true,stickiness.type=source_ip"}
    assert ("problem", "spec.type") in fields(service({"type": "LoadBalancer"}, attrs))
    ip_mode = {**attrs, "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"}
    assert fields(service({"type": "LoadBalancer"}, ip_mode)) == []
    assert fields(service({"type": "NodePort"})) == [("warning", "spec.externalTrafficPolicy")]


def test_check_cli_reports_services_in_the_file(tmp_path: Path) -> None:
    svc = YAML(typ="safe").load(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec: {sessionAffinity: ClientIP, selector: {app: web}, ports: [{port: 80}]}\n")
    k8s_valid(svc)
    path = tmp_path / "app.yaml"
    path.write_text(INGRESS + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
                    "spec: {sessionAffinity: ClientIP, selector: {app: web}, ports: [{port: 80}]}\n",
                    encoding="utf-8")
    out = run("--check", str(path), "--format", "json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    [svc_report] = [r for r in report["ingresses"] if r["kind"] == "Service"]
    assert [(f["severity"], f["field"]) for f in svc_report["findings"]] == [
        ("problem", "spec.sessionAffinity")]
    text = run("--check", str(path)).stdout
    assert f"{path}:14 Service web:\n  problem  spec.sessionAffinity: ClientIP pins" in text
