"""Envoy-based controllers: Emissary-ingress, Istio, Envoy Gateway and Contour cookie hashing.

Field shapes, from each project's CRD:
- Emissary-ingress ``getambassador.io/v3alpha1`` Mapping: ``load_balancer.policy`` (round_robin,
  ring_hash, maglev, least_request; required) and ``load_balancer.cookie`` {name (required), path,
  ttl}; a Mapping needs ``prefix`` and ``service``.
- Istio ``networking.istio.io/v1`` DestinationRule:
  ``trafficPolicy.loadBalancer.consistentHash.httpCookie`` {name (required), path, ttl, and since
  Istio 1.28 attributes [{name, value}]}.
- Envoy Gateway ``gateway.envoyproxy.io/v1alpha1`` BackendTrafficPolicy: ``loadBalancer`` {type:
  ConsistentHash, consistentHash: {type: Cookie, cookie: {name, ttl, attributes}}}, attached by
  ``targetRefs`` to an HTTPRoute.
- Contour ``projectcontour.io/v1`` HTTPProxy: ``routes[].loadBalancerPolicy.strategy: Cookie``; the
  cookie's name (``X-Contour-Session-Affinity``) and lifetime (a session cookie) are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sessionkit.ingress import _validate as v
from sessionkit.ingress._manifest import Backend, metadata
from sessionkit.ingress._validate import AffinityConfigError

RING_HASH_NOTE: tuple[str, ...] = (
    "Envoy hashes the cookie onto a ring of pods: when pods come and go (scale-out, scale-in,",
    "a deploy) a share of users (about 1/N when going to N pods) maps to another pod and loses",
    "its in-process session. A pinned cookie (ingress-nginx persistent, ALB, Traefik, Gateway",
    "API sessionPersistence) names one pod and moves only the users of a pod that dies.",
)
NOTES: dict[str, tuple[str, ...]] = {
    "emissary": (
        "load_balancer needs a resolver that reads endpoints: the Mapping names a",
        "KubernetesEndpointResolver (the default install has one called endpoint).",
    ),
    "istio": (
        "The DestinationRule applies to traffic to the Service host, from the ingress gateway and",
        "from sidecars alike. The cookie gets Secure and SameSite only with --secure/--samesite",
        "(httpCookie.attributes: Istio 1.28+; older Istio refuses the field).",
    ),
    "envoy-gateway": (
        "The policy attaches to the HTTPRoute named in targetRefs. The generated cookie gets the",
        "attributes listed (Path, SameSite, Secure unless --no-secure); Envoy adds HttpOnly.",
    ),
    "contour": (
        "Contour's Cookie strategy uses a fixed cookie, X-Contour-Session-Affinity, that lives",
        "for the browser session: the cookie name, max-age and SameSite cannot be set.",
    ),
}
COOKIE_CONTOUR = "X-Contour-Session-Affinity"


def go_duration(seconds: int) -> str:
    """Seconds as a Go duration (``172800`` -> ``48h``, ``90061`` -> ``25h1m1s``, ``0`` -> ``0s``)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n) or "0s"


@dataclass(frozen=True)
class EnvoyCookie:
    """Validated cookie options shared by the Envoy-based targets.

    ``max_age=0`` (only from ``--convert`` of a session cookie) gives ``ttl: 0s``: Envoy then
    generates a session cookie.
    """

    cookie_name: str = "route"
    max_age: int = 172800
    cookie_path: str = "/"
    samesite: str = "Lax"
    app_cookie: str | None = None
    secure: bool = True  # Envoy Gateway, and Istio with istio_attributes; not Emissary, Contour
    istio_attributes: bool = False  # write Secure/SameSite as httpCookie.attributes (Istio 1.28+)

    def __post_init__(self) -> None:
        v.cookie_name(self.cookie_name, "--cookie-name")
        if self.max_age != 0:
            v.positive_seconds(self.max_age, "--max-age")
        object.__setattr__(self, "max_age", int(self.max_age))
        v.cookie_path(self.cookie_path, "--cookie-path")
        if self.samesite == "None" and not self.secure:
            raise AffinityConfigError("--samesite None needs --secure: browsers drop SameSite=None "
                                      "cookies without Secure")
        if self.samesite not in ("Lax", "Strict", "None"):
            raise AffinityConfigError(
                f"--samesite: {self.samesite!r} is not accepted; use Lax, Strict or None")
        if self.app_cookie is not None and self.app_cookie == self.cookie_name:
            raise AffinityConfigError(
                f"--cookie-name: {self.cookie_name!r} is the app's session cookie (--app-cookie)")


