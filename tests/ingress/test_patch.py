"""Round-trip patching of existing manifests: untouched bytes stay, errors write nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _ingress_support import k8s_valid
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from sessionkit.ingress import _fileio
from sessionkit.ingress._nginx import NginxAffinity, nginx_annotations
from sessionkit.ingress._patch import apply
from sessionkit.ingress._validate import AffinityConfigError

P = "nginx.ingress.kubernetes.io"
ANN = nginx_annotations(NginxAffinity())

SERVICE = """\
# Production manifests for the shop
apiVersion: v1
kind: Service
metadata:
  name: web   # the web tier
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
"""
INGRESS_HEAD = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    # keep TLS strict
    nginx.ingress.kubernetes.io/ssl-redirect: 'true'
"""
INGRESS_AFFINITY = "    nginx.ingress.kubernetes.io/affinity: Cookie   # copied from a blog\n"
INGRESS_TAIL = """\
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              name: http
"""
DEPLOYMENT = """\
# trailing doc
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
"""
MANIFEST = f"{SERVICE}---\n{INGRESS_HEAD}{INGRESS_AFFINITY}{INGRESS_TAIL}---\n{DEPLOYMENT}"


def write(tmp_path: Path, text: str, name: str = "app.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_patch_keeps_every_untouched_line(tmp_path: Path) -> None:
    result = apply(write(tmp_path, MANIFEST), ANN, P)
    expected_ann = "".join(f'    {key}: "{value}"\n' for key, value in ANN.items())
    expected_ann = expected_ann.replace(
        f'{P}/affinity: "cookie"\n', f'{P}/affinity: "cookie"   # copied from a blog\n', 1
    )
    assert result.text == (
        f"{SERVICE}---\n{INGRESS_HEAD}{expected_ann}{INGRESS_TAIL}---\n{DEPLOYMENT}"
    )
    assert result.patched == ("shop/web",)
    docs = list(YAML(typ="safe").load_all(result.text))
    assert docs[1]["metadata"]["annotations"] == {f"{P}/ssl-redirect": "true", **ANN}
    k8s_valid(docs[1])


def test_patch_adds_annotations_with_the_file_indentation(tmp_path: Path) -> None:
    text = (
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n    name: api\n"
        "    labels:\n        app: api\nspec:\n    rules:\n        -   host: api.example.com\n"
    )
    result = apply(write(tmp_path, text), ANN, P)
    body = "".join(f'        {key}: "{value}"\n' for key, value in ANN.items())
    assert result.text == (
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n    name: api\n"
        "    labels:\n        app: api\n    annotations:\n"
        f"{body}spec:\n    rules:\n        -   host: api.example.com\n"
    )


def test_untouched_bytes_stay_identical(tmp_path: Path) -> None:
    text = (
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n"
        "  annotations:\n"
        '    nginx.ingress.kubernetes.io/canary-weight: "20"     # odd spacing kept\n'
        "    example.com/flow: {a: 1,   b: [x,y]}\n"
        "    example.com/folded: >-\n      long\n      text\n"
        f"    {P}/session-cookie-name: 'old'  # was here\n"
        "    example.com/last: \"yes\"\n"
        "\n# a comment between\nspec:\n  rules:\n  - host: a.example.com   # host\n"
    )
    result = apply(write(tmp_path, text), ANN, P)
    assert result.text.startswith(text.split(f"    {P}/session-cookie-name")[0])
    assert f'    {P}/session-cookie-name: "route"  # was here\n' in result.text
    added = "".join(f'    {k}: "{v}"\n' for k, v in ANN.items() if k != f"{P}/session-cookie-name")
    assert result.text.endswith(
        '    example.com/last: "yes"\n' + added
        + "\n# a comment between\nspec:\n  rules:\n  - host: a.example.com   # host\n")
    assert YAML(typ="safe").load(result.text)["metadata"]["annotations"]["example.com/last"] == "yes"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1\n", "not valid YAML"),
        ("a: 1\na: 2\n", "not valid YAML"),
        ("- just\n- a list\n", "not a Kubernetes object"),
        ("kind: Ingress\nmetadata: {name: x}\n", "not a Kubernetes object"),
        ("apiVersion: v1\nkind: List\nitems: []\n", "is a List"),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "no Ingress in the file"),
        ("--- !!map\napiVersion: v1\n", "content after '---'"),
        ("%YAML 1.2\n---\napiVersion: v1\n", "directives are not supported"),
        (
            "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: x}\n",
            "not served since Kubernetes 1.22",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\n---\n"
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: b}\n",
            "2 Ingresses",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {annotations: [1]}\n",
            "metadata.annotations is not a mapping",
        ),
    ],
)
def test_refusals(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(AffinityConfigError, match=message):
        apply(path, ANN, P)
    assert Path(path).read_text(encoding="utf-8") == text


def test_duplicate_host_path_refused(tmp_path: Path) -> None:
    doc = (
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {n}}}\nspec:\n"
        "  rules: [{{host: a.example.com, http: {{paths: [{{path: /}}]}}}}]\n"
    )
    path = write(tmp_path, doc.format(n="a") + "---\n" + doc.format(n="b"))
    with pytest.raises(AffinityConfigError, match=r"lines 1 and 7 both route host a\.example\.com"):
        apply(path, ANN, P, name="a")


def test_choose_by_name(tmp_path: Path) -> None:
    doc = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {n}}}\n"
    path = write(tmp_path, doc.format(n="a") + "---\n" + doc.format(n="b"))
    result = apply(path, ANN, P, name="b")
    assert result.patched == ("b",)
    assert result.text.startswith(doc.format(n="a") + "---\n")
    with pytest.raises(AffinityConfigError, match="no Ingress named 'c'"):
        apply(path, ANN, P, name="c")


def test_atomic_write_leaves_original_on_failure(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, MANIFEST)
    os.chmod(path, 0o640)

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        _fileio.atomic_write(path, "new")
    assert Path(path).read_text(encoding="utf-8") == MANIFEST
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.yaml"]
    monkeypatch.undo()
    _fileio.atomic_write(path, "new")
    assert Path(path).read_text(encoding="utf-8") == "new"
    assert os.stat(path).st_mode & 0o777 == 0o640


@settings(max_examples=200, deadline=None)
@given(junk=st.text(alphabet="abk:- \n#{}[]'\"!&*|>%", max_size=20),
       at=st.integers(min_value=0, max_value=len(MANIFEST)))
def test_damaged_manifests_are_patched_or_refused(junk: str, at: int) -> None:
    import tempfile

    text = MANIFEST[:at] + junk + MANIFEST[at:]
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), text)
        try:
            result = apply(path, ANN, P)
        except AffinityConfigError as exc:
            assert str(exc).startswith("--patch ") or ":" in str(exc)
            return
    # Round-trip loader: untouched documents may carry tags a safe loader refuses.
    patched = [d for d in YAML().load_all(result.text)
               if isinstance(d, dict) and d.get("kind") == "Ingress"]
    assert len(patched) == 1
    assert ANN.items() <= patched[0]["metadata"]["annotations"].items()


def test_crlf_files_keep_crlf(tmp_path: Path) -> None:
    text = MANIFEST.replace("\n", "\r\n")
    path = tmp_path / "crlf.yaml"
    path.write_bytes(text.encode())
    result = apply(str(path), ANN, P)
    assert "\n" not in result.text.replace("\r\n", "")
    assert result.text.startswith(SERVICE.replace("\n", "\r\n"))
