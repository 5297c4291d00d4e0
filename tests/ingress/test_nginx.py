"""ingress-nginx generator: whole annotation sets and manifests, option validation."""

from __future__ import annotations

import pytest
from _ingress_support import controller_uses, k8s_valid

from sessionkit._errors import ConfigurationError
from sessionkit.ingress._manifest import Backend, ingress_manifest, merge_patch
from sessionkit.ingress._nginx import NginxAffinity, nginx_annotations, nginx_reasons
from sessionkit.ingress._rules import audit_annotations
from sessionkit.ingress._validate import AffinityConfigError

P = "nginx.ingress.kubernetes.io"

# Written from the controller's documentation of each annotation, not from the generator.
DEFAULT = {
    f"{P}/affinity": "cookie",
    f"{P}/affinity-mode": "persistent",
    f"{P}/session-cookie-name": "route",
    f"{P}/session-cookie-path": "/",
    f"{P}/session-cookie-domain": "",
    f"{P}/session-cookie-samesite": "Lax",
    f"{P}/session-cookie-expires": "172800",
    f"{P}/session-cookie-max-age": "172800",
    f"{P}/session-cookie-secure": "true",
    f"{P}/session-cookie-change-on-failure": "true",
}


def test_defaults_are_the_documented_safe_set() -> None:
    ann = nginx_annotations(NginxAffinity())
    assert ann == DEFAULT
    assert list(ann) == list(DEFAULT)  # the controller's order
    # Emitted only where they act: canary-behavior on a canary, conditional with SameSite None.
    assert f"{P}/affinity-canary-behavior" not in ann
    assert f"{P}/session-cookie-conditional-samesite-none" not in ann
    assert all(isinstance(value, str) for value in ann.values())


def test_options_without_effect_are_refused_or_left_out() -> None:
    with pytest.raises(AffinityConfigError, match="only acts with --samesite None"):
        NginxAffinity(conditional_samesite_none=True)
    ann = nginx_annotations(NginxAffinity(samesite="None"))
    assert ann[f"{P}/session-cookie-conditional-samesite-none"] == "false"
    assert nginx_annotations(NginxAffinity(canary=True))[f"{P}/affinity-canary-behavior"] == "sticky"
    assert f"{P}/affinity-canary-behavior" not in nginx_annotations(
        NginxAffinity(canary_behavior="legacy"))


def test_every_default_value_is_used_by_the_controller() -> None:
    for key, value in nginx_annotations(NginxAffinity()).items():
        suffix = key.split("/", 1)[1]
        if value:  # the empty domain means "unset", which is what we want
            assert controller_uses(suffix, value), key


def test_custom_options_and_prefix() -> None:
    o = NginxAffinity(
        cookie_name="sk_pin", mode="balanced", canary_behavior="legacy", cookie_path="/shop",
        cookie_domain=".example.com", samesite="None", conditional_samesite_none=True,
        max_age=3600, expires=7200, secure=True, change_on_failure=False,
        prefix="ingress.example.org", canary=True,
    )
    q = "ingress.example.org"
    assert nginx_annotations(o) == {
        f"{q}/affinity": "cookie",
        f"{q}/affinity-mode": "balanced",
        f"{q}/affinity-canary-behavior": "legacy",
        f"{q}/session-cookie-name": "sk_pin",
        f"{q}/session-cookie-path": "/shop",
        f"{q}/session-cookie-domain": ".example.com",
        f"{q}/session-cookie-samesite": "None",
        f"{q}/session-cookie-conditional-samesite-none": "true",
        f"{q}/session-cookie-expires": "7200",
        f"{q}/session-cookie-max-age": "3600",
        f"{q}/session-cookie-secure": "true",
        f"{q}/session-cookie-change-on-failure": "false",
    }
    assert o.warnings == (
        "--mode balanced moves some sessions to new pods on scale-up (they are lost)",
    )


def test_every_annotation_has_a_reason_comment() -> None:
    reasons = nginx_reasons(NginxAffinity())
    assert list(reasons) == list(DEFAULT)
    assert reasons[f"{P}/affinity"] == (
        'only "cookie" (lowercase) enables stickiness; any other value disables it'
    )


def test_full_ingress_manifest() -> None:
    b = Backend(name="shop", namespace="prod", host="shop.example.com", path="/",
                service="web", port="http", tls_secret="shop-tls")
    doc = ingress_manifest(b, DEFAULT)
    assert doc == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "shop", "namespace": "prod", "annotations": DEFAULT},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
            "rules": [{
                "host": "shop.example.com",
                "http": {"paths": [{
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": {"service": {"name": "web", "port": {"name": "http"}}},
                }]},
            }],
        },
    }
    k8s_valid(doc)


def test_patch_document_with_port_number() -> None:
    doc = merge_patch(Backend(name="shop", port="8080"), DEFAULT)
    assert doc == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "shop", "annotations": DEFAULT},
    }
    k8s_valid(doc)
    assert Backend(port="8080").port == 8080


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cookie_name": "my cookie"}, "--cookie-name"),
        ({"cookie_name": "a/b"}, "--cookie-name"),
        ({"cookie_name": ""}, "--cookie-name"),
        ({"mode": "Persistent"}, "--mode"),
        ({"canary_behavior": "STICKY"}, "--canary-behavior"),
        ({"cookie_path": "shop"}, "--cookie-path"),
        ({"cookie_path": "/a?b=1"}, "--cookie-path"),
        ({"cookie_domain": "exa mple.com"}, "--cookie-domain"),
        ({"samesite": "lax"}, "--samesite"),
        ({"max_age": 0}, "--max-age"),
        ({"max_age": "abc5"}, "--max-age"),
        ({"expires": "0x"}, "--expires"),
        ({"expires": -5}, "--expires"),
        ({"prefix": "Nginx.Ingress"}, "--annotations-prefix"),
        ({"app_cookie": "route"}, "--cookie-name"),
        ({"samesite": "None", "secure": False}, "--samesite"),
        ({"cookie_name": "__Host-pin", "cookie_path": "/shop"}, "--cookie-name"),
        ({"cookie_name": "__Secure-pin", "secure": False}, "--cookie-name"),
    ],
)
def test_invalid_options_are_refused_naming_the_field(kwargs: dict[str, object],
                                                       field: str) -> None:
    with pytest.raises(AffinityConfigError) as info:
        NginxAffinity(**kwargs)  # type: ignore[arg-type]
    assert str(info.value).startswith(field)
    assert isinstance(info.value, ConfigurationError)
    assert isinstance(info.value, ValueError)


def test_app_cookie_lookalikes_warn() -> None:
    assert NginxAffinity(cookie_name="sessionid").warnings == (
        "cookie name 'sessionid' is a common framework session cookie name; make sure it is not "
        "the app's own session cookie (pass --app-cookie NAME to check)",
    )
    assert NginxAffinity(cookie_name="Route", app_cookie="route").warnings == (
        "cookie name 'Route' differs from --app-cookie only by case",
    )


def test_generated_annotations_pass_our_own_audit() -> None:
    ann = nginx_annotations(NginxAffinity())
    assert audit_annotations(ann, P) == []
