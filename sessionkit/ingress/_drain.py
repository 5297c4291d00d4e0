"""``--drain``: pods that leave the balancer before they stop, and an audit of Deployments for it.

A pod being deleted (deploy, scale-in, node drain) is removed from the balancer asynchronously:
an ingress controller sees the endpoint change within seconds; an ALB keeps sending new requests
to a draining target for tens of seconds (field report: a 30 s preStop sleep and a ~2 min grace
period were needed). Until then the pod must keep serving, so the container sleeps in preStop
for at least the balancer's deregistration delay, and the grace period covers that sleep plus the
longest in-flight request plus the app's own shutdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sessionkit.ingress import _validate as v
from sessionkit.ingress._validate import AffinityConfigError, Finding

# Seconds the balancer may still send new requests after the pod starts terminating.
DEFAULT_DELAY = {"aws": 30}
IN_CLUSTER_DELAY = 10
SHUTDOWN_MARGIN = 30
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
MAX_DELAY = 3600


@dataclass(frozen=True)
class DrainPlan:
    """Drain timings derived from the target and the balancer's deregistration delay."""

    target: str = "nginx"
    deregistration_delay: int | None = None
    request_timeout: int = 30

    def __post_init__(self) -> None:
        if self.deregistration_delay is not None:
            object.__setattr__(self, "deregistration_delay", v.positive_seconds(
                self.deregistration_delay, "--deregistration-delay", MAX_DELAY))
        object.__setattr__(self, "request_timeout",
                           v.positive_seconds(self.request_timeout, "--request-timeout", MAX_DELAY))

    @property
    def delay(self) -> int:
        """The deregistration delay in force (given, else the target's default)."""
        given = self.deregistration_delay
        return given if given is not None else DEFAULT_DELAY.get(self.target, IN_CLUSTER_DELAY)

    @property
    def pre_stop(self) -> int:
        """preStop sleep: at least the deregistration delay."""
        return self.delay

    @property
    def grace(self) -> int:
        """terminationGracePeriodSeconds: the sleep, the longest request and the shutdown."""
        return self.pre_stop + self.request_timeout + SHUTDOWN_MARGIN

    def reasons(self) -> tuple[str, ...]:
        """The comment lines explaining every number."""
        source = ("--deregistration-delay" if self.deregistration_delay is not None else
                  "the ALB keeps routing to a draining pod for tens of seconds; set the Ingress "
                  "annotation alb.ingress.kubernetes.io/target-group-attributes to include "
                  f"deregistration_delay.timeout_seconds={self.delay} (the default is 300)"
                  if self.target == "aws" else
                  "the controller drops the endpoint within seconds of the pod terminating")
        lines = [
            f"deregistration delay {self.delay}s ({source}).",
            f"preStop sleep {self.pre_stop}s: the pod keeps serving while the balancer still sends "
            "new requests to it.",
            f"terminationGracePeriodSeconds {self.grace} = {self.pre_stop}s sleep + "
            f"{self.request_timeout}s longest in-flight request (--request-timeout) + "
            f"{SHUTDOWN_MARGIN}s for the app to shut down.",
            "maxUnavailable 0: a rolling update starts a new pod before an old one stops.",
            "The PodDisruptionBudget keeps node drains from taking down more than one pod at once.",
            "Sessions pinned to the stopping pod are still lost with in-process sessions: drain only",
            "avoids failed requests; sessionkit's Redis sessions keep the users logged in.",
        ]
        if self.target == "aws":
            lines.insert(4, f"ALB IP mode: label the namespace {READINESS_GATE_LABEL}=enabled so a "
                            "rollout waits until new pods are registered and healthy in the ALB.")
        return tuple(lines)


