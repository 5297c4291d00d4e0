"""Gateway API ``HTTPRoute`` rule ``sessionPersistence`` (GEP-1619, experimental channel).

Field shape of the released experimental CRDs v1.1 to v1.6: ``sessionName`` (max 128 chars),
``type`` Cookie|Header, ``absoluteTimeout`` (a Duration, pattern
``^([0-9]{1,5}(h|m|s|ms)){1,4}$``), ``cookieConfig.lifetimeType`` Permanent|Session, and two CEL
rules: Permanent needs ``absoluteTimeout``; ``cookieConfig`` only with ``type: Cookie``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sessionkit.ingress import _validate as v
from sessionkit.ingress._manifest import Backend, metadata
from sessionkit.ingress._validate import GATEWAY_DURATION, AffinityConfigError

LifetimeType = Literal["Permanent", "Session"]
NOTE: tuple[str, ...] = (
    "sessionPersistence exists only in the Gateway API experimental channel (v1.1-v1.6):",
    "install the experimental CRDs and use an implementation that supports it.",
)


def gateway_duration(value: str | int, field: str = "--absolute-timeout") -> str:
    """Accept seconds (``172800``) or a Duration (``48h``); return the Duration text."""
    text = str(value)
    if re.fullmatch(r"[0-9]+", text):
        return v.format_gateway_duration(v.positive_seconds(text, field))
    if not GATEWAY_DURATION.fullmatch(text):
        raise AffinityConfigError(
            f"{field}: {value!r} is not a Gateway API Duration: at most 5 digits per unit and "
            "units h, m, s, ms (172800s must be written 48h)"
        )
    if not any(int(n) for n in re.findall(r"[0-9]+", text)):
        raise AffinityConfigError(f"{field}: {value!r} is zero; the session would never stick")
    return text


@dataclass(frozen=True)
class GatewayAffinity:
    """Validated options of one rule's ``sessionPersistence``."""

    session_name: str = "route"
    absolute_timeout: str | None = "48h"
    lifetime: LifetimeType = "Permanent"
    gateway: str = "gateway"
    gateway_namespace: str | None = None

    def __post_init__(self) -> None:
        v.cookie_name(self.session_name, "--cookie-name")
        if len(self.session_name) > 128:
            raise AffinityConfigError("--cookie-name: sessionName is limited to 128 characters")
        if self.absolute_timeout is not None:
            object.__setattr__(self, "absolute_timeout", gateway_duration(self.absolute_timeout))
        if self.lifetime not in ("Permanent", "Session"):
            raise AffinityConfigError(
                f"--lifetime: {self.lifetime!r} is not accepted; use Permanent or Session"
            )
        if self.lifetime == "Permanent" and self.absolute_timeout is None:
            raise AffinityConfigError(
                "--absolute-timeout: required when --lifetime is Permanent (CRD rule)"
            )
        v.object_name(self.gateway, "--gateway")
        if self.gateway_namespace is not None:
            v.dns1123_label(self.gateway_namespace, "--gateway-namespace")


def session_persistence(o: GatewayAffinity) -> dict[str, Any]:
    """The ``sessionPersistence`` object of one HTTPRoute rule."""
    sp: dict[str, Any] = {"sessionName": o.session_name, "type": "Cookie"}
    if o.absolute_timeout is not None:
        sp["absoluteTimeout"] = o.absolute_timeout
    sp["cookieConfig"] = {"lifetimeType": o.lifetime}
    return sp


def httproute(o: GatewayAffinity, b: Backend) -> dict[str, Any]:
    """A complete ``gateway.networking.k8s.io/v1`` HTTPRoute with session persistence."""
    if not isinstance(b.port, int):
        raise AffinityConfigError(f"--port: {b.port!r}: HTTPRoute backendRefs need a port number")
    match_type = {"Prefix": "PathPrefix", "Exact": "Exact"}.get(b.path_type)
    if match_type is None:
        raise AffinityConfigError("--path-type: HTTPRoute paths accept Prefix or Exact")
    parent: dict[str, Any] = {"name": o.gateway}
    if o.gateway_namespace is not None:
        parent["namespace"] = o.gateway_namespace
    rule = {
        "matches": [{"path": {"type": match_type, "value": b.path}}],
        "backendRefs": [{"name": b.service, "port": b.port}],
        "sessionPersistence": session_persistence(o),
    }
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": metadata(b),
        "spec": {"parentRefs": [parent], "hostnames": [b.host], "rules": [rule]},
    }


def session_persistence_problems(sp: Mapping[str, Any]) -> list[str]:
    """Check a ``sessionPersistence`` object against the v1.6.1 experimental CRD schema and CEL."""
    problems: list[str] = []
    allowed = {"sessionName", "type", "absoluteTimeout", "cookieConfig"}
    problems += [f"unknown field {k!r}" for k in sp if k not in allowed]
    name = sp.get("sessionName")
    if name is not None and (not isinstance(name, str) or len(name) > 128):
        problems.append("sessionName must be a string of at most 128 characters")
    kind = sp.get("type", "Cookie")
    if kind not in ("Cookie", "Header"):
        problems.append("type must be Cookie or Header")
    for key in ("absoluteTimeout",):
        value = sp.get(key)
        if value is not None and not (isinstance(value, str) and GATEWAY_DURATION.fullmatch(value)):
            problems.append(f"{key} {value!r} does not match ^([0-9]{{1,5}}(h|m|s|ms)){{1,4}}$")
    cookie = sp.get("cookieConfig")
    if cookie is not None:
        if not isinstance(cookie, Mapping) or set(cookie) - {"lifetimeType"}:
            problems.append("cookieConfig accepts only lifetimeType")
        elif cookie.get("lifetimeType", "Session") not in ("Permanent", "Session"):
            problems.append("cookieConfig.lifetimeType must be Permanent or Session")
        elif cookie.get("lifetimeType") == "Permanent" and "absoluteTimeout" not in sp:
            problems.append("AbsoluteTimeout must be specified when cookie lifetimeType is Permanent")
        if kind != "Cookie":
            problems.append("cookieConfig can only be set with type Cookie")
    return problems
