"""A textbook ingress-nginx canary pair is valid: ``--check`` finds no false problems, ``--patch`` works."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _ingress_support import k8s_valid, run
from ruamel.yaml import YAML

P = "nginx.ingress.kubernetes.io"
AFFINITY = f"""\
    {P}/affinity: "cookie"
    {P}/affinity-mode: "persistent"
    {P}/session-cookie-name: "route"
    {P}/session-cookie-path: "/"
    {P}/session-cookie-domain: ""
    {P}/session-cookie-samesite: "Lax"
    {P}/session-cookie-expires: "172800"
    {P}/session-cookie-max-age: "172800"
    {P}/session-cookie-secure: "true"
    {P}/session-cookie-change-on-failure: "true"
"""
SPEC = """\
spec:
  ingressClassName: nginx
  tls:
  - hosts: [shop.example.com]
    secretName: shop-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: {service}
            port:
              number: 80
"""
MAIN = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: shop\n"
        "  annotations:\n" + AFFINITY + SPEC.format(service="shop"))
CANARY = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: shop-canary\n"
          "  annotations:\n"
          f'    {P}/canary: "true"\n    {P}/canary-weight: "20"\n'
          f'    {P}/affinity-canary-behavior: "legacy"\n'
          + AFFINITY + SPEC.format(service="shop-canary"))
PAIR = MAIN + "---\n" + CANARY


def docs(text: str) -> list[Any]:
    return [d for d in YAML(typ="safe").load_all(text) if d is not None]


def test_check_finds_no_problem_in_a_textbook_pair(tmp_path: Path) -> None:
    path = tmp_path / "pair.yaml"
    path.write_text(PAIR, encoding="utf-8")
    out = run("--check", str(path), "--format", "json")
    assert out.returncode == 0, out.stdout
    report = json.loads(out.stdout)
    assert report["problems"] == 0
    assert [f for i in report["ingresses"] for f in i["findings"]] == []
    for doc in docs(PAIR):
        k8s_valid(doc)


def test_check_flags_canary_behavior_on_the_main_ingress_and_mismatched_cookies(
        tmp_path: Path) -> None:
    main = MAIN.replace("  annotations:\n", f'  annotations:\n    {P}/affinity-canary-behavior: "sticky"\n')
    canary = CANARY.replace('session-cookie-name: "route"', 'session-cookie-name: "pin"')
    path = tmp_path / "pair.yaml"
    path.write_text(main + "---\n" + canary, encoding="utf-8")
    report = json.loads(run("--check", str(path), "--format", "json").stdout)
    fields = [(f["severity"], f["field"]) for i in report["ingresses"] for f in i["findings"]]
    assert ("warning", f"{P}/affinity-canary-behavior") in fields
    assert ("warning", f"{P}/session-cookie-*") in fields
    assert report["problems"] == 0


def test_two_main_ingresses_on_one_route_are_still_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(MAIN + "---\n" + MAIN.replace("name: shop\n", "name: shop2\n", 1),
                    encoding="utf-8")
    out = run("--check", str(path))
    assert out.returncode == 1
    assert "both route host shop.example.com path /" in out.stdout


def test_patch_a_bare_pair_patches_both_with_canary_behavior_only_on_the_canary(
        tmp_path: Path) -> None:
    bare_main = MAIN.replace("  annotations:\n" + AFFINITY, "")
    bare_canary = CANARY.replace(AFFINITY, "").replace(
        f'    {P}/affinity-canary-behavior: "legacy"\n', "")
    path = tmp_path / "pair.yaml"
    path.write_text(bare_main + "---\n" + bare_canary, encoding="utf-8")
    out = run("--patch", str(path), "--format", "json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["patched"] == ["shop", "shop-canary"]
    main, canary = docs(payload["text"])
    assert f"{P}/affinity-canary-behavior" not in main["metadata"]["annotations"]
    assert canary["metadata"]["annotations"][f"{P}/affinity-canary-behavior"] == "sticky"
    assert canary["metadata"]["annotations"][f"{P}/canary-weight"] == "20"
    # The untouched "20" keeps its double quotes (it used to come back as '20').
    assert f'    {P}/canary-weight: "20"\n' in payload["text"]
    assert {k: v for k, v in canary["metadata"]["annotations"].items() if "canary" not in k} == \
        main["metadata"]["annotations"]
    for doc in (main, canary):
        k8s_valid(doc)
    # Notices never land in the file.
    assert "#" not in payload["text"]


def test_patch_keeps_the_pair_valid_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "pair.yaml"
    path.write_text(PAIR, encoding="utf-8")
    out = run("--patch", str(path), "--canary-behavior", "legacy")
    assert out.returncode == 0, out.stderr
    assert out.stdout == PAIR  # already what we would write: byte for byte the same
    assert run("--check", str(path)).returncode == 0
