"""``--check`` beyond ingress-nginx: planted traps for every other target the generator emits.

Each trap manifest is one a cluster accepts (the Envoy-based ones pass their CRD schema strictly)
but whose affinity does not pin, or disagrees with the app's session cookie: given with
``--app-cookie``, ``--max-age`` (the app's session lifetime) and ``--cookie-path``; TLS is seen in
the file. Each test asserts the finding and that the fixed manifest has none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _ingress_support import crd_valid, run
from ruamel.yaml import YAML

from sessionkit.ingress._appcookie import AppCookie, covers, go_seconds
from sessionkit.ingress._audit_f5 import nginx_seconds
from sessionkit.ingress._check import audit_file

APP = AppCookie(name="session", max_age=172800, path="/")
TLS_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: front, annotations: {nginx.ingress.kubernetes.io/affinity: cookie}}
spec:
  tls: [{hosts: [shop.example.com], secretName: shop-tls}]
  rules: [{host: shop.example.com}]
"""


def check(tmp_path: Path, text: str, app: AppCookie = APP) -> dict[str, list[tuple[str, str, str]]]:
    """``kind name`` -> its findings, for every object ``--check`` reports."""
    path = tmp_path / "app.yaml"
    path.write_text(text, encoding="utf-8")
    return {f"{r.kind} {r.name}": [(f.severity, f.field, f.message) for f in r.findings]
            for r in audit_file(str(path), "nginx.ingress.kubernetes.io", app=app)}


def fields(found: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(severity, field) for severity, field, _ in found]


# --- Traefik ---------------------------------------------------------------------------------

T = "traefik.ingress.kubernetes.io/service.sticky.cookie"
TRAEFIK_OK = f"""\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: shop}}
spec:
  ingressClassName: traefik
  tls: [{{hosts: [shop.example.com], secretName: shop-tls}}]
  rules: [{{host: shop.example.com, http: {{paths: [{{path: /, pathType: Prefix,
    backend: {{service: {{name: web, port: {{number: 80}}}}}}}}]}}}}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    {T}: "true"
    {T}.name: route
    {T}.secure: "true"
    {T}.samesite: lax
    {T}.maxage: "172800"
spec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}
"""


def test_traefik_clean_manifest_has_no_findings(tmp_path: Path) -> None:
    assert check(tmp_path, TRAEFIK_OK) == {"Ingress shop": []}


@pytest.mark.parametrize(
    ("old", "new", "expected", "fragment"),
    [
        (f'    {T}: "true"\n', "", ("problem", T), "do nothing unless"),
        ("samesite: lax", "samesite: Lax", ("problem", f"{T}.samesite"), "case-sensitively"),
        (f'    {T}.maxage: "172800"\n', "", ("warning", f"{T}.maxage"), "browser-session cookie"),
        ('maxage: "172800"', 'maxage: "3600"', ("warning", f"{T}.maxage"), "the pin lasts 3600s"),
        ('secure: "true"', 'secure: "false"', ("warning", f"{T}.secure"), "this file terminates TLS"),
        ("name: route", "name: session", ("problem", f"{T}.name"), "the app's session cookie"),
    ],
    ids=["not-enabled", "samesite-case", "session-cookie", "short-pin", "not-secure", "app-cookie"],
)
def test_traefik_service_traps(tmp_path: Path, old: str, new: str, expected: tuple[str, str],
                               fragment: str) -> None:
    assert old in TRAEFIK_OK
    found = check(tmp_path, TRAEFIK_OK.replace(old, new))["Service web"]
    assert fields(found) == [expected]
    assert fragment in found[0][2]


def test_traefik_annotations_on_the_ingress_do_nothing(tmp_path: Path) -> None:
    moved = TRAEFIK_OK.replace("metadata: {name: shop}", f'metadata: {{name: shop, annotations: {{{T}: "true"}}}}')
    found = check(tmp_path, moved)["Ingress shop"]
    assert fields(found) == [("problem", T)]
    assert "from the Service, not the Ingress" in found[0][2]