def deployment_patch(plan: DrainPlan, name: str, namespace: str | None,
                     container: str) -> dict[str, Any]:
    """A strategic-merge patch (containers merge by name) adding preStop and the grace period."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"spec": {
                "terminationGracePeriodSeconds": plan.grace,
                "containers": [{"name": container,
                                "lifecycle": {"preStop": {"sleep": {"seconds": plan.pre_stop}}}}],
            }},
        },
    }


def pod_disruption_budget(name: str, namespace: str | None,
                          selector: dict[str, str]) -> dict[str, Any]:
    """A ``policy/v1`` PodDisruptionBudget allowing one pod down at a time."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta,
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}}}


def namespace_patch(namespace: str) -> dict[str, Any]:
    """The Namespace label that turns on ALB pod readiness gates."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {READINESS_GATE_LABEL: "enabled"}}}


def _pre_stop_seconds(container: Mapping[str, Any]) -> int | None:
    pre = ((container.get("lifecycle") or {}).get("preStop") or {})
    if isinstance(pre.get("sleep"), Mapping):
        seconds = pre["sleep"].get("seconds")
        return int(seconds) if isinstance(seconds, int) else None
    command = (pre.get("exec") or {}).get("command") or []
    words = " ".join(str(c) for c in command).split()
    if "sleep" in words and words.index("sleep") + 1 < len(words):
        arg = words[words.index("sleep") + 1].rstrip(";")
        return int(arg) if arg.isdigit() else None
    return None


def audit_deployment(doc: Mapping[str, Any], plan: DrainPlan, has_pdb: bool,
                     namespace_labels: Mapping[str, Any] | None) -> list[Finding]:
    """Drain findings for one Deployment; ``namespace_labels`` when its Namespace is in the file."""
    spec = doc.get("spec") or {}
    pod = ((spec.get("template") or {}).get("spec") or {})
    containers = [c for c in pod.get("containers") or [] if isinstance(c, Mapping)]
    if not containers:
        raise AffinityConfigError("Deployment without spec.template.spec.containers")
    found: list[Finding] = []
    sleeps = [s for s in (_pre_stop_seconds(c) for c in containers) if s is not None]
    longest = max(sleeps, default=0)
    if longest < plan.pre_stop:
        found.append(Finding(
            "problem", "lifecycle.preStop",
            (f"preStop sleeps {longest}s" if sleeps else "no preStop sleep")
            + f"; the balancer may send new requests for {plan.delay}s after the pod starts "
            f"terminating, and those fail (502). Sleep at least {plan.pre_stop}s "
            "(sessionkit ingress --drain)"))
    grace = int(pod.get("terminationGracePeriodSeconds", 30))
    sleep = max(longest, plan.pre_stop)  # the sleep the pod has, or the one it needs if longer
    need = sleep + plan.request_timeout
    if grace < need:
        found.append(Finding(
            "problem", "terminationGracePeriodSeconds",
            f"{grace}s does not cover the preStop sleep of {sleep}s plus the longest in-flight "
            f"request of {plan.request_timeout}s (--request-timeout), {need}s in all; the kubelet "
            f"kills requests in flight. Use {need + SHUTDOWN_MARGIN} ({SHUTDOWN_MARGIN}s more for "
            "the app to shut down)"))
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    if str(rolling.get("maxUnavailable", "25%")) not in ("0", "0%"):
        found.append(Finding(
            "warning", "spec.strategy.rollingUpdate.maxUnavailable",
            "not 0: a rolling update stops old pods before new ones are ready, so capacity dips "
            "and users pinned to the stopped pods move at once"))
    if not has_pdb:
        found.append(Finding("warning", "PodDisruptionBudget",
                             "none in the file selects these pods: a node drain may stop them all "
                             "at once"))
    if plan.target == "aws" and (namespace_labels or {}).get(READINESS_GATE_LABEL) != "enabled":
        where = ("its Namespace in this file lacks" if namespace_labels is not None
                 else "check that its Namespace has")
        found.append(Finding(
            "warning", READINESS_GATE_LABEL,
            f"ALB IP mode: {where} the label {READINESS_GATE_LABEL}=enabled; without the "
            "readiness gate a rollout can finish before the ALB has registered the new pods"))
    return found