def emissary_load_balancer(o: EnvoyCookie) -> dict[str, Any]:
    """The ``load_balancer`` object of an Emissary Mapping."""
    return {"policy": "ring_hash",
            "cookie": {"name": o.cookie_name, "path": o.cookie_path, "ttl": go_duration(o.max_age)}}


def mapping(o: EnvoyCookie, b: Backend) -> dict[str, Any]:
    """A complete Emissary-ingress ``Mapping`` with ring-hash cookie affinity."""
    return {
        "apiVersion": "getambassador.io/v3alpha1",
        "kind": "Mapping",
        "metadata": metadata(b),
        "spec": {"hostname": b.host, "prefix": b.path, "service": f"{b.service}:{b.port}",
                 "resolver": "endpoint", "load_balancer": emissary_load_balancer(o)},
    }


def istio_traffic_policy(o: EnvoyCookie) -> dict[str, Any]:
    """The ``trafficPolicy`` of an Istio DestinationRule hashing on a cookie."""
    cookie: dict[str, Any] = {"name": o.cookie_name, "path": o.cookie_path,
                              "ttl": go_duration(o.max_age)}
    if o.istio_attributes:
        cookie["attributes"] = [*([{"name": "Secure"}] if o.secure else []),
                                {"name": "SameSite", "value": o.samesite}]
    return {"loadBalancer": {"consistentHash": {"httpCookie": cookie}}}


def destination_rule(o: EnvoyCookie, b: Backend) -> dict[str, Any]:
    """A complete Istio ``DestinationRule`` for the Service of ``b``."""
    host = f"{b.service}.{b.namespace}.svc.cluster.local" if b.namespace else b.service
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": metadata(b),
        "spec": {"host": host, "trafficPolicy": istio_traffic_policy(o)},
    }


def envoy_gateway_load_balancer(o: EnvoyCookie) -> dict[str, Any]:
    """The ``loadBalancer`` of an Envoy Gateway BackendTrafficPolicy hashing on a cookie."""
    attributes = {"Path": o.cookie_path, "SameSite": o.samesite}
    if o.secure:
        attributes["Secure"] = ""  # a flag: Envoy writes an attribute with no value as its name
    cookie = {"name": o.cookie_name, "ttl": go_duration(o.max_age), "attributes": attributes}
    return {"type": "ConsistentHash", "consistentHash": {"type": "Cookie", "cookie": cookie}}


def backend_traffic_policy(o: EnvoyCookie, b: Backend) -> dict[str, Any]:
    """A complete ``BackendTrafficPolicy`` attached to the HTTPRoute named like ``b``."""
    return {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "BackendTrafficPolicy",
        "metadata": metadata(b),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                            "name": b.name}],
            "loadBalancer": envoy_gateway_load_balancer(o),
        },
    }


def contour_route_policy() -> dict[str, Any]:
    """The ``loadBalancerPolicy`` of one HTTPProxy route."""
    return {"strategy": "Cookie"}


def httpproxy(b: Backend) -> dict[str, Any]:
    """A complete Contour ``HTTPProxy`` routing ``b`` with cookie affinity."""
    if not isinstance(b.port, int):
        raise AffinityConfigError(f"--port: {b.port!r}: HTTPProxy services need a port number")
    virtualhost: dict[str, Any] = {"fqdn": b.host}
    if b.tls_secret is not None:
        virtualhost["tls"] = {"secretName": b.tls_secret}
    route = {"conditions": [{"prefix": b.path}], "services": [{"name": b.service, "port": b.port}],
             "loadBalancerPolicy": contour_route_policy()}
    return {
        "apiVersion": "projectcontour.io/v1",
        "kind": "HTTPProxy",
        "metadata": metadata(b),
        "spec": {"virtualhost": virtualhost, "routes": [route]},
    }