INGRESSROUTE = """\
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: shop}
spec:
  entryPoints: [websecure]
  tls: {secretName: shop-tls}
  routes:
  - match: Host(`shop.example.com`)
    kind: Rule
    services:
    - name: web
      port: 80
      sticky: {cookie: {name: route, secure: true, httpOnly: true, sameSite: lax, maxAge: 172800}}
"""


def test_ingressroute_traps(tmp_path: Path) -> None:
    assert check(tmp_path, INGRESSROUTE) == {"IngressRoute shop": []}
    field = "spec.routes[0].services[0].sticky"
    narrow = check(tmp_path, INGRESSROUTE.replace("maxAge: 172800}", "maxAge: 172800, path: /api}"))
    assert fields(narrow["IngressRoute shop"]) == [("problem", f"{field}.cookie.path")]
    assert "does not cover the app's session cookie path '/'" in narrow["IngressRoute shop"][0][2]
    empty = check(tmp_path, INGRESSROUTE.replace(
        "sticky: {cookie: {name: route, secure: true, httpOnly: true, sameSite: lax, maxAge: 172800}}",
        "sticky: {}"))
    assert fields(empty["IngressRoute shop"]) == [("problem", field)]


# --- AWS Load Balancer Controller ------------------------------------------------------------

A = "alb.ingress.kubernetes.io"
ALB_OK = f"""\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  annotations:
    {A}/target-type: ip
    {A}/target-group-attributes: stickiness.enabled=true,stickiness.type=lb_cookie,stickiness.lb_cookie.duration_seconds=172800
spec:
  ingressClassName: alb
  rules: [{{host: shop.example.com}}]
"""


def test_alb_clean_manifest_is_not_audited_as_ingress_nginx(tmp_path: Path) -> None:
    assert check(tmp_path, ALB_OK) == {"Ingress shop": []}


@pytest.mark.parametrize(
    ("old", "new", "expected", "fragment"),
    [
        ("stickiness.enabled=true", "stickiness.enabled=false",
         ("problem", f"{A}/target-group-attributes"), "stickiness.enabled is not true"),
        (f"    {A}/target-type: ip\n", "", ("problem", f"{A}/target-type"), "'instance' (the default)"),
        ("duration_seconds=172800", "duration_seconds=700000",
         ("problem", f"{A}/target-group-attributes"), "1-604800 seconds"),
        ("duration_seconds=172800", "duration_seconds=3600",
         ("warning", f"{A}/target-group-attributes stickiness.lb_cookie.duration_seconds"),
         "less than the app's session (172800s)"),
        ("stickiness.type=lb_cookie,stickiness.lb_cookie", "stickiness.type=app_cookie,stickiness.app_cookie",
         ("problem", f"{A}/target-group-attributes"), "needs stickiness.app_cookie.cookie_name"),
    ],
    ids=["disabled", "instance-targets", "duration-range", "short-pin", "app-cookie-unnamed"],
)
def test_alb_traps(tmp_path: Path, old: str, new: str, expected: tuple[str, str], fragment: str) -> None:
    assert old in ALB_OK
    found = check(tmp_path, ALB_OK.replace(old, new))["Ingress shop"]
    assert fields(found) == [expected]
    assert fragment in found[0][2]


# --- F5 NGINX Ingress Controller ------------------------------------------------------------

F = "nginx.org/sticky-cookie-services"
F5_OK = f"""\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  annotations:
    {F}: "serviceName=web route expires=48h httponly secure path=/"
spec:
  ingressClassName: nginx
  tls: [{{hosts: [shop.example.com], secretName: shop-tls}}]
  rules: [{{host: shop.example.com, http: {{paths: [{{path: /, pathType: Prefix,
    backend: {{service: {{name: web, port: {{number: 80}}}}}}}}]}}}}]
"""


