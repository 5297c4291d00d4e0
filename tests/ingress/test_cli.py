"""``sessionkit ingress`` end to end, through the installed console script."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from _ingress_support import k8s_valid, run
from ruamel.yaml import YAML

from sessionkit.ingress._gateway import session_persistence_problems
from sessionkit.ingress._rules import audit_annotations

P = "nginx.ingress.kubernetes.io"
DEFAULT = {
    f"{P}/affinity": "cookie", f"{P}/affinity-mode": "persistent",
    f"{P}/session-cookie-name": "route",
    f"{P}/session-cookie-path": "/", f"{P}/session-cookie-domain": "",
    f"{P}/session-cookie-samesite": "Lax",
    f"{P}/session-cookie-expires": "172800", f"{P}/session-cookie-max-age": "172800",
    f"{P}/session-cookie-secure": "true", f"{P}/session-cookie-change-on-failure": "true",
}
RETIRED = "# ingress-nginx was retired upstream (announced November 2025, no fixes after March 2026)."


def docs(text: str) -> list[Any]:
    return [d for d in YAML(typ="safe").load_all(text) if d is not None]


def test_default_is_the_annotation_fragment() -> None:
    out = run()
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert docs(out.stdout) == [DEFAULT]
    assert out.stdout.startswith(RETIRED + "\n")
    assert "Gateway API, Traefik, F5 NGINX Ingress Controller, cloud LB controllers" in out.stdout
    value_lines = [line for line in out.stdout.splitlines() if not line.startswith("#")]
    assert len(value_lines) == 10  # no canary-behavior, no conditional-samesite-none
    assert "affinity-canary-behavior (sticky keeps canary users" not in out.stdout
    assert "# Canary pairs: give the canary Ingress the same annotations plus " in out.stdout
    assert all(re.fullmatch(r'[a-z./-]+: "[^"]*"', line) for line in value_lines)


def test_full_ingress_manifest() -> None:
    out = run("--output", "manifest", "--name", "shop", "--host", "shop.example.com",
              "--service", "web", "--port", "8080", "--tls-secret", "shop-tls")
    assert out.returncode == 0, out.stderr
    [doc] = docs(out.stdout)
    k8s_valid(doc)
    assert audit_annotations(doc["metadata"]["annotations"], P) == []
    assert doc["metadata"] == {"name": "shop", "annotations": DEFAULT}
    assert doc["spec"]["rules"][0]["http"]["paths"][0]["backend"] == {
        "service": {"name": "web", "port": {"number": 8080}}}
    assert RETIRED in out.stdout


def test_patch_form_and_prefix() -> None:
    out = run("--output", "patch", "--name", "shop", "--annotations-prefix", "nginx.example.org")
    assert out.returncode == 0, out.stderr
    [doc] = docs(out.stdout)
    k8s_valid(doc)
    assert doc == {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {
        "name": "shop",
        "annotations": {k.replace(P, "nginx.example.org"): v for k, v in DEFAULT.items()}}}


def test_json_format() -> None:
    out = run("--format", "json", "--mode", "balanced")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["target"] == "ingress-nginx"
    assert payload["form"] == "annotations"
    assert payload["documents"] == [{**DEFAULT, f"{P}/affinity-mode": "balanced"}]
    assert payload["warnings"] == [
        "--mode balanced moves some sessions to new pods on scale-up (they are lost)"]
    assert payload["notes"][0] == RETIRED[2:]


@pytest.mark.parametrize("target", ["traefik", "aws", "f5"])
def test_other_targets_manifests_validate(target: str) -> None:
    out = run("--target", target, "--output", "manifest")
    assert out.returncode == 0, out.stderr
    for doc in docs(out.stdout):
        k8s_valid(doc)
    assert "ingress-nginx was retired" not in out.stdout


def test_traefik_manifest_service_is_complete() -> None:
    out = run("--target", "traefik", "--output", "manifest", "--service", "web", "--port", "8080",
              "--selector", "app=web,tier=front", "--target-port", "http")
    assert out.returncode == 0, out.stderr
    _, service = docs(out.stdout)
    assert service["spec"] == {"selector": {"app": "web", "tier": "front"},
                               "ports": [{"name": "http", "port": 8080, "targetPort": "http"}]}
    assert service["metadata"]["name"] == "web"
    k8s_valid(service)
    assert "replaces yours on kubectl apply" in out.stdout
    [patch] = docs(run("--target", "traefik", "--output", "patch").stdout)
    assert "spec" not in patch
    bad = run("--target", "traefik", "--output", "manifest", "--selector", "app")
    assert bad.returncode == 2
    assert "--selector: 'app' is not KEY=VALUE" in bad.stderr


def test_gateway_and_ingressroute_manifests() -> None:
    out = run("--target", "gateway", "--output", "manifest", "--max-age", "90061")
    assert out.returncode == 0, out.stderr
    [route] = docs(out.stdout)
    sp = route["spec"]["rules"][0]["sessionPersistence"]
    assert sp["absoluteTimeout"] == "25h1m1s"
    assert session_persistence_problems(sp) == []
    assert "experimental channel" in out.stdout
    out = run("--target", "traefik-ingressroute", "--output", "manifest")
    assert out.returncode == 0, out.stderr
    [ir] = docs(out.stdout)
    assert ir["spec"]["routes"][0]["services"][0]["sticky"]["cookie"]["name"] == "route"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "Persistent"], "--mode: 'Persistent' is not accepted"),
        (["--cookie-name", "a b"], "--cookie-name: 'a b' is not a valid cookie name"),
        (["--max-age", "0x"], "--max-age: '0x' is not a positive whole number"),
        (["--output", "manifest", "--port", "70000"], "--port: 70000 is out of range"),
        (["--output", "manifest", "--service", "Web"], "--service: 'Web' is not a valid"),
        (["--app-cookie", "route"], "is the app's session cookie"),
        (["--target", "gateway", "--absolute-timeout", "172800s"], "must be written 48h"),
        (["--target", "aws", "--mode", "persistent"], "--mode does not apply to --target aws"),
        (["--target", "aws", "--max-age", "604801"], "use 1-604800"),
        (["--in-place"], "--in-place needs --patch FILE"),
        (["--target", "gateway", "--output", "patch"], "does not apply to --target gateway"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert message in out.stderr


def test_unknown_option_exit_2() -> None:
    out = run("--stickyness", "yes")
    assert out.returncode == 2
    assert out.stderr.startswith("usage: sessionkit ingress ")
    assert "unrecognized arguments: --stickyness yes (did you mean --stickiness?)" in out.stderr


BLOG = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web  # from a blog post
  annotations:
    nginx.ingress.kubernetes.io/affinity: Cookie
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
"""


