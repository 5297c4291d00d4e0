"""Envoy-based targets: Emissary-ingress, Istio, Envoy Gateway, Contour, each checked against a schema.

Istio, Contour and Envoy Gateway output is validated strictly (unknown fields refused) against
those projects' CRD schemas, as generated into the kubernetes-models packages
(``crds/package.json``, see ``crd_valid``). No package ships Emissary-ingress's CRD schema, so its
Mapping is checked against ``EMISSARY_MAPPING_SUBSET``: a HAND-WRITTEN schema of only the fields we
emit, transcribed from Emissary's v3alpha1 Go types (``LoadBalancer``, ``LoadBalancerCookie``,
``MappingSpec``' required ``prefix`` and ``service``). It is not the project's published schema.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from _emissary_schema import EMISSARY_MAPPING_SUBSET
from _ingress_support import crd_valid, run
from ruamel.yaml import YAML

from sessionkit.ingress._envoy import (
    EnvoyCookie,
    backend_traffic_policy,
    destination_rule,
    go_duration,
    httpproxy,
    mapping,
)
from sessionkit.ingress._manifest import Backend
from sessionkit.ingress._validate import AffinityConfigError

B = Backend(name="shop", namespace="prod", host="shop.example.com", path="/", service="web",
            port=8080, tls_secret="shop-tls")
COOKIE = EnvoyCookie(cookie_name="route", max_age=172800, cookie_path="/", samesite="Lax")


def test_emissary_mapping() -> None:
    doc = mapping(COOKIE, B)
    assert doc["spec"] == {
        "hostname": "shop.example.com", "prefix": "/", "service": "web:8080",
        "resolver": "endpoint",
        "load_balancer": {"policy": "ring_hash",
                          "cookie": {"name": "route", "path": "/", "ttl": "48h"}},
    }
    jsonschema.validate(doc, EMISSARY_MAPPING_SUBSET)


def test_istio_destination_rule() -> None:
    doc = destination_rule(COOKIE, B)
    assert doc["spec"] == {
        "host": "web.prod.svc.cluster.local",
        "trafficPolicy": {"loadBalancer": {"consistentHash": {"httpCookie": {
            "name": "route", "path": "/", "ttl": "48h"}}}},
    }
    crd_valid(doc)


def test_istio_cookie_attributes_only_when_asked() -> None:
    doc = destination_rule(EnvoyCookie(istio_attributes=True, samesite="Strict"), B)
    assert doc["spec"]["trafficPolicy"]["loadBalancer"]["consistentHash"]["httpCookie"] == {
        "name": "route", "path": "/", "ttl": "48h",
        "attributes": [{"name": "Secure"}, {"name": "SameSite", "value": "Strict"}]}
    crd_valid(doc)
    out = run("--target", "istio", "--no-secure", "--samesite", "lax", "--output", "manifest")
    assert out.returncode == 0, out.stderr
    [manifest] = [d for d in YAML(typ="safe").load_all(out.stdout) if d is not None]
    cookie = manifest["spec"]["trafficPolicy"]["loadBalancer"]["consistentHash"]["httpCookie"]
    assert cookie["attributes"] == [{"name": "SameSite", "value": "Lax"}]
    assert "attributes" not in destination_rule(COOKIE, B)["spec"]["trafficPolicy"][
        "loadBalancer"]["consistentHash"]["httpCookie"]  # the default: Istio before 1.28 too


def test_envoy_gateway_backend_traffic_policy() -> None:
    doc = backend_traffic_policy(COOKIE, B)
    assert doc["spec"] == {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "shop"}],
        "loadBalancer": {"type": "ConsistentHash", "consistentHash": {"type": "Cookie", "cookie": {
            "name": "route", "ttl": "48h",
            "attributes": {"Path": "/", "SameSite": "Lax", "Secure": ""}}}},
    }
    crd_valid(doc)
    plain = backend_traffic_policy(EnvoyCookie(secure=False), B)
    assert plain["spec"]["loadBalancer"]["consistentHash"]["cookie"]["attributes"] == {
        "Path": "/", "SameSite": "Lax"}
    with pytest.raises(AffinityConfigError, match="--samesite None needs --secure"):
        EnvoyCookie(samesite="None", secure=False)


def test_contour_httpproxy() -> None:
    doc = httpproxy(B)
    assert doc["spec"] == {
        "virtualhost": {"fqdn": "shop.example.com", "tls": {"secretName": "shop-tls"}},
        "routes": [{"conditions": [{"prefix": "/"}], "services": [{"name": "web", "port": 8080}],
                    "loadBalancerPolicy": {"strategy": "Cookie"}}],
    }
    crd_valid(doc)


def test_the_validators_can_fail() -> None:
    bad = destination_rule(COOKIE, B)
    del bad["spec"]["trafficPolicy"]["loadBalancer"]["consistentHash"]["httpCookie"]["name"]
    with pytest.raises(AssertionError, match="name"):
        crd_valid(bad)
    bad = backend_traffic_policy(COOKIE, B)
    bad["spec"]["loadBalancer"]["consistentHash"]["type"] = "cookie"
    with pytest.raises(AssertionError, match="allowed values"):
        crd_valid(bad)
    bad = mapping(COOKIE, B)
    bad["spec"]["load_balancer"]["policy"] = "sticky"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, EMISSARY_MAPPING_SUBSET)


def _planted(doc: dict[str, Any], path: str, key: str) -> dict[str, Any]:
    """A copy of ``doc`` with ``key`` renamed to a typo (``key`` + "s") in the object at ``path``."""
    bad = copy.deepcopy(doc)
    here: Any = bad
    for step in path.split("."):
        here = here[int(step)] if step.isdigit() else here[step]
    here[key + "s"] = here.pop(key)
    return bad


@pytest.mark.parametrize(
    ("make", "path", "key"),
    [
        (lambda: destination_rule(COOKIE, B), "spec.trafficPolicy.loadBalancer.consistentHash",
         "httpCookie"),
        (lambda: destination_rule(COOKIE, B),
         "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie", "path"),
        (lambda: destination_rule(COOKIE, B), "metadata", "namespace"),
        (lambda: backend_traffic_policy(COOKIE, B), "spec.loadBalancer.consistentHash", "cookie"),
        (lambda: backend_traffic_policy(COOKIE, B), "spec.loadBalancer.consistentHash.cookie",
         "ttl"),
        (lambda: httpproxy(B), "spec.routes.0", "loadBalancerPolicy"),
        (lambda: httpproxy(B), "spec.virtualhost.tls", "secretName"),
    ],
    ids=["istio-httpCookies", "istio-paths", "istio-metadata", "eg-cookies", "eg-ttls",
         "contour-loadBalancerPolicys", "contour-secretNames"],
)
def test_the_strict_check_refuses_a_planted_unknown_field(make: Any, path: str, key: str) -> None:
    doc = make()
    crd_valid(doc)
    with pytest.raises(AssertionError, match=f"'\"{key}s\"' does not exist in type"):
        crd_valid(_planted(doc, path, key))


@pytest.mark.parametrize(("path", "key"), [("spec.load_balancer", "cookie"),
                                           ("spec.load_balancer.cookie", "ttl"),
                                           ("spec", "resolver"), ("metadata", "namespace")])
def test_the_emissary_subset_refuses_a_planted_unknown_field(path: str, key: str) -> None:
    doc = mapping(COOKIE, B)
    jsonschema.validate(doc, EMISSARY_MAPPING_SUBSET)
    with pytest.raises(jsonschema.ValidationError, match=f"'{key}s' was unexpected"):
        jsonschema.validate(_planted(doc, path, key), EMISSARY_MAPPING_SUBSET)


def test_the_strict_check_takes_maps_as_maps() -> None:
    doc = destination_rule(COOKIE, B)
    doc["metadata"]["labels"] = {"app.kubernetes.io/name": "shop", "anything": "goes"}
    crd_valid(doc)


@pytest.mark.parametrize("target", ["emissary", "istio", "envoy-gateway", "contour"])
def test_cli_manifests_validate_and_explain_ring_hash(target: str) -> None:
    out = run("--target", target, "--output", "manifest", "--name", "shop")
    assert out.returncode == 0, out.stderr
    [doc] = [d for d in YAML(typ="safe").load_all(out.stdout) if d is not None]
    if target == "emissary":
        jsonschema.validate(doc, EMISSARY_MAPPING_SUBSET)
    else:
        crd_valid(doc)
    assert "a share of users (about 1/N when going to N pods) maps to another pod" in out.stdout
    frag = run("--target", target)
    assert frag.returncode == 0, frag.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "istio", "--host", "a.example.com"], "--host does not apply to --target istio"),
        (["--target", "contour", "--cookie-name", "x"], "--cookie-name does not apply"),
        (["--target", "emissary", "--output", "patch"], "--output patch does not apply"),
        (["--target", "envoy-gateway", "--samesite", "lax2"], "--samesite"),
        (["--target", "istio", "--cookie-name", "sid", "--app-cookie", "sid"], "app's session"),
    ],
)
def test_refusals(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert message in out.stderr


def test_go_duration_and_options() -> None:
    assert [go_duration(s) for s in (1, 60, 3600, 90061)] == ["1s", "1m", "1h", "25h1m1s"]
    assert EnvoyCookie(max_age=0).max_age == 0  # --convert of a session cookie: ttl 0s
    with pytest.raises(AffinityConfigError):
        EnvoyCookie(max_age=-1)
    out = run("--target", "istio", "--max-age", "0")
    assert out.returncode == 2
    assert "--max-age: '0' is not a positive whole number" in out.stderr