def test_f5_clean_manifest_is_not_audited_as_ingress_nginx(tmp_path: Path) -> None:
    assert check(tmp_path, F5_OK) == {"Ingress shop": []}
    generated = run("--target", "f5", "--output", "manifest", "--name", "shop", "--service", "web")
    assert check(tmp_path, generated.stdout) == {"Ingress shop": []}


@pytest.mark.parametrize(
    ("old", "new", "expected", "fragment"),
    [
        ("serviceName=web", "serviceName=api", ("problem", F), "not a backend of this Ingress (web)"),
        ("serviceName=web route", "serviceName=web", ("problem", F), "write serviceName=<service> <cookie>"),
        (" expires=48h", "", ("warning", f"{F} serviceName=web expires"), "browser-session cookie"),
        ("expires=48h", "expires=1d", ("warning", f"{F} serviceName=web expires"), "the pin lasts 86400s"),
        ("expires=48h", "expires=2days", ("problem", f"{F} serviceName=web expires"), "not an NGINX time"),
        (" path=/", "", ("warning", f"{F} serviceName=web path"), "no Path"),
        (" secure", "", ("warning", f"{F} serviceName=web secure"), "this file terminates TLS"),
        ("web route", "web session", ("problem", f"{F} serviceName=web cookie"), "app's session cookie"),
    ],
    ids=["other-service", "no-cookie", "session-cookie", "short-pin", "bad-time", "no-path",
         "not-secure", "app-cookie"],
)
def test_f5_traps(tmp_path: Path, old: str, new: str, expected: tuple[str, str], fragment: str) -> None:
    assert old in F5_OK
    found = check(tmp_path, F5_OK.replace(old, new))["Ingress shop"]
    assert fields(found) == [expected]
    assert fragment in found[0][2]


def test_f5_annotation_next_to_ingress_nginx_ones_is_still_the_ingress_nginx_trap(tmp_path: Path) -> None:
    both = F5_OK.replace("  annotations:\n", "  annotations:\n    nginx.ingress.kubernetes.io/affinity: cookie\n")
    found = check(tmp_path, both)["Ingress shop"]
    assert ("warning", F) in fields(found)
    assert "ingress-nginx ignores it" in dict(((s, f), m) for s, f, m in found)[("warning", F)]


def test_nginx_times() -> None:
    assert [nginx_seconds(t) for t in ("48h", "1d12h", "3600", "500ms", "1w", "max", "2 days", "")] == [
        172800, 129600, 3600, 0.5, 604800, float("inf"), None, None]


# --- Gateway API -----------------------------------------------------------------------------

HTTPROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: public}]
  rules:
  - backendRefs: [{name: web, port: 80}]
    sessionPersistence: {sessionName: route, type: Cookie, absoluteTimeout: 48h,
                         cookieConfig: {lifetimeType: Permanent}}
"""


def test_httproute_traps(tmp_path: Path) -> None:
    assert check(tmp_path, HTTPROUTE) == {"HTTPRoute shop": []}
    sp = "spec.rules[0].sessionPersistence"
    session = check(tmp_path, HTTPROUTE.replace("Permanent", "Session"))["HTTPRoute shop"]
    assert fields(session) == [("warning", f"{sp}.cookieConfig.lifetimeType")]
    short = check(tmp_path, HTTPROUTE.replace("48h", "1h"))["HTTPRoute shop"]
    assert "the pin lasts 3600s" in short[0][2]
    clash = check(tmp_path, HTTPROUTE.replace("sessionName: route", "sessionName: session"))
    assert fields(clash["HTTPRoute shop"]) == [("problem", f"{sp}.sessionName")]
    bad = check(tmp_path, HTTPROUTE.replace("absoluteTimeout: 48h,", ""))["HTTPRoute shop"]
    assert bad == [("problem", sp, "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent")]


# --- Istio, Envoy Gateway, Emissary, Contour ------------------------------------------------

ISTIO = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop}
spec:
  host: web.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie: {name: route, path: /, ttl: 48h, attributes: [{name: Secure}]}
"""
HC = "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie"
EG = """\
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop}]
  loadBalancer:
    type: ConsistentHash
    consistentHash:
      type: Cookie
      cookie: {name: route, ttl: 48h, attributes: {Path: /, SameSite: Lax, Secure: ""}}
"""
EC = "spec.loadBalancer.consistentHash.cookie"
EMISSARY = """\
apiVersion: getambassador.io/v3alpha1
kind: Mapping
metadata: {name: shop}
spec:
  prefix: /
  service: web:80
  resolver: endpoint
  load_balancer: {policy: ring_hash, cookie: {name: route, path: /, ttl: 48h}}
"""
CONTOUR = """\
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: shop}
spec:
  virtualhost: {fqdn: shop.example.com, tls: {secretName: shop-tls}}
  routes:
  - conditions: [{prefix: /}]
    services: [{name: web, port: 80}]
    loadBalancerPolicy: {strategy: Cookie}
"""
NO_MAX_AGE = AppCookie(name="session")  # Contour's cookie has no lifetime to compare

