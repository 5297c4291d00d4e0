"""Other controllers: Gateway API, Traefik, AWS Load Balancer Controller, F5 NGINX."""

from __future__ import annotations

import pytest
from _ingress_support import k8s_valid

from sessionkit.ingress._aws import AwsAffinity, alb_annotations
from sessionkit.ingress._f5 import F5Affinity, f5_annotations, nginx_time
from sessionkit.ingress._gateway import (
    GatewayAffinity,
    httproute,
    session_persistence,
    session_persistence_problems,
)
from sessionkit.ingress._manifest import Backend, ingress_manifest, merge_patch
from sessionkit.ingress._traefik import (
    TraefikAffinity,
    ingressroute,
    service_annotations,
    sticky,
)
from sessionkit.ingress._validate import AffinityConfigError

# --- Gateway API -------------------------------------------------------------------------------


def test_httproute_whole_structure() -> None:
    o = GatewayAffinity(session_name="route", absolute_timeout="172800", gateway="public",
                        gateway_namespace="infra")
    b = Backend(name="shop", namespace="prod", host="shop.example.com", service="web", port=8080)
    assert httproute(o, b) == {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "shop", "namespace": "prod"},
        "spec": {
            "parentRefs": [{"name": "public", "namespace": "infra"}],
            "hostnames": ["shop.example.com"],
            "rules": [{
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": "web", "port": 8080}],
                "sessionPersistence": {
                    "sessionName": "route",
                    "type": "Cookie",
                    "absoluteTimeout": "48h",
                    "cookieConfig": {"lifetimeType": "Permanent"},
                },
            }],
        },
    }


def test_session_lifetime_without_timeout() -> None:
    sp = session_persistence(GatewayAffinity(absolute_timeout=None, lifetime="Session"))
    assert sp == {"sessionName": "route", "type": "Cookie",
                  "cookieConfig": {"lifetimeType": "Session"}}
    assert session_persistence_problems(sp) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"absolute_timeout": "172800s"}, "172800s must be written 48h"),
        ({"absolute_timeout": "2d"}, "not a Gateway API Duration"),
        ({"absolute_timeout": "0s"}, "is zero"),
        ({"absolute_timeout": None}, "required when --lifetime is Permanent"),
        ({"lifetime": "permanent"}, "use Permanent or Session"),
        ({"session_name": "a" * 129}, "limited to 128"),
        ({"session_name": "a;b"}, "not a valid cookie name"),
        ({"gateway": "Public"}, "--gateway"),
    ],
)
def test_gateway_refusals(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AffinityConfigError, match=message):
        GatewayAffinity(**kwargs)  # type: ignore[arg-type]


def test_httproute_needs_a_port_number() -> None:
    with pytest.raises(AffinityConfigError, match="need a port number"):
        httproute(GatewayAffinity(), Backend(port="http"))


def test_session_persistence_problems_encode_the_crd_rules() -> None:
    assert session_persistence_problems({"type": "Header", "cookieConfig": {
        "lifetimeType": "Permanent"}}) == [
        "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent",
        "cookieConfig can only be set with type Cookie",
    ]
    assert session_persistence_problems({"absoluteTimeout": "172800s", "idleTimeout": "1h"}) == [
        "unknown field 'idleTimeout'",
        "absoluteTimeout '172800s' does not match ^([0-9]{1,5}(h|m|s|ms)){1,4}$",
    ]


# --- Traefik -----------------------------------------------------------------------------------

T = "traefik.ingress.kubernetes.io/service.sticky.cookie"


