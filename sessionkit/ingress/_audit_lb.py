"""``--check`` for Traefik, the AWS Load Balancer Controller and Gateway API HTTPRoutes: sticky
settings the controller ignores or that disagree with the app's session cookie (:mod:`._appcookie`).

Traefik reads ``traefik.ingress.kubernetes.io/service.sticky.cookie*`` from the **Service** (on an
Ingress they do nothing); the other keys do nothing unless ``sticky.cookie`` is true; ``maxage``
0 or unset is a browser-session cookie; ``samesite`` is matched case-sensitively. An IngressRoute
service's ``sticky.cookie`` takes ``name, secure, httpOnly, sameSite, maxAge, path``.
The ALB reads ``stickiness.*`` target-group attributes: nothing sticks unless
``stickiness.enabled=true``; durations are 1-604800 s (default 86400); ``app_cookie`` needs
``stickiness.app_cookie.cookie_name``; with ``target-type: instance`` (the default) it pins a node.
An HTTPRoute rule's ``sessionPersistence`` is checked against its CRD rules and, with
``lifetimeType: Session`` (the default), is a browser-session cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessionkit.ingress import _appcookie as app_
from sessionkit.ingress._appcookie import AppCookie
from sessionkit.ingress._aws import MAX_DURATION
from sessionkit.ingress._aws import PREFIX as ALB
from sessionkit.ingress._gateway import session_persistence_problems
from sessionkit.ingress._rules import GO_BOOLS, GO_TRUE
from sessionkit.ingress._traefik import PREFIX as TRAEFIK
from sessionkit.ingress._traps import annotations_of, sub
from sessionkit.ingress._validate import Finding

_SAMESITE = ("none", "lax", "strict")
_ALB_DEFAULT_DURATION = 86400


def traefik_on_ingress(doc: Mapping[str, Any]) -> list[Finding]:
    """Traefik sticky annotations put on an Ingress, where Traefik never reads them."""
    keys = [k for k in annotations_of(doc) if str(k).startswith(TRAEFIK)]
    return [Finding("problem", k, "Traefik reads sticky-cookie annotations from the Service, not "
                    "the Ingress: this does nothing; move it to the Service the Ingress routes to")
            for k in keys]


def traefik_service(doc: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    """A Service's Traefik sticky-cookie annotations."""
    ann = {k[len(TRAEFIK):].lstrip("."): v for k, v in annotations_of(doc).items()
           if str(k).startswith(TRAEFIK)}
    if not ann:
        return []
    found: list[Finding] = []
    enabled = ann.get("")
    if enabled not in GO_TRUE:
        state = "missing" if enabled is None else f"{enabled!r}, not true"
        found.append(Finding("problem", TRAEFIK, f"{state}: the other sticky.cookie.* annotations "
                             'do nothing unless this is "true"'))
    for key in ("secure", "httponly"):
        value = ann.get(key)
        if value is not None and value not in GO_BOOLS:
            found.append(Finding("problem", f"{TRAEFIK}.{key}",
                                 f"{value!r} is not a boolean; write \"true\" or \"false\""))
    samesite = ann.get("samesite")
    if samesite is not None and samesite not in _SAMESITE:
        found.append(Finding("problem", f"{TRAEFIK}.samesite", (
            f"{samesite!r}: Traefik matches none, lax or strict case-sensitively and otherwise "
            "sends no SameSite attribute")))
    return found + _traefik_cookie(f"{TRAEFIK}.", {
        "name": ann.get("name"), "secure": ann.get("secure") in GO_TRUE,
        "httponly": ann.get("httponly"), "maxage": ann.get("maxage"), "path": ann.get("path", "/"),
    }, app)


