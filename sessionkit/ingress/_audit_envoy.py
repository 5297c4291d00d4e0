"""``--check`` for the Envoy-based targets: cookie hashing that does not pin, or that disagrees
with the app's session cookie (see :mod:`._appcookie`).

Envoy's cookie hash policy (under all four) generates the cookie only when a ``ttl`` is set, a
``ttl`` of 0 giving a browser-session cookie; without one only requests that already carry the
cookie are pinned. Without a Path the browser scopes the generated cookie to the first URL's
directory. Istio 1.28+ and Envoy Gateway take extra ``attributes`` (``Secure``); Emissary and
Contour cannot set Secure. Emissary applies ``load_balancer`` only with an endpoint resolver and
hashes the cookie only for ``ring_hash`` and ``maglev``. Contour's ``Cookie`` strategy (matched
exactly; anything else is round robin) uses a fixed browser-session cookie.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sessionkit.ingress import _appcookie as app_
from sessionkit.ingress._appcookie import AppCookie
from sessionkit.ingress._envoy import COOKIE_CONTOUR
from sessionkit.ingress._traps import sub
from sessionkit.ingress._validate import Finding

_NO_TTL = ("no ttl: Envoy generates the cookie only when a ttl is set, so only requests that "
           "already carry it are pinned and nobody else is; set a ttl (sessionkit ingress --target {t})")


def _hash_cookie(field: str, cookie: Mapping[str, Any], app: AppCookie, target: str,
                 path: object, secure: bool | None) -> list[Finding]:
    """One Envoy hash-policy cookie: name, ttl, Path and (when settable) Secure."""
    found = app_.name(f"{field}.name", cookie.get("name"), app)
    ttl = cookie.get("ttl")
    if ttl is None:
        return [*found, Finding("problem", f"{field}.ttl", _NO_TTL.format(t=target))]
    seconds = app_.go_seconds(ttl)
    if seconds is None:
        return [*found, Finding("problem", f"{field}.ttl", f"{ttl!r} is not a duration such as 48h")]
    found += app_.lifetime(f"{field}.ttl", seconds, app, "set the ttl to at least the app's")
    found += app_.path(f"{field}.path" if target != "envoy-gateway" else f"{field}.attributes.Path",
                       path, app)
    if secure is not None:
        how = ("add attributes: [{name: Secure}] (Istio 1.28+; sessionkit ingress --target istio "
               "--secure)" if target == "istio" else "add Secure to attributes")
        found += app_.secure(f"{field}.attributes", secure, app, how)
    return found


def _istio_policies(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every trafficPolicy of a DestinationRule (top level, subsets, port-level settings)."""
    policies: list[tuple[str, Any]] = [("spec.trafficPolicy", spec.get("trafficPolicy"))]
    subsets = spec.get("subsets")
    for i, subset in enumerate(subsets if isinstance(subsets, list) else []):
        if isinstance(subset, Mapping):
            policies.append((f"spec.subsets[{i}].trafficPolicy", subset.get("trafficPolicy")))
    for where, policy in list(policies):
        ports = policy.get("portLevelSettings") if isinstance(policy, Mapping) else None
        for i, port in enumerate(ports if isinstance(ports, list) else []):
            policies.append((f"{where}.portLevelSettings[{i}]", port))
    for where, policy in policies:
        if isinstance(policy, Mapping):
            yield where, policy


def destination_rule(doc: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    """An Istio DestinationRule's cookie consistent hashes."""
    found: list[Finding] = []
    for where, policy in _istio_policies(sub(doc, "spec")):
        cookie = sub(sub(sub(policy, "loadBalancer"), "consistentHash"), "httpCookie")
        if cookie:
            attrs = cookie.get("attributes")
            attrs = attrs if isinstance(attrs, list) else []
            names = {a.get("name") for a in attrs if isinstance(a, Mapping)}
            found += _hash_cookie(f"{where}.loadBalancer.consistentHash.httpCookie", cookie, app,
                                  "istio", cookie.get("path"), "Secure" in names)
    return found


def backend_traffic_policy(doc: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    """An Envoy Gateway BackendTrafficPolicy's cookie consistent hash."""
    lb = sub(sub(doc, "spec"), "loadBalancer")
    ch = sub(lb, "consistentHash")
    field = "spec.loadBalancer"
    if not ch or ch.get("type") != "Cookie":
        return []
    if lb.get("type") != "ConsistentHash":
        return [Finding("problem", f"{field}.type", f"{lb.get('type')!r}: consistentHash is used "
                        "only with type ConsistentHash; nothing is pinned")]
    cookie = sub(ch, "cookie")
    if not cookie:
        return [Finding("problem", f"{field}.consistentHash.cookie",
                        "missing: type Cookie needs cookie: {name, ttl}")]
    attrs = sub(cookie, "attributes")
    return _hash_cookie(f"{field}.consistentHash.cookie", cookie, app, "envoy-gateway",
                        attrs.get("Path"), "Secure" in attrs)


def mapping(doc: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    """An Emissary-ingress Mapping's ``load_balancer`` cookie."""
    spec = sub(doc, "spec")
    lb = sub(spec, "load_balancer")
    cookie = sub(lb, "cookie")
    if not cookie:
        return []
    field = "spec.load_balancer"
    policy = lb.get("policy")
    if policy not in ("ring_hash", "maglev"):
        return [Finding("problem", f"{field}.policy", f"{policy!r}: the cookie is hashed only with "
                        "ring_hash or maglev; nothing is pinned")]
    found: list[Finding] = []
    if "resolver" not in spec:
        found.append(Finding("warning", "spec.resolver", (
            "missing: load_balancer is applied only with a KubernetesEndpointResolver; unless the "
            "ambassador Module makes one the default, nothing is pinned (set resolver: endpoint)")))
    return found + _hash_cookie(f"{field}.cookie", cookie, app, "emissary", cookie.get("path"), None)


def httpproxy(doc: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    """A Contour HTTPProxy's per-route load-balancer policies."""
    routes = sub(doc, "spec").get("routes")
    strategies = [(i, sub(r, "loadBalancerPolicy").get("strategy")) for i, r in
                  enumerate(routes if isinstance(routes, list) else []) if isinstance(r, Mapping)]
    found: list[Finding] = []
    for i, strategy in strategies:
        if isinstance(strategy, str) and strategy != "Cookie" and strategy.lower() == "cookie":
            found.append(Finding("problem", f"spec.routes[{i}].loadBalancerPolicy.strategy", (
                f"{strategy!r} is not \"Cookie\": Contour matches it exactly and otherwise uses "
                "round robin")))
    pinned = [i for i, s in strategies if s == "Cookie"]
    if pinned:
        found += [Finding("warning", f"spec.routes[{i}].loadBalancerPolicy", (
            f"no Cookie strategy while route {pinned[0]} has one: requests on this route are not "
            "pinned and land on any pod")) for i, s in strategies if i not in pinned]
        found += app_.lifetime(f"spec.routes[{pinned[0]}].loadBalancerPolicy", None, app, (
            f"Contour's {COOKIE_CONTOUR} cannot be given a lifetime: keep the sessions out of "
            "the process, or use a target whose cookie can (envoy-gateway, istio)"))
    return found