def test_traefik_service_annotations() -> None:
    ann = service_annotations(TraefikAffinity())
    assert ann == {
        T: "true", f"{T}.name": "route", f"{T}.secure": "true", f"{T}.httponly": "true",
        f"{T}.samesite": "lax", f"{T}.maxage": "172800",
    }
    patch = merge_patch(Backend(name="web"), ann, "Service", "v1")
    assert patch == {"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "web", "annotations": ann}}
    k8s_valid(patch)


def test_traefik_ingressroute() -> None:
    o = TraefikAffinity(cookie_name="pin", samesite="strict", max_age=60, http_only=False)
    b = Backend(host="a.example.com", path="/shop", service="web", port=8080, tls_secret="a-tls")
    assert sticky(o) == {"cookie": {"name": "pin", "secure": True, "httpOnly": False,
                                    "sameSite": "strict", "maxAge": 60}}
    assert ingressroute(o, b) == {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "IngressRoute",
        "metadata": {"name": "app"},
        "spec": {
            "entryPoints": ["websecure"],
            "routes": [{
                "match": "Host(`a.example.com`) && PathPrefix(`/shop`)",
                "kind": "Rule",
                "services": [{"name": "web", "port": 8080, "sticky": sticky(o)}],
            }],
            "tls": {"secretName": "a-tls"},
        },
    }


@pytest.mark.parametrize(
    "kwargs",
    [{"samesite": "Lax"}, {"samesite": "none", "secure": False}, {"max_age": 0},
     {"cookie_name": "a b"}, {"app_cookie": "route"}],
)
def test_traefik_refusals(kwargs: dict[str, object]) -> None:
    with pytest.raises(AffinityConfigError):
        TraefikAffinity(**kwargs)  # type: ignore[arg-type]


# --- AWS Load Balancer Controller ---------------------------------------------------------------

A = "alb.ingress.kubernetes.io"


def test_alb_lb_cookie_emits_target_type_ip() -> None:
    ann = alb_annotations(AwsAffinity())
    assert ann == {
        f"{A}/target-type": "ip",
        f"{A}/target-group-attributes":
            "stickiness.enabled=true,stickiness.type=lb_cookie,"
            "stickiness.lb_cookie.duration_seconds=172800",
    }
    k8s_valid(ingress_manifest(Backend(ingress_class="alb"), ann))


def test_alb_app_cookie() -> None:
    ann = alb_annotations(AwsAffinity(stickiness="app_cookie", app_cookie="sessionid",
                                      duration=604800))
    assert ann == {
        f"{A}/target-type": "ip",
        f"{A}/target-group-attributes":
            "stickiness.enabled=true,stickiness.type=app_cookie,"
            "stickiness.app_cookie.cookie_name=sessionid,"
            "stickiness.app_cookie.duration_seconds=604800",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": 604801}, "use 1-604800"),
        ({"duration": 0}, "positive whole number"),
        ({"stickiness": "source_ip"}, "lb_cookie or app_cookie"),
        ({"stickiness": "app_cookie"}, "required with --stickiness app_cookie"),
        ({"stickiness": "app_cookie", "app_cookie": "AWSALBxyz"}, "reserves"),
    ],
)
def test_alb_refusals(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AffinityConfigError, match=message):
        AwsAffinity(**kwargs)  # type: ignore[arg-type]


# --- F5 NGINX Ingress Controller ------------------------------------------------------------------


def test_f5_sticky_cookie_services() -> None:
    assert f5_annotations(F5Affinity(service="web")) == {
        "nginx.org/sticky-cookie-services":
            "serviceName=web route expires=48h httponly secure path=/",
    }
    o = F5Affinity(service="web", cookie_name="srv_id", expires=5400, domain=".example.com",
                   http_only=False, secure=False, path="/shop")
    assert f5_annotations(o) == {
        "nginx.org/sticky-cookie-services":
            "serviceName=web srv_id expires=1h30m domain=.example.com path=/shop",
    }


def test_nginx_time() -> None:
    assert [nginx_time(s) for s in (1, 60, 3600, 90061)] == ["1s", "1m", "1h", "25h1m1s"]


@pytest.mark.parametrize(
    "kwargs",
    [{"service": "Web"}, {"service": "1web"}, {"cookie_name": "a$b"}, {"path": "shop"},
     {"expires": 0}, {"domain": "a b"}],
)
def test_f5_refusals(kwargs: dict[str, object]) -> None:
    with pytest.raises(AffinityConfigError):
        F5Affinity(**kwargs)  # type: ignore[arg-type]


# --- shared object options ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"port": 0}, "--port"), ({"port": 65536}, "--port"), ({"port": "Http"}, "--port"),
        ({"port": "a--b"}, "--port"), ({"port": "123"}, None), ({"name": "Shop"}, "--name"),
        ({"namespace": "a.b"}, "--namespace"), ({"host": "Shop.example.com"}, "--host"),
        ({"host": "10.0.0.1"}, "--host"), ({"path": "shop"}, "--path"),
        ({"path_type": "prefix"}, "--path-type"), ({"service": "9web"}, "--service"),
        ({"tls_secret": "a_b"}, "--tls-secret"), ({"ingress_class": "Nginx"}, "--ingress-class"),
        ({"path": "/a//b"}, "--path"), ({"path": "/a/../b", "path_type": "Exact"}, "--path"),
        ({"path": "/a%2Fb"}, "--path"), ({"path": "/a/."}, "--path"), ({"path": "/a b"}, "--path"),
        ({"path": "/v1(/|$)(.*)"}, "--path"),
        ({"path": "/v1`", "path_type": "ImplementationSpecific"}, "--path"),
    ],
)
def test_backend_validation(kwargs: dict[str, object], field: str | None) -> None:
    assert Backend(path="/v1(/|$)(.*)", path_type="ImplementationSpecific").path == "/v1(/|$)(.*)"
    if field is None:
        assert Backend(**kwargs).port == 123  # type: ignore[arg-type]
        return
    with pytest.raises(AffinityConfigError) as info:
        Backend(**kwargs)  # type: ignore[arg-type]
    assert str(info.value).startswith(field)
