"""``--convert``: real-world shaped ingress-nginx manifests to every target, nothing dropped silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from _emissary_schema import EMISSARY_MAPPING_SUBSET
from _ingress_support import crd_valid, k8s_valid, run
from ruamel.yaml import YAML

from sessionkit.ingress._gateway import session_persistence_problems

P = "nginx.ingress.kubernetes.io"
SHOP = f"""\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: prod
  annotations:
    {P}/affinity: "cookie"
    {P}/affinity-mode: "persistent"
    {P}/session-cookie-name: "route"
    {P}/session-cookie-max-age: "172800"
    {P}/session-cookie-expires: "172800"
    {P}/session-cookie-path: "/"
    {P}/session-cookie-samesite: "Strict"
    {P}/session-cookie-secure: "true"
    {P}/session-cookie-change-on-failure: "true"
    {P}/ssl-redirect: "true"
    cert-manager.io/cluster-issuer: letsencrypt
spec:
  ingressClassName: nginx
  tls:
  - hosts: [shop.example.com, api.example.com]
    secretName: shop-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {{service: {{name: web, port: {{number: 80}}}}}}
      - path: /static
        pathType: Prefix
        backend: {{service: {{name: assets, port: {{number: 8080}}}}}}
  - host: api.example.com
    http:
      paths:
      - path: /v1
        pathType: Exact
        backend: {{service: {{name: api, port: {{number: 80}}}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop-canary
  namespace: prod
  annotations:
    {P}/canary: "true"
    {P}/canary-weight: "10"
    {P}/affinity: "cookie"
    {P}/affinity-canary-behavior: "legacy"
    {P}/session-cookie-name: "route"
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {{service: {{name: web-canary, port: {{number: 80}}}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80}}]
"""
TARGETS = ["gateway", "traefik", "aws", "f5", "emissary", "istio", "envoy-gateway", "contour"]


def converted(tmp_path: Path, target: str, text: str = SHOP) -> dict[str, Any]:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    out = run("--convert", str(path), "--target", target, "--format", "json")
    assert out.returncode == 0, out.stderr
    payload: dict[str, Any] = json.loads(out.stdout)
    return payload


def validate(doc: dict[str, Any]) -> None:
    kind = doc["kind"]
    if kind in ("Ingress", "Service"):
        k8s_valid(doc)
    elif kind == "HTTPRoute":
        for rule in doc["spec"]["rules"]:
            assert session_persistence_problems(rule.get("sessionPersistence", {})) == []
    elif kind == "Mapping":
        jsonschema.validate(doc, EMISSARY_MAPPING_SUBSET)
    else:
        crd_valid(doc)


@pytest.mark.parametrize("target", TARGETS)
def test_every_setting_is_kept_or_said_to_be_dropped(tmp_path: Path, target: str) -> None:
    payload = converted(tmp_path, target)
    sources = [d for d in YAML(typ="safe").load_all(SHOP) if d["kind"] == "Ingress"]
    assert [i["name"] for i in payload["ingresses"]] == ["shop", "shop-canary"]
    for source, result in zip(sources, payload["ingresses"]):
        accounted = result["kept"] + [d["setting"] for d in result["dropped"]]
        for key, value in source["metadata"]["annotations"].items():
            short = key.removeprefix(f"{P}/")
            assert f"{short}={value}" in accounted or f"{key}={value}" in accounted, (target, key)
        for doc in result["documents"]:
            validate(doc)
    main, canary = payload["ingresses"]
    assert canary["documents"] == []
    assert any("canary routing is not converted" in d["reason"] for d in canary["dropped"])
    assert main["documents"]


def _cookie_of(docs: list[dict[str, Any]], target: str) -> tuple[str, str] | None:
    """(cookie name, lifetime) as written in the target's own fields."""
    for doc in docs:
        spec = doc.get("spec", {})
        if target == "gateway" and doc["kind"] == "HTTPRoute":
            sp = spec["rules"][0]["sessionPersistence"]
            return sp["sessionName"], sp["absoluteTimeout"]
        if target == "emissary":
            c = spec["load_balancer"]["cookie"]
            return c["name"], c["ttl"]
        if target == "istio":
            c = spec["trafficPolicy"]["loadBalancer"]["consistentHash"]["httpCookie"]
            return c["name"], c["ttl"]
        if target == "envoy-gateway" and doc["kind"] == "BackendTrafficPolicy":
            c = spec["loadBalancer"]["consistentHash"]["cookie"]
            return c["name"], c["ttl"]
        if target == "traefik" and doc["kind"] == "Service":
            ann = doc["metadata"]["annotations"]
            t = "traefik.ingress.kubernetes.io/service.sticky.cookie"
            return ann[f"{t}.name"], ann[f"{t}.maxage"]
        if target == "f5":
            value = doc["metadata"]["annotations"]["nginx.org/sticky-cookie-services"]
            first = value.split(";")[0].split()
            return first[1], first[2].removeprefix("expires=")
    return None


@pytest.mark.parametrize(("target", "expected"), [
    ("gateway", ("route", "48h")), ("emissary", ("route", "48h")), ("istio", ("route", "48h")),
    ("envoy-gateway", ("route", "48h")), ("traefik", ("route", "172800")), ("f5", ("route", "48h")),
])
def test_cookie_name_and_lifetime_carry_over(tmp_path: Path, target: str,
                                             expected: tuple[str, str]) -> None:
    main = converted(tmp_path, target)["ingresses"][0]
    assert _cookie_of(main["documents"], target) == expected
    assert "session-cookie-name=route" in main["kept"]


def test_routes_hosts_and_tls_carry_over(tmp_path: Path) -> None:
    [ing] = [d for d in converted(tmp_path, "traefik")["ingresses"][0]["documents"]
             if d["kind"] == "Ingress"]
    assert [(r["host"], [p["path"] for p in r["http"]["paths"]]) for r in ing["spec"]["rules"]] == [
        ("shop.example.com", ["/", "/static"]), ("api.example.com", ["/v1"])]
    assert ing["spec"]["tls"] == [{"hosts": ["shop.example.com", "api.example.com"],
                                   "secretName": "shop-tls"}]
    gateway = converted(tmp_path, "gateway")["ingresses"][0]
    routes = [d for d in gateway["documents"] if d["kind"] == "HTTPRoute"]
    assert [r["spec"]["hostnames"] for r in routes] == [["shop.example.com"], ["api.example.com"]]
    assert routes[1]["spec"]["rules"][0]["matches"] == [{"path": {"type": "Exact", "value": "/v1"}}]
    assert {"setting": "spec.tls secretName=shop-tls",
            "reason": "TLS belongs to the Gateway's listener; reference the Secret there"} in \
        gateway["dropped"]
    proxies = converted(tmp_path, "contour")["ingresses"][0]["documents"]
    assert proxies[0]["spec"]["virtualhost"]["tls"] == {"secretName": "shop-tls"}


def test_session_cookie_source_stays_a_session_cookie(tmp_path: Path) -> None:
    text = SHOP.replace(f'    {P}/session-cookie-max-age: "172800"\n', "").replace(
        f'    {P}/session-cookie-expires: "172800"\n', "")
    main = converted(tmp_path, "gateway", text)["ingresses"][0]
    sp = main["documents"][0]["spec"]["rules"][0]["sessionPersistence"]
    assert sp == {"sessionName": "route", "type": "Cookie", "cookieConfig": {"lifetimeType": "Session"}}
    assert _cookie_of(converted(tmp_path, "istio", text)["ingresses"][0]["documents"], "istio") == (
        "route", "0s")


def test_yaml_output_states_what_cannot_carry_over(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP, encoding="utf-8")
    out = run("--convert", str(path), "--target", "contour")
    assert out.returncode == 0, out.stderr
    assert "#   kept: affinity=cookie\n" in out.stdout
    assert "#     session-cookie-name=route: the target names its cookie itself" in out.stdout
    for doc in YAML(typ="safe").load_all(out.stdout):
        crd_valid(doc)


@pytest.mark.parametrize(("args", "message"), [
    (["--target", "nginx"], "--target nginx is not a conversion target"),
    (["--target", "gateway", "--in-place"], "--in-place needs --patch"),
])
def test_convert_refusals(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP, encoding="utf-8")
    out = run("--convert", str(path), *args)
    assert out.returncode == 2
    assert message in out.stderr
    path.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n", encoding="utf-8")
    out = run("--convert", str(path), "--target", "gateway")
    assert out.returncode == 2
    assert "no Ingress in the file" in out.stderr


CONVERSION_TARGETS = "gateway, traefik, aws, f5, emissary, istio, envoy-gateway, contour"


def test_convert_to_a_target_that_is_not_a_conversion_target_says_so(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP, encoding="utf-8")
    out = run("--convert", str(path), "--target", "nginx")
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == ("sessionkit ingress: error: --target nginx is not a conversion target: "
                          f"--convert reads ingress-nginx Ingresses and converts them to one of "
                          f"{CONVERSION_TARGETS}\n")
    out = run("--convert", str(path))  # no --target at all
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == f"sessionkit ingress: error: --convert needs --target, one of {CONVERSION_TARGETS}\n"