def ingressroute(doc: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    """Each IngressRoute service with a ``sticky`` object."""
    found: list[Finding] = []
    routes = sub(doc, "spec").get("routes")
    for r, route in enumerate(routes if isinstance(routes, list) else []):
        services = route.get("services") if isinstance(route, Mapping) else None
        for s, svc in enumerate(services if isinstance(services, list) else []):
            if not isinstance(svc, Mapping) or "sticky" not in svc:
                continue
            field = f"spec.routes[{r}].services[{s}].sticky"
            cookie = sub(sub(svc, "sticky"), "cookie")
            if not cookie:
                found.append(Finding("problem", field, "no cookie: sticky needs cookie: {...}"))
                continue
            found += _traefik_cookie(f"{field}.cookie.", {
                "name": cookie.get("name"), "secure": cookie.get("secure") is True,
                "httponly": cookie.get("httpOnly"), "maxage": cookie.get("maxAge"),
                "path": cookie.get("path", "/")}, app)
    return found


def _traefik_cookie(field: str, c: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    maxage = c["maxage"]
    try:
        seconds: float | None = int(str(maxage)) if maxage is not None else None
    except ValueError:
        return [Finding("problem", f"{field}maxage", f"{maxage!r} is not a whole number of seconds")]
    return (app_.name(f"{field}name", c["name"], app)
            + app_.lifetime(f"{field}maxage", seconds, app, "set maxage to at least the app's")
            + app_.path(f"{field}path", c["path"], app)
            + app_.secure(f"{field}secure", c["secure"], app, "set secure to true"))


def alb_ingress(doc: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    """An ALB Ingress's stickiness target-group attributes and its target type."""
    ann = annotations_of(doc)
    key = f"{ALB}/target-group-attributes"
    raw = ann.get(key)
    attrs = dict(item.strip().partition("=")[::2] for item in str(raw or "").split(",") if item.strip())
    if not any(k.startswith("stickiness.") for k in attrs):
        return [Finding("problem", key, "no stickiness attributes: the ALB does not pin users "
                        "(sessionkit ingress --target aws)")]
    found: list[Finding] = []
    if attrs.get("stickiness.enabled") != "true":
        found.append(Finding("problem", key, "stickiness.enabled is not true: the other "
                             "stickiness attributes do nothing"))
    kind = attrs.get("stickiness.type", "lb_cookie")
    if kind not in ("lb_cookie", "app_cookie"):
        found.append(Finding("problem", key, f"stickiness.type={kind}: use lb_cookie or app_cookie"))
        return found
    if kind == "app_cookie":
        cookie = attrs.get("stickiness.app_cookie.cookie_name")
        if not cookie:
            found.append(Finding("problem", key, "stickiness.type=app_cookie needs "
                                 "stickiness.app_cookie.cookie_name (the cookie your app sets)"))
    duration_key = f"stickiness.{kind}.duration_seconds"
    text = attrs.get(duration_key, str(_ALB_DEFAULT_DURATION))
    if not text.isdigit() or not 1 <= int(text) <= MAX_DURATION:
        found.append(Finding("problem", key, f"{duration_key}={text}: the ALB accepts 1-"
                             f"{MAX_DURATION} seconds and the controller fails to reconcile"))
    else:
        found += app_.lifetime(f"{key} {duration_key}", int(text), app,
                               f"raise {duration_key} (at most {MAX_DURATION})")
    target = ann.get(f"{ALB}/target-type", "instance")
    if target != "ip":
        found.append(Finding("problem", f"{ALB}/target-type", (
            f"{target!r}{' (the default)' if f'{ALB}/target-type' not in ann else ''}: the ALB "
            "pins a node and kube-proxy still spreads its requests across pods; use \"ip\"")))
    return found


def httproute(doc: Mapping[str, Any], app: AppCookie) -> list[Finding]:
    """Each HTTPRoute rule's ``sessionPersistence``."""
    found: list[Finding] = []
    rules = sub(doc, "spec").get("rules")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        sp = sub(rule, "sessionPersistence") if isinstance(rule, Mapping) else {}
        if not sp:
            continue
        field = f"spec.rules[{i}].sessionPersistence"
        problems = session_persistence_problems(sp)
        found += [Finding("problem", field, p) for p in problems]
        if problems or sp.get("type", "Cookie") != "Cookie":
            continue
        found += app_.name(f"{field}.sessionName", sp.get("sessionName"), app)
        permanent = sub(sp, "cookieConfig").get("lifetimeType") == "Permanent"
        found += app_.lifetime(f"{field}.cookieConfig.lifetimeType",
                               app_.go_seconds(sp.get("absoluteTimeout")) if permanent else None, app,
                               "use lifetimeType: Permanent with an absoluteTimeout of at least the app's")
    return found