ENVOY_TRAPS = [
    ("istio", ISTIO, "ttl: 48h, ", "", ("problem", f"{HC}.ttl"), "Envoy generates the cookie only when a ttl"),
    ("istio", ISTIO, "ttl: 48h", "ttl: 0s", ("warning", f"{HC}.ttl"), "browser-session cookie"),
    ("istio", ISTIO, "path: /,", "path: /shop,", ("problem", f"{HC}.path"), "does not cover"),
    ("istio", ISTIO, "path: /, ", "", ("warning", f"{HC}.path"), "no Path"),
    ("istio", ISTIO, ", attributes: [{name: Secure}]", "", ("warning", f"{HC}.attributes"),
     "this file terminates TLS, yet no Secure flag"),
    ("istio", ISTIO, "name: route,", "name: session,", ("problem", f"{HC}.name"), "app's session cookie"),
    ("envoy-gateway", EG, "type: ConsistentHash", "type: RoundRobin", ("problem", "spec.loadBalancer.type"),
     "only with type ConsistentHash"),
    ("envoy-gateway", EG, "ttl: 48h, ", "", ("problem", f"{EC}.ttl"), "Envoy generates the cookie only"),
    ("envoy-gateway", EG, "ttl: 48h", "ttl: 1h", ("warning", f"{EC}.ttl"), "the pin lasts 3600s"),
    ("envoy-gateway", EG, "Path: /, ", "", ("warning", f"{EC}.attributes.Path"), "no Path"),
    ("envoy-gateway", EG, ', Secure: ""', "", ("warning", f"{EC}.attributes"), "no Secure flag"),
    ("emissary", EMISSARY, "policy: ring_hash", "policy: round_robin", ("problem", "spec.load_balancer.policy"),
     "only with ring_hash or maglev"),
    ("emissary", EMISSARY, "  resolver: endpoint\n", "", ("warning", "spec.resolver"),
     "KubernetesEndpointResolver"),
    ("emissary", EMISSARY, ", ttl: 48h", "", ("problem", "spec.load_balancer.cookie.ttl"), "no ttl"),
    ("emissary", EMISSARY, "ttl: 48h", "ttl: 30m", ("warning", "spec.load_balancer.cookie.ttl"),
     "the pin lasts 1800s"),
    ("contour", CONTOUR, "strategy: Cookie", "strategy: cookie",
     ("problem", "spec.routes[0].loadBalancerPolicy.strategy"), "uses round robin"),
    ("contour", CONTOUR + "  - conditions: [{prefix: /api}]\n    services: [{name: web, port: 80}]\n",
     "[{prefix: /}]", "[{prefix: /}]", ("warning", "spec.routes[1].loadBalancerPolicy"),
     "no Cookie strategy while route 0 has one"),
]


def _doc(text: str) -> Any:
    return YAML(typ="safe").load(text)


