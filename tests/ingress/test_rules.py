"""Auditing existing annotations: the controller's silent fallbacks become explicit problems."""

from __future__ import annotations

import pytest
from _ingress_support import controller_uses

from sessionkit.ingress._rules import audit_annotations, value_problem
from sessionkit.ingress._traps import duplicate_routes, ingress_traps
from sessionkit.ingress._validate import Finding

P = "nginx.ingress.kubernetes.io"


def test_capital_cookie_is_refused_with_the_reason() -> None:
    assert not controller_uses("affinity", "Cookie")  # the controller's own rule
    assert value_problem("affinity", "Cookie") == (
        "'Cookie' is not \"cookie\": the controller compares case-sensitively, logs and silently "
        'disables stickiness. Write "cookie" (lowercase)'
    )


@pytest.mark.parametrize("value", ["abc5", "0x", "-5", "0", "1.5", "5 ", "１２"])
def test_expires_stricter_than_controller(value: str) -> None:
    assert value_problem("session-cookie-expires", value) is not None
    assert value_problem("session-cookie-max-age", value) is not None


def test_controller_regex_really_is_loose() -> None:
    # Why we are stricter: these pass affinityCookieExpiresRegex (an unanchored search).
    assert controller_uses("session-cookie-max-age", "abc5")
    assert controller_uses("session-cookie-max-age", "0x")


@pytest.mark.parametrize(
    ("suffix", "value"),
    [
        ("affinity", "cookie"), ("affinity-mode", "balanced"), ("affinity-mode", "persistent"),
        ("affinity-canary-behavior", "legacy"), ("session-cookie-name", "INGRESSCOOKIE"),
        ("session-cookie-path", "/app"), ("session-cookie-domain", ""),
        ("session-cookie-domain", "example.com"), ("session-cookie-samesite", "strict"),
        ("session-cookie-samesite", "None"), ("session-cookie-secure", "True"),
        ("session-cookie-change-on-failure", "0"), ("session-cookie-expires", "1"),
    ],
)
def test_accepted_values(suffix: str, value: str) -> None:
    assert value_problem(suffix, value) is None


def test_non_string_value_is_a_problem() -> None:
    assert value_problem("session-cookie-max-age", 172800) == (
        'value 172800 is not a string; annotation values must be quoted strings (write "172800")'
    )


def test_audit_of_a_minimal_blog_config() -> None:
    ann = {
        f"{P}/affinity": "cookie",
        f"{P}/session-cookie-name": "route",
        f"{P}/session-cookie-expires": "172800",
        f"{P}/session-cookie-max-age": "172800",
    }
    assert audit_annotations(ann, P) == [
        Finding("warning", f"{P}/affinity-mode",
                "missing: defaults to balanced, which moves sessions on scale-up"),
        Finding("warning", f"{P}/session-cookie-path",
                'missing: defaults to the Ingress path; set "/"'),
        Finding("warning", f"{P}/session-cookie-change-on-failure",
                'not "true": a failed pod keeps its users pinned'),
        Finding("warning", f"{P}/session-cookie-secure",
                'not "true": no Secure flag when TLS ends before the controller'),
    ]


def test_audit_without_affinity() -> None:
    assert audit_annotations({f"{P}/session-cookie-name": "route"}, P) == [
        Finding("problem", f"{P}/affinity",
                'missing: session-cookie-* annotations do nothing without affinity: "cookie"'),
    ]
    assert audit_annotations({}, P) == [
        Finding("problem", f"{P}/affinity", "missing: no cookie affinity"),
    ]


def test_audit_app_cookie_and_typos() -> None:
    ann = {
        f"{P}/affinity": "cookie", f"{P}/affinity-mode": "persistent",
        f"{P}/session-cookie-name": "sessionid", f"{P}/session-cookie-path": "/",
        f"{P}/session-cookie-maxage": "10", f"{P}/session-cookie-secure": "true",
        f"{P}/session-cookie-change-on-failure": "true",
    }
    assert audit_annotations(ann, P, app_cookie="sessionid") == [
        Finding("warning", f"{P}/session-cookie-maxage",
                "not read by the controller's affinity parser (typo?)"),
        Finding("problem", f"{P}/session-cookie-name",
                "'sessionid' is the app's session cookie; affinity would overwrite it"),
    ]


def test_traps() -> None:
    doc = {
        "apiVersion": "networking.k8s.io/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "a", "annotations": {
            f"{P}/rewrite-target": "/$2", f"{P}/service-upstream": "true",
            f"{P}/canary": "true", "kubernetes.io/ingress.class": "nginx",
            "nginx.org/sticky-cookie-services": "serviceName=a route",
        }},
        "spec": {"ingressClassName": "nginx"},
    }
    assert [(f.severity, f.field) for f in ingress_traps(doc, P)] == [
        ("problem", "apiVersion"),
        ("problem", f"{P}/session-cookie-path"),
        ("problem", f"{P}/service-upstream"),
        ("warning", "metadata.annotations.kubernetes.io/ingress.class"),
        ("warning", "nginx.org/sticky-cookie-services"),
        ("warning", f"{P}/affinity"),  # a canary without affinity: its users are not pinned
    ]


def test_duplicate_host_path() -> None:
    def ing(ns: str) -> dict[str, object]:
        return {"metadata": {"name": "x", "namespace": ns}, "spec": {"rules": [
            {"host": "a.example.com", "http": {"paths": [{"path": "/"}]}}]}}

    assert duplicate_routes([(1, ing("a")), (9, ing("b"))]) == []
    assert duplicate_routes([(1, ing("a")), (9, ing("a"))]) == [
        Finding("problem", "spec.rules",
                "the Ingresses at lines 1 and 9 both route host a.example.com path /; the "
                "controller merges them and which affinity settings win is unclear"),
    ]
