"""AWS Load Balancer Controller: ALB target-group stickiness on an Ingress.

``alb.ingress.kubernetes.io/target-group-attributes`` carries the ELBv2 target group attributes
``stickiness.enabled``, ``stickiness.type`` (``lb_cookie`` or ``app_cookie``),
``stickiness.lb_cookie.duration_seconds`` / ``stickiness.app_cookie.duration_seconds``
(1-604800) and ``stickiness.app_cookie.cookie_name``. Stickiness pins a *target*: with the
default ``target-type: instance`` the target is a node and kube-proxy still picks the pod, so
``target-type: ip`` is always emitted with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sessionkit.ingress import _validate as v
from sessionkit.ingress._validate import AffinityConfigError

StickinessType = Literal["lb_cookie", "app_cookie"]
PREFIX = "alb.ingress.kubernetes.io"
MAX_DURATION = 604800
RESERVED_PREFIXES = ("AWSALB", "AWSALBAPP", "AWSALBTG")
NOTE: tuple[str, ...] = (
    "target-type ip: the ALB pins pods directly; with instance targets it pins a node and",
    "kube-proxy spreads requests across pods anyway. Deleted pods drain for the target",
    "group's deregistration delay; give pods a preStop sleep so in-flight requests finish.",
)


@dataclass(frozen=True)
class AwsAffinity:
    """Validated ALB stickiness options."""

    stickiness: StickinessType = "lb_cookie"
    duration: int = 172800
    app_cookie: str | None = None

    def __post_init__(self) -> None:
        if self.stickiness not in ("lb_cookie", "app_cookie"):
            raise AffinityConfigError(
                f"--stickiness: {self.stickiness!r} is not accepted; use lb_cookie or app_cookie"
            )
        v.positive_seconds(self.duration, "--max-age", MAX_DURATION)
        if self.stickiness == "app_cookie":
            if self.app_cookie is None:
                raise AffinityConfigError(
                    "--app-cookie: required with --stickiness app_cookie (the cookie your app sets)"
                )
            v.cookie_name(self.app_cookie, "--app-cookie")
            if self.app_cookie.upper().startswith(RESERVED_PREFIXES):
                raise AffinityConfigError(
                    f"--app-cookie: {self.app_cookie!r} starts with a name the ALB reserves "
                    "(AWSALB, AWSALBAPP, AWSALBTG)"
                )


def alb_annotations(o: AwsAffinity) -> dict[str, str]:
    """``target-type: ip`` and the stickiness target-group attributes."""
    if o.stickiness == "lb_cookie":
        attrs = [
            "stickiness.enabled=true",
            "stickiness.type=lb_cookie",
            f"stickiness.lb_cookie.duration_seconds={o.duration}",
        ]
    else:
        attrs = [
            "stickiness.enabled=true",
            "stickiness.type=app_cookie",
            f"stickiness.app_cookie.cookie_name={o.app_cookie}",
            f"stickiness.app_cookie.duration_seconds={o.duration}",
        ]
    return {
        f"{PREFIX}/target-type": "ip",
        f"{PREFIX}/target-group-attributes": ",".join(attrs),
    }
