"""An independent model of what ingress-nginx accepts, written from the controller's Go source.

kubernetes/ingress-nginx ``internal/ingress/annotations/sessionaffinity/main.go`` registers one
validator per annotation; ``internal/ingress/annotations/parser/validators.go`` defines them. The
Go regexes are translated literally: Go's ``MatchString`` is an unanchored search, ``$`` is end of
text (``\\Z`` here) and ``\\d`` is ASCII. After validation, ``cookieAffinityParse`` re-checks
expires/max-age with the same regex, and ``Parse`` enables affinity only for ``at == "cookie"``.
This module is deliberately not shared with the implementation.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

ALNUM = r"\-\.\_\~a-zA-Z0-9\/:"
BASIC_CHARS = re.compile("^[/" + ALNUM + r"]*\Z")
URL_CHARS = re.compile("^[" + ALNUM + re.escape(":?&=") + r"]*\Z")
EXPIRES = re.compile(r"(^0|-?[1-9][0-9]*\Z)")
GO_BOOLS = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}
_GO_SPACE = " \t\n\v\f\r\x85\xa0"


def _options(options: tuple[str, ...], case_sensitive: bool) -> Any:
    def check(s: str) -> bool:
        s = s.strip(_GO_SPACE)
        if not case_sensitive:
            s = s.lower()
        return s in options

    return check


def _regex(pattern: re.Pattern[str], remove_space: bool) -> Any:
    def check(s: str) -> bool:
        if remove_space:
            s = s.replace(" ", "")
        return pattern.search(s) is not None

    return check


VALIDATORS: dict[str, Any] = {
    "affinity": _options(("cookie",), True),
    "affinity-mode": _options(("balanced", "persistent"), True),
    "affinity-canary-behavior": _options(("sticky", "legacy"), True),
    "session-cookie-name": _regex(BASIC_CHARS, True),
    "session-cookie-secure": lambda s: s in GO_BOOLS,
    "session-cookie-expires": _regex(EXPIRES, True),
    "session-cookie-max-age": _regex(EXPIRES, False),
    "session-cookie-path": _regex(URL_CHARS, True),
    "session-cookie-domain": _regex(BASIC_CHARS, True),
    "session-cookie-samesite": _options(("none", "lax", "strict"), False),
    "session-cookie-conditional-samesite-none": lambda s: s in GO_BOOLS,
    "session-cookie-change-on-failure": lambda s: s in GO_BOOLS,
}


def normalize(value: str) -> str:
    """parser.normalizeString: trim every line."""
    return "\n".join(line.strip(_GO_SPACE) for line in value.split("\n"))


def controller_uses(suffix: str, value: str) -> bool:
    """True when the controller keeps ``value`` instead of logging and using its default."""
    if value == "" or not VALIDATORS[suffix](value):
        return False
    parsed = normalize(value)
    if parsed == "":
        return False
    if suffix == "affinity":
        return parsed == "cookie"
    if suffix in ("session-cookie-expires", "session-cookie-max-age"):
        return EXPIRES.search(parsed) is not None
    return True


def k8s_valid(obj: dict[str, Any]) -> None:
    """Validate against the bundled Kubernetes 1.30 OpenAPI schema (raises on error)."""
    assert kubernetes_validate.validate(obj, "1.30", strict=True) == "1.30"


def run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``sessionkit ingress ARGS`` and capture text output."""
    return subprocess.run(
        [sys.executable, "-m", "sessionkit", "ingress", *args], capture_output=True, text=True, check=False, cwd=cwd
    )


CRDS = Path(__file__).parent / "crds"
CRD_INSTALL = f"npm ci --prefix {CRDS}"


def crd_valid(obj: dict[str, Any]) -> None:
    """Validate strictly against the project's own CRD schema (``crds/validate.mjs``).

    The kubernetes-models validator generated from the schema (npm packages pinned in
    ``crds/package.json``) checks types, enums, patterns and required fields but lets unknown
    fields through; the TypeScript compiler then checks the object against the interface the
    same package generates from the schema, which refuses any undeclared field, as
    ``kubectl apply --validate=strict`` does (maps and preserve-unknown-fields objects take any key).
    """
    if shutil.which("node") is None or not (CRDS / "node_modules").is_dir():
        pytest.fail(f"CRD validators are not installed: run `{CRD_INSTALL}` (needs node and npm)")
    proc = subprocess.run(["node", str(CRDS / "validate.mjs")], input=json.dumps(obj),
                          capture_output=True, text=True, check=False, timeout=120)
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok"), proc.stdout + proc.stderr
