"""``--patch``/``--check`` on hostile or unusual YAML and files: exit 2 with one line, nothing written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

P = "nginx.ingress.kubernetes.io"
QUOTED = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
    example.com/ssl: "yes"
    example.com/enabled: "on"
    example.com/time: "1:20"
    example.com/single: 'no'
spec:
  rules:
  - host: a.example.com
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sessionkit", "ingress", *args],
                          capture_output=True, text=True, check=False, timeout=120)


def one_line_error(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr


def test_quotes_of_yaml11_bool_and_sexagesimal_values_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(QUOTED, encoding="utf-8")
    proc = cli("--patch", str(path))
    assert proc.returncode == 0, proc.stderr
    for line in ('example.com/ssl: "yes"', 'example.com/enabled: "on"', 'example.com/time: "1:20"',
                 "example.com/single: 'no'"):
        assert line in proc.stdout
    # A YAML 1.1 reader (kubectl's) must still see strings.
    import yaml  # PyYAML: a YAML 1.1 loader, as kubectl's is

    doc = yaml.safe_load(proc.stdout)
    assert doc["metadata"]["annotations"]["example.com/ssl"] == "yes"
    assert doc["metadata"]["annotations"]["example.com/time"] == "1:20"


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: x}
"""
ALIASED_LABELS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  labels: &l
    app: web
  annotations: *l
spec:
  rules:
  - host: a.example.com
"""


@pytest.mark.parametrize("mode", ["--patch", "--check"])
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (BILLION_LAUGHS, "aliases"),
        (ALIASED_LABELS, "aliases"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested"),
        ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 400)), "nested"),
    ],
)
def test_hostile_yaml_exit_2_with_one_line(tmp_path: Path, mode: str, text: str,
                                           needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    one_line_error(cli(mode, str(path)), needle)
    assert path.read_text(encoding="utf-8") == text


def test_aliased_labels_never_receive_affinity_annotations(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(ALIASED_LABELS, encoding="utf-8")
    one_line_error(cli("--patch", str(path), "--in-place"), "aliases")
    doc = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert doc["metadata"]["labels"] == {"app": "web"}


def test_in_place_follows_a_symlink_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text(QUOTED, encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    proc = cli("--patch", str(link), "--in-place")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert f"{P}/affinity" in real.read_text(encoding="utf-8")


def test_in_place_keeps_mode_and_owner(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(QUOTED, encoding="utf-8")
    os.chmod(path, 0o640)
    if os.geteuid() == 0:
        os.chown(path, 12345, 23456)
    before = os.stat(path)
    assert cli("--patch", str(path), "--in-place").returncode == 0
    after = os.stat(path)
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert f"{P}/affinity" in path.read_text(encoding="utf-8")


def test_in_place_refuses_a_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(QUOTED, encoding="utf-8")
    os.chmod(path, 0o444)
    one_line_error(cli("--patch", str(path), "--in-place"), "read-only")
    assert path.read_text(encoding="utf-8") == QUOTED


def test_in_place_refuses_to_split_hard_links(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(QUOTED, encoding="utf-8")
    other = tmp_path / "other.yaml"
    os.link(path, other)
    one_line_error(cli("--patch", str(path), "--in-place"), "hard links")
    assert os.stat(path).st_ino == os.stat(other).st_ino
    assert path.read_text(encoding="utf-8") == QUOTED


@pytest.mark.parametrize("mode", ["--patch", "--check"])
def test_non_regular_paths_are_refused(tmp_path: Path, mode: str) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    one_line_error(cli(mode, str(fifo)), "not a regular file")  # would block forever on read
    one_line_error(cli(mode, "/dev/zero"), "not a regular file")
    one_line_error(cli(mode, str(tmp_path)), "not a regular file")


def test_dev_stdin_is_never_replaced() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sessionkit", "ingress", "--patch", "/dev/stdin", "--in-place"],
        input=QUOTED, capture_output=True, text=True, check=False, timeout=120)
    one_line_error(proc, "not a regular file")
    assert os.path.islink("/dev/stdin")


def test_undecodable_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: caf\xe9\n")
    one_line_error(cli("--check", str(path)), "not UTF-8")
    one_line_error(cli("--check", str(tmp_path / "missing.yaml")), "cannot read")
