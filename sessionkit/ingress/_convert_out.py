"""Per-target output of ``--convert``: the documents and which source settings each one keeps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sessionkit.ingress import _aws, _envoy, _f5, _gateway, _traefik
from sessionkit.ingress._convert import Converted, Route, Source, account
from sessionkit.ingress._manifest import Backend, ingress_manifest, merge_patch

_LIFE = frozenset({"session-cookie-max-age", "session-cookie-expires"})
KEEPS: dict[str, frozenset[str]] = {
    "gateway": frozenset({"affinity", "session-cookie-name"}) | _LIFE,
    "traefik": frozenset({"affinity", "session-cookie-name", "session-cookie-samesite",
                          "session-cookie-secure"}) | _LIFE,
    "aws": frozenset({"affinity"}) | _LIFE,
    "f5": frozenset({"affinity", "session-cookie-name", "session-cookie-path",
                     "session-cookie-domain", "session-cookie-secure"}) | _LIFE,
    "emissary": frozenset({"affinity", "session-cookie-name", "session-cookie-path"}) | _LIFE,
    "istio": frozenset({"affinity", "session-cookie-name", "session-cookie-path"}) | _LIFE,
    "envoy-gateway": frozenset({"affinity", "session-cookie-name", "session-cookie-path",
                                "session-cookie-samesite", "session-cookie-secure"}) | _LIFE,
    "contour": frozenset({"affinity"}),
}
PINNED = ("gateway", "traefik", "aws", "f5")
NO_TLS = {
    "gateway": "TLS belongs to the Gateway's listener; reference the Secret there",
    "envoy-gateway": "TLS belongs to the Gateway's listener; reference the Secret there",
    "emissary": "TLS belongs to an Emissary Host resource; reference the Secret there",
    "istio": "TLS belongs to the Istio Gateway resource; reference the Secret there",
}
_REASONS = {
    "affinity-canary-behavior": "canary routing is not converted, so neither is its affinity",
    "session-cookie-change-on-failure": "no such setting: the target picks another pod when the "
                                        "pinned one fails",
    "session-cookie-conditional-samesite-none": "no such setting",
    "session-cookie-name": "the target names its cookie itself (ALB: AWSALB; Contour: "
                           "X-Contour-Session-Affinity)",
}


def reasons(target: str) -> dict[str, str]:
    """Why each setting the target does not keep is dropped."""
    mode = ("the target pins the cookie to one pod, as persistent does" if target in PINNED else
            "the target hashes the cookie onto a ring: on scale-out a share of users moves, as "
            "with balanced")
    extra = {}
    if target == "istio":
        why = ("Istio 1.28+ only (httpCookie.attributes, a field older Istio refuses): "
               "regenerate with sessionkit ingress --target istio --secure --samesite VALUE")
        extra = {"session-cookie-secure": why, "session-cookie-samesite": why}
    return {**_REASONS, "affinity-mode": f"no balanced/persistent choice; {mode}", **extra}


def _cookie(src: Source) -> str:
    return src.settings.get("session-cookie-name") or "INGRESSCOOKIE"


def _names(src: Source, count: int) -> list[str]:
    return [src.name] if count == 1 else [f"{src.name}-{i + 1}" for i in range(count)]


def _by_host(src: Source) -> dict[str, list[Route]]:
    hosts: dict[str, list[Route]] = {}
    for route in src.routes:
        hosts.setdefault(route.host, []).append(route)
    return hosts


def _prefix_only(src: Source, result: Converted) -> None:
    for r in src.routes:
        if r.path_type == "ImplementationSpecific":
            result.dropped.append((f"pathType ImplementationSpecific on {r.path}",
                                   "converted as a prefix match; check regex paths by hand"))


def _gw_backend(src: Source, r: Route, name: str) -> Backend:
    kind = "Exact" if r.path_type == "Exact" else "Prefix"
    return src.backend(Route(r.host, r.path, kind, r.service, r.port, r.tls_secret), name)


def _httproutes(src: Source, sp: dict[str, Any] | None) -> list[dict[str, Any]]:
    docs = []
    hosts = _by_host(src)
    o = _gateway.GatewayAffinity(session_name=_cookie(src), absolute_timeout=None,
                                 lifetime="Session")
    for name, routes in zip(_names(src, len(hosts)), hosts.values()):
        route = _gateway.httproute(o, _gw_backend(src, routes[0], name))
        route["spec"]["rules"] = []
        for r in routes:
            rule = _gateway.httproute(o, _gw_backend(src, r, name))["spec"]["rules"][0]
            del rule["sessionPersistence"]
            if sp is not None:
                rule["sessionPersistence"] = sp
            route["spec"]["rules"].append(rule)
        docs.append(route)
    return docs


def _gateway_docs(src: Source, result: Converted) -> None:
    _prefix_only(src, result)
    sp = None
    if "affinity" in src.settings:
        life = src.lifetime()
        o = _gateway.GatewayAffinity(session_name=_cookie(src),
                                     absolute_timeout=str(life) if life else None,
                                     lifetime="Permanent" if life else "Session")
        sp = _gateway.session_persistence(o)
    result.documents += _httproutes(src, sp)


def _ingress(src: Source, annotations: dict[str, str], ingress_class: str) -> dict[str, Any]:
    doc = ingress_manifest(src.backend(src.routes[0], src.name, ingress_class), annotations)
    rules: dict[str, list[Any]] = {}
    tls: dict[str, str] = {}
    for r in src.routes:
        one = ingress_manifest(src.backend(r, src.name, ingress_class), {})["spec"]
        rules.setdefault(r.host, []).extend(one["rules"][0]["http"]["paths"])
        if r.tls_secret:
            tls[r.host] = r.tls_secret
    doc["spec"]["rules"] = [{"host": h, "http": {"paths": p}} for h, p in rules.items()]
    doc["spec"].pop("tls", None)
    if tls:
        secrets: dict[str, list[str]] = {}
        for host, secret in tls.items():
            secrets.setdefault(secret, []).append(host)
        doc["spec"]["tls"] = [{"hosts": h, "secretName": s} for s, h in secrets.items()]
    return doc


def _traefik_docs(src: Source, result: Converted) -> None:
    result.documents.append(_ingress(src, {}, "traefik"))
    if "affinity" not in src.settings:
        return
    samesite = src.settings.get("session-cookie-samesite", "lax").lower()
    o = _traefik.TraefikAffinity(cookie_name=_cookie(src),
                                 secure=src.settings.get("session-cookie-secure") == "true",
                                 samesite=samesite if samesite in ("lax", "strict", "none")
                                 else "lax",  # type: ignore[arg-type]
                                 max_age=src.lifetime() or 172800)
    if src.lifetime() is None:
        result.dropped.append(("(session cookie)", "Traefik needs a max-age here: 172800 used"))
    result.notes.append("The Service documents are merge patches of your Services (kubectl patch "
                        "service NAME --type merge --patch-file FILE), not Services to apply.")
    for service in dict.fromkeys(r.service for r in src.routes):
        b = Backend(name=service, namespace=src.namespace)
        result.documents.append(merge_patch(b, _traefik.service_annotations(o), "Service", "v1"))


def _aws_docs(src: Source, result: Converted) -> None:
    ann = {}
    if "affinity" in src.settings:
        life = min(src.lifetime() or 172800, _aws.MAX_DURATION)
        ann = _aws.alb_annotations(_aws.AwsAffinity(duration=life))
    result.documents.append(_ingress(src, ann, "alb"))


def _f5_docs(src: Source, result: Converted) -> None:
    ann = {}
    if "affinity" in src.settings:
        values = [_f5.sticky_value(_f5.F5Affinity(
            service=svc, cookie_name=_cookie(src), expires=src.lifetime() or 172800,
            domain=src.settings.get("session-cookie-domain", ""),
            secure=src.settings.get("session-cookie-secure") == "true",
            path=src.settings.get("session-cookie-path", "/")))
            for svc in dict.fromkeys(r.service for r in src.routes)]
        ann = {_f5.ANNOTATION: ";".join(values)}
    result.documents.append(_ingress(src, ann, "nginx"))


def _envoy_cookie(src: Source) -> _envoy.EnvoyCookie:
    samesite = src.settings.get("session-cookie-samesite", "Lax").capitalize()
    samesite = samesite if samesite in ("Lax", "Strict", "None") else "Lax"
    secure = src.settings.get("session-cookie-secure") == "true"
    return _envoy.EnvoyCookie(cookie_name=_cookie(src), max_age=src.lifetime() or 0,
                              cookie_path=src.settings.get("session-cookie-path", "/"),
                              samesite=samesite, secure=secure or samesite == "None")


def _emissary_docs(src: Source, result: Converted) -> None:
    _prefix_only(src, result)
    for name, r in zip(_names(src, len(src.routes)), src.routes):
        doc = _envoy.mapping(_envoy_cookie(src), _gw_backend(src, r, name))
        if "affinity" not in src.settings:
            del doc["spec"]["load_balancer"]
        result.documents.append(doc)


def _istio_docs(src: Source, result: Converted) -> None:
    if "affinity" not in src.settings:
        return
    result.dropped.append(("spec.rules", "routing (Gateway, VirtualService) is not generated: "
                                         "only the DestinationRule that carries the affinity"))
    for service in dict.fromkeys(r.service for r in src.routes):
        b = Backend(name=service, namespace=src.namespace, service=service)
        result.documents.append(_envoy.destination_rule(_envoy_cookie(src), b))


def _envoy_gateway_docs(src: Source, result: Converted) -> None:
    _prefix_only(src, result)
    routes = _httproutes(src, None)
    result.documents += routes
    if "affinity" in src.settings:
        for route in routes:
            b = Backend(name=route["metadata"]["name"], namespace=src.namespace)
            result.documents.append(_envoy.backend_traffic_policy(_envoy_cookie(src), b))


def _contour_docs(src: Source, result: Converted) -> None:
    _prefix_only(src, result)
    hosts = _by_host(src)
    for name, routes in zip(_names(src, len(hosts)), hosts.values()):
        doc = _envoy.httpproxy(_gw_backend(src, routes[0], name))
        doc["spec"]["routes"] = [_envoy.httpproxy(_gw_backend(src, r, name))["spec"]["routes"][0]
                                 for r in routes]
        if "affinity" not in src.settings:
            for route in doc["spec"]["routes"]:
                del route["loadBalancerPolicy"]
        result.documents.append(doc)


BUILDERS: dict[str, Callable[[Source, Converted], None]] = {
    "gateway": _gateway_docs, "traefik": _traefik_docs, "aws": _aws_docs, "f5": _f5_docs,
    "emissary": _emissary_docs, "istio": _istio_docs, "envoy-gateway": _envoy_gateway_docs,
    "contour": _contour_docs,
}


def convert(src: Source, target: str) -> Converted:
    """Documents for ``target`` and the account of every setting of ``src``."""
    result = Converted()
    if src.canary:
        result.dropped.append((f"canary Ingress {src.name}", "canary routing is not converted: "
                               "express it as a weighted backend in the target"))
        account(src, frozenset(), target, result, reasons(target))
        return result
    BUILDERS[target](src, result)
    if target in NO_TLS:
        for secret in dict.fromkeys(r.tls_secret for r in src.routes if r.tls_secret):
            result.dropped.append((f"spec.tls secretName={secret}", NO_TLS[target]))
    account(src, KEEPS[target], target, result, reasons(target))
    return result