def test_check_exit_codes(tmp_path: Path) -> None:
    blog = tmp_path / "blog.yaml"
    blog.write_text(BLOG, encoding="utf-8")
    out = run("--check", str(blog))
    assert out.returncode == 1
    assert f"{blog}:1 Ingress web:" in out.stdout
    assert "problem  nginx.ingress.kubernetes.io/affinity: 'Cookie' is not \"cookie\"" in out.stdout
    assert out.stdout.endswith("1 problem(s), 4 warning(s)\n")
    js = json.loads(run("--check", str(blog), "--format", "json").stdout)
    assert js == {
        "file": str(blog),
        "ingresses": [{"document": 0, "line": 1, "name": "web", "kind": "Ingress", "findings": [
            {"severity": "problem", "field": f"{P}/affinity",
             "message": "'Cookie' is not \"cookie\": the controller compares case-sensitively, "
                        'logs and silently disables stickiness. Write "cookie" (lowercase)'},
            {"severity": "warning", "field": f"{P}/affinity-mode",
             "message": "missing: defaults to balanced, which moves sessions on scale-up"},
            {"severity": "warning", "field": f"{P}/session-cookie-path",
             "message": 'missing: defaults to the Ingress path; set "/"'},
            {"severity": "warning", "field": f"{P}/session-cookie-change-on-failure",
             "message": 'not "true": a failed pod keeps its users pinned'},
            {"severity": "warning", "field": f"{P}/session-cookie-secure",
             "message": 'not "true": no Secure flag when TLS ends before the controller'},
        ]}],
        "problems": 1,
        "warnings": 4,
    }

    fixed = run("--patch", str(blog))
    assert fixed.returncode == 0, fixed.stderr
    good = tmp_path / "good.yaml"
    good.write_text(fixed.stdout, encoding="utf-8")
    assert run("--check", str(good)).returncode == 0
    assert blog.read_text(encoding="utf-8") == BLOG  # without --in-place nothing is written

    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [\n", encoding="utf-8")
    out = run("--check", str(broken))
    assert out.returncode == 2
    assert "not valid YAML" in out.stderr
    empty = tmp_path / "svc.yaml"
    empty.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n", encoding="utf-8")
    out = run("--check", str(empty))
    assert (out.returncode, out.stdout) == (
        1, f"{empty}: nothing to audit (no Ingress, route, affinity policy, Service or Deployment)\n"
    )


def test_patch_in_place_and_atomic_refusal(tmp_path: Path) -> None:
    target = tmp_path / "app.yaml"
    target.write_text(BLOG, encoding="utf-8")
    out = run("--patch", str(target), "--in-place", "--cookie-name", "pin")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert f"patched {target}: Ingress web" in out.stderr
    [doc] = docs(target.read_text(encoding="utf-8"))
    assert doc["metadata"]["annotations"][f"{P}/session-cookie-name"] == "pin"
    patched = target.read_text(encoding="utf-8")
    assert patched.splitlines()[:5] == BLOG.splitlines()[:5]
    assert RETIRED[2:] not in patched  # notices go to stderr, never into the user's file
    assert f"note: {RETIRED[2:]}" in out.stderr
    assert run("--patch", str(target), "--in-place", "--cookie-name", "pin").returncode == 0
    assert target.read_text(encoding="utf-8") == patched  # idempotent

    twice = BLOG + "---\n" + BLOG.replace("name: web  #", "name: web2  #")
    target.write_text(twice, encoding="utf-8")
    out = run("--patch", str(target), "--in-place", "--name", "web")
    assert out.returncode == 2
    assert "both route host shop.example.com path /" in out.stderr
    assert target.read_text(encoding="utf-8") == twice
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.yaml"]


def test_patch_other_targets(tmp_path: Path) -> None:
    target = tmp_path / "app.yaml"
    target.write_text(BLOG, encoding="utf-8")
    out = run("--target", "aws", "--patch", str(target))
    assert out.returncode == 0, out.stderr
    [doc] = docs(out.stdout)
    assert doc["metadata"]["annotations"]["alb.ingress.kubernetes.io/target-type"] == "ip"
    out = run("--target", "traefik", "--patch", str(target))
    assert out.returncode == 2
    assert "--patch adds Ingress annotations" in out.stderr


LINT = {"version": 1, "tool": "sessionkit-lint", "summary": {}, "findings": [
    {"code": "SK201", "category": "state", "severity": "error", "remedy": "affinity",
     "path": "app/ws.py", "line": 40, "column": 1, "end_line": 40, "end_column": 9,
     "message": "websocket state in a module global", "fix_hint": ""},
    {"code": "SK001", "category": "config", "severity": "error", "remedy": "externalize",
     "path": "app/settings.py", "line": 3, "column": 1, "end_line": 3, "end_column": 9,
     "message": "SESSION_ENGINE is in-process", "fix_hint": ""},
]}


def test_from_lint(tmp_path: Path) -> None:
    report = tmp_path / "lint.json"
    report.write_text(json.dumps(LINT), encoding="utf-8")
    out = run("--from-lint", str(report))
    assert out.returncode == 0, out.stderr
    assert "# these block migration (lint findings with remedy 'affinity'):\n" in out.stdout
    assert "#   app/ws.py:40 SK201 websocket state in a module global\n" in out.stdout
    assert "SK001" not in out.stdout
    assert docs(out.stdout) == [DEFAULT]
    js = json.loads(run("--from-lint", str(report), "--format", "json").stdout)
    assert js["blocking_findings"] == [
        {"code": "SK201", "path": "app/ws.py", "line": 40,
         "message": "websocket state in a module global"}]

    report.write_text(json.dumps({**LINT, "findings": LINT["findings"][1:]}),  # type: ignore[index]
                      encoding="utf-8")
    out = run("--from-lint", str(report), "--output", "manifest")
    assert (out.returncode, out.stdout) == (
        0, f"{report}: no lint findings with remedy 'affinity'; no affinity fallback needed\n")

    report.write_text("[]", encoding="utf-8")
    out = run("--from-lint", str(report))
    assert out.returncode == 2
    assert "top level must be a JSON object" in out.stderr


BLOCK_RUAMEL = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "ruamel" or name.startswith("ruamel."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
"""


def test_register_is_lazy_and_missing_extra_is_a_usage_error() -> None:
    import subprocess
    import sys

    code = ("import sys\nimport sessionkit.ingress._cli\n"
            "print(sorted(m for m in sys.modules if m.startswith('ruamel')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = BLOCK_RUAMEL + ("from sessionkit.cli import main\n"
                           "sys.exit(main(['ingress', '--output', 'manifest']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == ("sessionkit ingress: ruamel.yaml is missing: install the [ingress] extra, pip install "
                          "'sessionkit-redis[ingress]' once released, or pip install '<checkout>[ingress]' from "
                          "a git checkout\n")


def test_patch_reports_traps_and_json(tmp_path: Path) -> None:
    target = tmp_path / "app.yaml"
    text = BLOG.replace(
        "    nginx.ingress.kubernetes.io/affinity: Cookie\n",
        "    nginx.ingress.kubernetes.io/affinity: Cookie\n"
        "    nginx.ingress.kubernetes.io/service-upstream: \"true\"\n"
        "    kubernetes.io/ingress.class: nginx\n",
    ).replace("spec:\n", "spec:\n  ingressClassName: nginx\n")
    target.write_text(text, encoding="utf-8")
    out = run("--patch", str(target))
    assert out.returncode == 0, out.stderr
    assert [line for line in out.stderr.splitlines() if not line.startswith("note: ")] == [
        f'problem: {P}/service-upstream: "true" sends traffic to the Service ClusterIP, so '
        "kube-proxy picks the pod and cookie affinity has no effect; remove it",
        "warning: metadata.annotations.kubernetes.io/ingress.class: set together with "
        "spec.ingressClassName; the API server refuses new Ingresses with both, keep only "
        "spec.ingressClassName",
    ]
    out = run("--patch", str(target), "--format", "json")
    payload = json.loads(out.stdout)
    assert payload["file"] == str(target)
    assert payload["in_place"] is False
    assert payload["patched"] == ["web"]
    assert [f["field"] for f in payload["findings"]] == [
        f"{P}/service-upstream", "metadata.annotations.kubernetes.io/ingress.class"]
    [doc] = docs(payload["text"])
    assert {k: v for k, v in doc["metadata"]["annotations"].items() if k in DEFAULT} == DEFAULT
    assert target.read_text(encoding="utf-8") == text


def test_regex_path_warns_about_use_regex() -> None:
    out = run("--output", "manifest", "--path", "/api(/|$)(.*)", "--path-type",
              "ImplementationSpecific")
    assert out.returncode == 0, out.stderr
    assert out.stderr == (
        "warning: --path '/api(/|$)(.*)' looks like a regex: add "
        'nginx.ingress.kubernetes.io/use-regex: "true" (the explicit session-cookie-path keeps '
        "affinity working)\n"
    )
    [doc] = docs(out.stdout)
    k8s_valid(doc)
