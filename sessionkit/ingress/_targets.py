"""Per-target assembly: options from parsed arguments to an :class:`~._render.Output`.

Each target declares which options apply to it; any other option given is a usage error, so a
flag meant for one controller is never silently ignored for another.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from sessionkit.ingress import _aws, _envoy, _f5, _gateway, _nginx, _traefik
from sessionkit.ingress import _validate as v
from sessionkit.ingress._manifest import Backend, ingress_manifest, merge_patch
from sessionkit.ingress._render import Output
from sessionkit.ingress._validate import AffinityConfigError

TARGETS = ("nginx", "gateway", "traefik", "traefik-ingressroute", "aws", "f5", "emissary", "istio",
           "envoy-gateway", "contour")
COMMON = {"cookie_name", "app_cookie", "max_age", "name", "namespace", "host", "path",
          "path_type", "service", "port", "tls_secret"}
APPLIES: dict[str, set[str]] = {
    "nginx": COMMON | {"mode", "canary_behavior", "cookie_path", "cookie_domain", "samesite",
                       "conditional_samesite_none", "expires", "secure", "change_on_failure",
                       "annotations_prefix", "ingress_class"},
    "gateway": COMMON | {"absolute_timeout", "lifetime", "gateway", "gateway_namespace"},
    "traefik": COMMON | {"secure", "httponly", "samesite", "ingress_class", "selector",
                         "target_port"},
    "traefik-ingressroute": COMMON | {"secure", "httponly", "samesite"},
    "aws": (COMMON - {"cookie_name"}) | {"stickiness", "ingress_class"},
    "f5": COMMON | {"cookie_path", "cookie_domain", "secure", "httponly", "ingress_class"},
    "emissary": {"cookie_name", "app_cookie", "max_age", "cookie_path", "name", "namespace", "host",
                 "path", "service", "port"},
    "istio": {"cookie_name", "app_cookie", "max_age", "cookie_path", "secure", "samesite", "name",
              "namespace", "service"},
    "envoy-gateway": {"cookie_name", "app_cookie", "max_age", "cookie_path", "samesite", "secure",
                      "name", "namespace"},
    "contour": {"name", "namespace", "host", "path", "service", "port", "tls_secret"},
}
REGEX_CHARS = "()[]{}|*+?^$\\"
STAY_NOTE = (
    "Affinity is a stop-gap: sessions on a pod that dies are lost and load is uneven.",
    "Durable fix: keep sessions in Redis with sessionkit's session stores (docs/ingress.md).",
)


def check_applicable(args: argparse.Namespace) -> None:
    """Refuse options that do not apply to ``args.target``."""
    allowed = APPLIES[args.target]
    for dest in sorted(set().union(*APPLIES.values()) - allowed):
        if getattr(args, dest, None) is not None:
            flag = "--" + dest.replace("_", "-")
            raise AffinityConfigError(f"{flag} does not apply to --target {args.target}")


def _kw(args: argparse.Namespace, **mapping: str) -> dict[str, Any]:
    """Keyword arguments for the option dataclass: only what the user gave."""
    return {field: getattr(args, dest) for field, dest in mapping.items()
            if getattr(args, dest, None) is not None}


def backend(args: argparse.Namespace, default_class: str | None) -> Backend:
    """The object options (name, host, path, service, port, TLS secret, class)."""
    kw = _kw(args, name="name", namespace="namespace", host="host", path="path",
             path_type="path_type", service="service", port="port", tls_secret="tls_secret",
             ingress_class="ingress_class")
    kw.setdefault("ingress_class", default_class)
    return Backend(**kw)


def nginx_options(args: argparse.Namespace) -> _nginx.NginxAffinity:
    """ingress-nginx options from the command line."""
    kw = _kw(args, cookie_name="cookie_name", mode="mode", canary_behavior="canary_behavior",
             cookie_path="cookie_path", cookie_domain="cookie_domain", max_age="max_age",
             expires="expires", secure="secure", change_on_failure="change_on_failure",
             app_cookie="app_cookie", prefix="annotations_prefix",
             conditional_samesite_none="conditional_samesite_none")
    if args.samesite is not None:
        kw["samesite"] = _nginx.parse_samesite(args.samesite)
    return _nginx.NginxAffinity(canary=args.canary_behavior is not None, **kw)


def _form(args: argparse.Namespace) -> str:
    return "manifest" if args.output == "ingress" else str(args.output)


def _nginx_output(args: argparse.Namespace, form: str) -> Output:
    o = nginx_options(args)
    if o.canary and form != "annotations":
        raise AffinityConfigError(
            "--canary-behavior acts only on a canary Ingress: use it with the annotations "
            "fragment for the canary, or --patch a file holding the pair")
    ann = _nginx.nginx_annotations(o)
    header = (*_nginx.RETIREMENT_NOTE, *STAY_NOTE, *(() if o.canary else _nginx.CANARY_NOTE))
    warnings = o.warnings
    if form == "annotations":
        docs: tuple[dict[str, Any], ...] = (ann,)
    else:
        b = backend(args, "nginx")
        docs = (ingress_manifest(b, ann) if form == "manifest" else merge_patch(b, ann),)
        if b.path_type == "ImplementationSpecific" and any(c in b.path for c in REGEX_CHARS):
            warnings += (f'--path {b.path!r} looks like a regex: add {o.prefix}/use-regex: "true" '
                         "(the explicit session-cookie-path keeps affinity working)",)
    return Output("ingress-nginx", form, docs, header, _nginx.nginx_reasons(o), warnings,
                  annotations_root=form == "annotations")


def _gateway_output(args: argparse.Namespace, form: str) -> Output:
    kw = _kw(args, session_name="cookie_name", lifetime="lifetime", gateway="gateway",
             gateway_namespace="gateway_namespace")
    if args.absolute_timeout is not None or args.max_age is not None:
        kw["absolute_timeout"] = args.absolute_timeout or args.max_age
    if args.app_cookie is not None and args.app_cookie == kw.get("session_name", "route"):
        raise AffinityConfigError("--cookie-name: equals --app-cookie, the app's session cookie")
    o = _gateway.GatewayAffinity(**kw)
    if form == "patch":
        raise AffinityConfigError("--output patch does not apply to --target gateway; use "
                                  "manifest, or annotations for the rule fragment")
    doc = ({"sessionPersistence": _gateway.session_persistence(o)} if form == "annotations"
           else _gateway.httproute(o, backend(args, None)))
    return Output("gateway-api", form, (doc,), (*_gateway.NOTE, *STAY_NOTE))


def _traefik_options(args: argparse.Namespace) -> _traefik.TraefikAffinity:
    kw = _kw(args, cookie_name="cookie_name", secure="secure", http_only="httponly",
             max_age="max_age", app_cookie="app_cookie")
    if args.samesite is not None:
        kw["samesite"] = args.samesite.lower()
    return _traefik.TraefikAffinity(**kw)


def _traefik_output(args: argparse.Namespace, form: str) -> Output:
    o = _traefik_options(args)
    ann = _traefik.service_annotations(o)
    b = backend(args, "traefik")
    service_patch = merge_patch(Backend(name=b.service, namespace=b.namespace), ann, "Service", "v1")
    if form == "annotations":
        docs: tuple[dict[str, Any], ...] = (ann,)
    elif form == "patch":
        docs = (service_patch,)
    else:
        target_port = v.port(args.target_port, "--target-port") if args.target_port else b.port
        service = _traefik.service_manifest(b, ann, _traefik.parse_selector(args.selector, b.service),
                                            target_port)
        docs = (ingress_manifest(b, {}), service)
    note = (*_traefik.NOTE, *(_traefik.SERVICE_NOTE if form == "manifest" else ()), *STAY_NOTE)
    return Output("traefik", form, docs, note, annotations_root=form == "annotations")


def _ingressroute_output(args: argparse.Namespace, form: str) -> Output:
    o = _traefik_options(args)
    if form == "patch":
        raise AffinityConfigError("--output patch does not apply to --target "
                                  "traefik-ingressroute; use manifest or annotations")
    doc = ({"sticky": _traefik.sticky(o)} if form == "annotations"
           else _traefik.ingressroute(o, backend(args, None)))
    return Output("traefik-ingressroute", form, (doc,), STAY_NOTE)


def aws_annotations(args: argparse.Namespace) -> dict[str, str]:
    """ALB annotations from the command line."""
    kw = _kw(args, stickiness="stickiness", duration="max_age", app_cookie="app_cookie")
    return _aws.alb_annotations(_aws.AwsAffinity(**kw))


def f5_annotations(args: argparse.Namespace) -> dict[str, str]:
    """F5 NGINX Ingress Controller annotation from the command line."""
    kw = _kw(args, service="service", cookie_name="cookie_name", expires="max_age",
             domain="cookie_domain", http_only="httponly", secure="secure", path="cookie_path",
             app_cookie="app_cookie")
    return _f5.f5_annotations(_f5.F5Affinity(**kw))


def _ingress_annotation_output(target: str, note: tuple[str, ...], default_class: str,
                               make: Callable[[argparse.Namespace], dict[str, str]],
                               ) -> Callable[[argparse.Namespace, str], Output]:
    def build(args: argparse.Namespace, form: str) -> Output:
        ann = make(args)
        if form == "annotations":
            docs: tuple[dict[str, Any], ...] = (ann,)
        elif form == "manifest":
            docs = (ingress_manifest(backend(args, default_class), ann),)
        else:
            docs = (merge_patch(backend(args, default_class), ann),)
        return Output(target, form, docs, (*note, *STAY_NOTE),
                      annotations_root=form == "annotations")

    return build


def _envoy_output(args: argparse.Namespace, form: str) -> Output:
    if form == "patch":
        raise AffinityConfigError(f"--output patch does not apply to --target {args.target}; use "
                                  "manifest, or annotations for the fragment")
    kw = _kw(args, cookie_name="cookie_name", max_age="max_age", cookie_path="cookie_path",
             app_cookie="app_cookie", secure="secure")
    if args.max_age is not None:
        v.positive_seconds(args.max_age, "--max-age")  # 0 (a session cookie) only via --convert
    if args.samesite is not None:
        kw["samesite"] = _nginx.parse_samesite(args.samesite)
    if args.target == "istio":  # attributes only on request: Istio before 1.28 refuses the field
        kw["istio_attributes"] = bool(args.secure) or args.samesite is not None
    o = _envoy.EnvoyCookie(**kw)
    b = backend(args, None)
    fragments: dict[str, Callable[[], dict[str, Any]]] = {
        "emissary": lambda: {"load_balancer": _envoy.emissary_load_balancer(o)},
        "istio": lambda: {"trafficPolicy": _envoy.istio_traffic_policy(o)},
        "envoy-gateway": lambda: {"loadBalancer": _envoy.envoy_gateway_load_balancer(o)},
        "contour": lambda: {"loadBalancerPolicy": _envoy.contour_route_policy()},
    }
    manifests: dict[str, Callable[[], dict[str, Any]]] = {
        "emissary": lambda: _envoy.mapping(o, b),
        "istio": lambda: _envoy.destination_rule(o, b),
        "envoy-gateway": lambda: _envoy.backend_traffic_policy(o, b),
        "contour": lambda: _envoy.httpproxy(b),
    }
    doc = (fragments if form == "annotations" else manifests)[args.target]()
    note = (*_envoy.NOTES[args.target], *_envoy.RING_HASH_NOTE, *STAY_NOTE)
    return Output(args.target, form, (doc,), note)


BUILDERS: dict[str, Callable[[argparse.Namespace, str], Output]] = {
    "nginx": _nginx_output,
    "gateway": _gateway_output,
    "traefik": _traefik_output,
    "traefik-ingressroute": _ingressroute_output,
    "aws": _ingress_annotation_output("aws-load-balancer-controller", _aws.NOTE, "alb",
                                      aws_annotations),
    "f5": _ingress_annotation_output("f5-nginx-ingress-controller", _f5.NOTE, "nginx",
                                     f5_annotations),
    "emissary": _envoy_output,
    "istio": _envoy_output,
    "envoy-gateway": _envoy_output,
    "contour": _envoy_output,
}


def build(args: argparse.Namespace) -> Output:
    """Validate the options for ``args.target`` and build the requested output form."""
    check_applicable(args)
    return BUILDERS[args.target](args, _form(args))