def _audited(reports: dict[str, list[tuple[str, str, str]]]) -> list[tuple[str, str, str]]:
    """The findings of the one object that is not the TLS Ingress in front."""
    [found] = [f for label, f in reports.items() if not label.startswith("Ingress")]
    return found


@pytest.mark.parametrize(("target", "text"), [("istio", ISTIO), ("envoy-gateway", EG),
                                              ("emissary", EMISSARY), ("contour", CONTOUR)])
def test_envoy_clean_manifests_have_no_findings(tmp_path: Path, target: str, text: str) -> None:
    if target != "emissary":
        crd_valid(_doc(text))
    app = NO_MAX_AGE if target == "contour" else APP
    assert _audited(check(tmp_path, TLS_INGRESS + "---\n" + text, app)) == []


@pytest.mark.parametrize(("target", "text", "old", "new", "expected", "fragment"), ENVOY_TRAPS,
                         ids=[f"{t[0]}-{t[4][1].rsplit('.', 1)[-1]}-{n}" for n, t in enumerate(ENVOY_TRAPS)])
def test_envoy_traps(tmp_path: Path, target: str, text: str, old: str, new: str,
                     expected: tuple[str, str], fragment: str) -> None:
    assert old in text
    planted = text.replace(old, new)
    if target in ("istio", "envoy-gateway", "contour"):
        crd_valid(_doc(planted))  # the trap is a manifest the API server accepts
    found = _audited(check(tmp_path, TLS_INGRESS + "---\n" + planted,
                           NO_MAX_AGE if target == "contour" else APP))
    assert fields(found) == [expected]
    assert fragment in found[0][2]


def test_contour_cookie_is_a_browser_session_cookie(tmp_path: Path) -> None:
    found = check(tmp_path, CONTOUR)["HTTPProxy shop"]
    assert fields(found) == [("warning", "spec.routes[0].loadBalancerPolicy")]
    assert "X-Contour-Session-Affinity cannot be given a lifetime" in found[0][2]


def test_subsets_and_port_level_policies_are_audited(tmp_path: Path) -> None:
    text = ISTIO.replace("  trafficPolicy:\n", "  subsets:\n  - name: v1\n    labels: {v: '1'}\n"
                         "    trafficPolicy:\n      portLevelSettings:\n      - port: {number: 80}\n"
                         "        loadBalancer: {consistentHash: {httpCookie: {name: route}}}\n"
                         "  trafficPolicy:\n")
    crd_valid(_doc(text))
    found = check(tmp_path, text)["DestinationRule shop"]
    assert fields(found) == [
        ("problem", "spec.subsets[0].trafficPolicy.portLevelSettings[0].loadBalancer."
                    "consistentHash.httpCookie.ttl")]


def test_helpers() -> None:
    assert [go_seconds(s) for s in ("48h", "1h30m", "0s", "0", "1.5s", "500ms", "2 days", 3, "")] == [
        172800, 5400, 0, 0, 1.5, 0.5, None, None, None]
    assert covers("/", "/shop") and covers("/shop", "/shop/cart") and covers("/shop/", "/shop")
    assert not covers("/shop", "/") and not covers("/shop", "/shopping")


def test_check_cli_takes_the_app_cookie_settings(tmp_path: Path) -> None:
    path = tmp_path / "dr.yaml"
    path.write_text(ISTIO.replace("path: /,", "path: /shop,"), encoding="utf-8")
    assert run("--check", str(path), "--cookie-path", "/shop/cart").returncode == 0
    out = run("--check", str(path), "--format", "json", "--max-age", "259200")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert [(f["severity"], f["field"]) for f in report["ingresses"][0]["findings"]] == [
        ("warning", f"{HC}.ttl"), ("problem", f"{HC}.path")]
    bad = run("--check", str(path), "--max-age", "two days")
    assert (bad.returncode, "--max-age: 'two days' is not a positive whole number") == (
        2, bad.stderr.split("error: ", 1)[1][:52])
