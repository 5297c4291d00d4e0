"""``--drain``: Deployment patch, PodDisruptionBudget and readiness gate; ``--check`` on Deployments."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from _ingress_support import k8s_valid, run
from ruamel.yaml import YAML

from sessionkit.ingress._drain import DrainPlan, audit_deployment
from sessionkit.ingress._validate import AffinityConfigError

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                 {"name": "web", "image": "shop:1.2", "ports": [{"containerPort": 8080}]},
                 {"name": "sidecar", "image": "proxy:3"}]}}},
}


def strategic_merge(base: Any, patch: Any) -> Any:
    """Kubernetes' strategic merge for what the drain patch uses: maps merge, containers by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if key == "containers":
                merged = [dict(c) for c in base.get(key, [])]
                for item in value:
                    match = next((c for c in merged if c["name"] == item["name"]), None)
                    if match is None:
                        merged.append(item)
                    else:
                        merged[merged.index(match)] = strategic_merge(match, item)
                out[key] = merged
            else:
                out[key] = strategic_merge(base.get(key), value)
        return out
    return copy.deepcopy(patch)


def drain_docs(*args: str) -> list[dict[str, Any]]:
    out = run("--drain", *args)
    assert out.returncode == 0, out.stderr
    return [d for d in YAML(typ="safe").load_all(out.stdout) if d is not None]


def test_aws_drain_values_follow_the_alb_field_report() -> None:
    patch, pdb, namespace = drain_docs("--target", "aws", "--name", "web", "--namespace", "shop")
    pod = patch["spec"]["template"]["spec"]
    assert pod["containers"] == [{"name": "web", "lifecycle": {"preStop": {"sleep": {"seconds": 30}}}}]
    assert pod["terminationGracePeriodSeconds"] == 90  # 30 sleep + 30 request + 30 shutdown
    assert patch["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    assert namespace["metadata"]["labels"] == {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}
    merged = strategic_merge(DEPLOYMENT, patch)
    assert merged["spec"]["template"]["spec"]["containers"][1] == {"name": "sidecar",
                                                                  "image": "proxy:3"}
    for doc in (merged, pdb, namespace):
        k8s_valid(doc)
    assert audit_deployment(merged, DrainPlan("aws"), True,
                            namespace["metadata"]["labels"]) == []


@pytest.mark.parametrize(("args", "sleep", "grace"), [
    (["--target", "nginx"], 10, 70),
    (["--target", "aws", "--deregistration-delay", "60", "--request-timeout", "45"], 60, 135),
    (["--target", "istio", "--deregistration-delay", "5"], 5, 65),
])
def test_values_derive_from_target_and_delay(args: list[str], sleep: int, grace: int) -> None:
    patch = drain_docs(*args)[0]
    pod = patch["spec"]["template"]["spec"]
    assert pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"] == sleep
    assert pod["terminationGracePeriodSeconds"] == grace
    out = run("--drain", *args)
    assert f"# preStop sleep {sleep}s" in out.stdout
    assert f"# terminationGracePeriodSeconds {grace} = " in out.stdout
    k8s_valid(strategic_merge({**DEPLOYMENT, "metadata": {"name": "app"}}, patch))


def test_drain_refusals() -> None:
    for args, message in [
        (["--deregistration-delay", "0"], "--deregistration-delay"),
        (["--deregistration-delay", "99999"], "too large"),
        (["--name", "Web"], "--name"),
        (["--selector", "app"], "--selector"),
    ]:
        out = run("--drain", *args)
        assert out.returncode == 2, args
        assert message in out.stderr
    with pytest.raises(AffinityConfigError):
        DrainPlan(request_timeout=0)


def test_audit_finds_every_missing_piece() -> None:
    found = audit_deployment(DEPLOYMENT, DrainPlan("aws"), False, {})
    assert [(f.severity, f.field) for f in found] == [
        ("problem", "lifecycle.preStop"),
        ("problem", "terminationGracePeriodSeconds"),
        ("warning", "spec.strategy.rollingUpdate.maxUnavailable"),
        ("warning", "PodDisruptionBudget"),
        ("warning", "elbv2.k8s.aws/pod-readiness-gate-inject"),
    ]
    assert "the balancer may send new requests for 30s" in found[0].message
    exec_sleep = strategic_merge(DEPLOYMENT, {"spec": {"strategy": {"rollingUpdate": {
        "maxUnavailable": 0}}, "template": {"spec": {"terminationGracePeriodSeconds": 120,
        "containers": [{"name": "web", "lifecycle": {"preStop": {"exec": {
            "command": ["/bin/sh", "-c", "sleep 40"]}}}}]}}}})
    assert audit_deployment(exec_sleep, DrainPlan("aws"), True, None)[0].field == \
        "elbv2.k8s.aws/pod-readiness-gate-inject"
    assert audit_deployment(exec_sleep, DrainPlan("nginx"), True, None) == []


def test_check_cli_audits_deployments_with_the_pdb_in_the_file(tmp_path: Path) -> None:
    patch, pdb = drain_docs("--name", "web", "--namespace", "shop")
    merged = strategic_merge(DEPLOYMENT, patch)
    path = tmp_path / "app.json.yaml"
    path.write_text(json.dumps(merged) + "\n---\n" + json.dumps(pdb) + "\n", encoding="utf-8")
    out = run("--check", str(path), "--format", "json")
    assert out.returncode == 0, out.stdout
    [report] = json.loads(out.stdout)["ingresses"]
    assert (report["kind"], report["findings"]) == ("Deployment", [])
    path.write_text(json.dumps(DEPLOYMENT) + "\n", encoding="utf-8")
    out = run("--check", str(path), "--target", "aws")
    assert out.returncode == 1
    assert "Deployment shop/web:\n  problem  lifecycle.preStop: no preStop sleep" in out.stdout


def test_grace_period_message_names_its_parts(tmp_path: Path) -> None:
    """The number it asks the grace period to cover is the preStop sleep plus the longest request,
    each named, so it cannot be read as the request timeout."""
    path = tmp_path / "deploy.yaml"
    path.write_text(json.dumps(DEPLOYMENT) + "\n", encoding="utf-8")
    out = run("--check", str(path), "--target", "aws", "--request-timeout", "45")
    assert out.returncode == 1
    assert ("  problem  terminationGracePeriodSeconds: 30s does not cover the preStop sleep of 30s plus "
            "the longest in-flight request of 45s (--request-timeout), 75s in all; the kubelet kills "
            "requests in flight. Use 105 (30s more for the app to shut down)\n") in out.stdout


def test_grace_period_advice_covers_a_sleep_longer_than_needed() -> None:
    """A preStop sleep longer than the deregistration delay: the advised grace period covers that
    sleep, not the shorter one --drain would emit."""
    long_sleep = strategic_merge(DEPLOYMENT, {"spec": {"template": {"spec": {
        "terminationGracePeriodSeconds": 120,
        "containers": [{"name": "web", "lifecycle": {"preStop": {"sleep": {"seconds": 100}}}}]}}}})
    [grace] = [f for f in audit_deployment(long_sleep, DrainPlan("aws"), True, None)
               if f.field == "terminationGracePeriodSeconds"]
    assert "the preStop sleep of 100s plus the longest in-flight request of 30s" in grace.message
    assert grace.message.endswith("Use 160 (30s more for the app to shut down)")
