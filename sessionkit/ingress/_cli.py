"""``sessionkit ingress``: cookie-affinity config for apps that cannot move their sessions yet.

Importing this module is cheap: ruamel.yaml (the ``ingress`` extra) is imported only when
something is rendered, parsed or patched.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sessionkit.ingress._targets import TARGETS

EPILOG = """\
modes (default: generate):
  sessionkit ingress                               annotations for ingress-nginx
  sessionkit ingress --output manifest --host app.example.com --service web --port 8080
  sessionkit ingress --patch k8s/app.yaml [--in-place] [--name app]
  sessionkit ingress --check k8s/app.yaml [--target aws --deregistration-delay 30]
  sessionkit ingress --drain --target aws --name web --namespace shop
  sessionkit ingress --convert k8s/app.yaml --target gateway|traefik|aws|f5|emissary|istio|...
  sessionkit ingress --from-lint lint-report.json --output manifest
  sessionkit ingress --target gateway|traefik|traefik-ingressroute|aws|f5|emissary|istio|
                    envoy-gateway|contour ...

exit codes: 0 ok, 1 --check found problems, 2 usage or configuration error (nothing written)
"""


def _bool_flag(group: Any, name: str, help_text: str) -> None:
    group.add_argument(f"--{name}", dest=name.replace("-", "_"), action=argparse.BooleanOptionalAction,
                       default=None, help=help_text)


def register(subparsers: Any) -> None:
    """Add the ``ingress`` subcommand to the ``sessionkit`` parser."""
    p = subparsers.add_parser(
        "ingress", help="generate, patch or check cookie-affinity config (stop-gap)",
        usage="%(prog)s [--patch FILE | --check FILE | --drain | --convert FILE] [--target TARGET] "
        "[OPTION ...]",  # the options are listed by --help
        description="Cookie-affinity config for apps that cannot move their sessions out of the "
        "process yet: generate it, patch it into manifests, or check what you have.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--target", choices=TARGETS, default=None,
                   help="controller (default: nginx = ingress-nginx)")
    p.add_argument("--output", choices=("annotations", "manifest", "ingress", "patch"),
                   default="annotations",
                   help="annotations fragment, full manifest (alias: ingress) or merge patch")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--patch", metavar="FILE", help="add/update annotations in FILE's Ingress")
    mode.add_argument("--check", metavar="FILE", help="audit FILE's affinity config; exit 1 on problems")
    mode.add_argument("--drain", action="store_true", help="strategic-merge patch for the app's "
                      "Deployment (preStop, grace period, PDB) so deploys drop no requests")
    mode.add_argument("--convert", metavar="FILE", help="convert FILE's ingress-nginx Ingresses to "
                      "--target, keeping the affinity; says what cannot carry over")
    p.add_argument("--in-place", action="store_true", help="with --patch: rewrite FILE atomically")
    p.add_argument("--from-lint", metavar="REPORT", help="sessionkit lint JSON report")
    c = p.add_argument_group("cookie")
    c.add_argument("--cookie-name", metavar="NAME", help="affinity cookie name (default: route)")
    c.add_argument("--app-cookie", metavar="NAME", help="the app's own session cookie: never reused")
    c.add_argument("--max-age", metavar="SECONDS", help="cookie lifetime in seconds (default: 172800); "
                   "with --check: the app's session lifetime the pin must last")
    c.add_argument("--expires", metavar="SECONDS", help="nginx: Expires seconds (default: same as --max-age)")
    c.add_argument("--cookie-path", metavar="PATH", help='cookie Path (default: "/"); with '
                   "--check: the app's session cookie path the affinity cookie must cover")
    c.add_argument("--cookie-domain", metavar="DOMAIN", help="cookie Domain (default: host-only)")
    c.add_argument("--samesite", metavar="VALUE", help="Lax (default), Strict or None")
    _bool_flag(c, "secure", "Secure flag (default: on); with --check: TLS is in front")
    _bool_flag(c, "httponly", "traefik/f5: HttpOnly flag (default: on)")
    _bool_flag(c, "conditional-samesite-none", "nginx: omit SameSite=None for old browsers")
    n = p.add_argument_group("ingress-nginx")
    n.add_argument("--mode", metavar="MODE", help="affinity-mode: persistent (default) or balanced")
    n.add_argument("--canary-behavior", metavar="VALUE", help="sticky (default) or legacy")
    _bool_flag(n, "change-on-failure", "re-pin when the pinned pod fails (default: on)")
    n.add_argument("--annotations-prefix", metavar="PREFIX", help="controller --annotations-prefix "
                   "(default: nginx.ingress.kubernetes.io)")
    g = p.add_argument_group("gateway / aws")
    g.add_argument("--absolute-timeout", metavar="DURATION", help="gateway: Duration (48h) or seconds")
    g.add_argument("--lifetime", metavar="TYPE", help="gateway: Permanent (default) or Session")
    g.add_argument("--gateway", metavar="NAME", help="gateway: parent Gateway name (default: gateway)")
    g.add_argument("--gateway-namespace", metavar="NAMESPACE", help="gateway: parent Gateway namespace")
    g.add_argument("--stickiness", metavar="TYPE", help="aws: lb_cookie (default) or app_cookie")
    d = p.add_argument_group("drain (--drain, and --check on Deployments)")
    d.add_argument("--deregistration-delay", metavar="SECONDS", help="how long the balancer keeps "
                   "sending to a terminating pod (default: aws 30, others 10)")
    d.add_argument("--request-timeout", metavar="SECONDS", default="30",
                   help="longest in-flight request (default: 30)")
    d.add_argument("--container", metavar="NAME", help="container to patch (default: --name)")
    o = p.add_argument_group("object")
    o.add_argument("--name", metavar="NAME", help="metadata.name (with --patch: which Ingress)")
    o.add_argument("--namespace", metavar="NAMESPACE")
    o.add_argument("--host", metavar="HOST", help="default: app.example.com")
    o.add_argument("--path", metavar="PATH", help='default: "/"')
    o.add_argument("--path-type", metavar="TYPE", help="Prefix (default), Exact or ImplementationSpecific")
    o.add_argument("--service", metavar="NAME", help="backend Service (default: app)")
    o.add_argument("--port", metavar="PORT", help="Service port number or name (default: 80)")
    o.add_argument("--tls-secret", metavar="SECRET", help="TLS Secret name")
    o.add_argument("--ingress-class", metavar="CLASS", help="spec.ingressClassName")
    o.add_argument("--selector", metavar="K=V,...", help="traefik manifest: Service selector "
                   "(default: app=SERVICE)")
    o.add_argument("--target-port", metavar="PORT", help="traefik manifest: Service targetPort "
                   "(default: --port)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``sessionkit ingress``; returns the exit code."""
    from sessionkit.ingress._render import MissingExtra
    from sessionkit.ingress._validate import AffinityConfigError

    given, args.target = args.target, args.target or "nginx"  # given: None when --target is absent
    try:
        if args.in_place and not args.patch:
            raise AffinityConfigError("--in-place needs --patch FILE")
        if args.check:
            return _check(args)
        if args.convert:
            return _convert(args, given)
        if args.drain:
            return _drain(args)
        return _generate(args)
    except MissingExtra as exc:
        print(f"sessionkit ingress: {exc}", file=sys.stderr)
        return 2
    except AffinityConfigError as exc:
        print(f"sessionkit ingress: error: {exc}", file=sys.stderr)
        return 2


def _check(args: argparse.Namespace) -> int:
    from sessionkit.ingress import _check
    from sessionkit.ingress._appcookie import AppCookie
    from sessionkit.ingress._nginx import DEFAULT_PREFIX
    from sessionkit.ingress._validate import (
        AffinityConfigError,
        cookie_path,
        dns1123_subdomain,
        positive_seconds,
    )

    if args.from_lint or args.in_place:
        raise AffinityConfigError("--check audits a file; drop --from-lint and --in-place")
    prefix = dns1123_subdomain(args.annotations_prefix or DEFAULT_PREFIX, "--annotations-prefix")
    plan = _drain_plan(args)
    app = AppCookie(name=args.app_cookie,
                    max_age=positive_seconds(args.max_age, "--max-age") if args.max_age else None,
                    path=cookie_path(args.cookie_path, "--cookie-path") if args.cookie_path else "/",
                    tls=bool(args.secure))
    reports = _check.audit_file(args.check, prefix, plan=plan, app=app)
    if args.format == "json":
        sys.stdout.write(json.dumps(_check.as_dict(args.check, reports), indent=2) + "\n")
    else:
        sys.stdout.write(_check.render_text(args.check, reports))
    return 1 if not reports or _check.count(reports, "problem") else 0


def _drain_plan(args: argparse.Namespace) -> Any:
    from sessionkit.ingress._drain import DrainPlan

    return DrainPlan(args.target, args.deregistration_delay, args.request_timeout)


def _drain(args: argparse.Namespace) -> int:
    from sessionkit.ingress import _drain, _render, _traefik
    from sessionkit.ingress._validate import dns1123_label, object_name

    plan = _drain_plan(args)
    name = object_name(args.name or "app", "--name")
    namespace = dns1123_label(args.namespace, "--namespace") if args.namespace else None
    container = dns1123_label(args.container or name, "--container")
    docs = [_drain.deployment_patch(plan, name, namespace, container),
            _drain.pod_disruption_budget(name, namespace, _traefik.parse_selector(args.selector, name))]
    if args.target == "aws":
        docs.append(_drain.namespace_patch(namespace or "default"))
    out = _render.Output(args.target, "drain", tuple(docs), plan.reasons())
    sys.stdout.write(_render.to_json(out) if args.format == "json" else _render.to_yaml(out))
    return 0


def _convert(args: argparse.Namespace, target: str | None) -> int:
    from sessionkit.ingress import _convert, _convert_out, _render
    from sessionkit.ingress._nginx import DEFAULT_PREFIX
    from sessionkit.ingress._validate import AffinityConfigError

    if args.target not in _convert_out.BUILDERS:
        into = ", ".join(_convert_out.BUILDERS)
        raise AffinityConfigError(
            f"--convert needs --target, one of {into}" if target is None else
            f"--target {target} is not a conversion target: --convert reads ingress-nginx "
            f"Ingresses and converts them to one of {into}")
    prefix = args.annotations_prefix or DEFAULT_PREFIX
    results = [(src, _convert_out.convert(src, args.target))
               for src in _convert.read_sources(args.convert, prefix)]
    if args.format == "json":
        payload = {"file": args.convert, "target": args.target, "ingresses": [
            {"name": src.name, "line": src.line, "kept": r.kept,
             "dropped": [{"setting": what, "reason": why} for what, why in r.dropped],
             "documents": r.documents} for src, r in results]}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    header = [f"Converted from ingress-nginx ({args.convert}) for --target {args.target}."]
    for src, r in results:
        header += _convert.header(src, r)
    docs = tuple(d for _, r in results for d in r.documents)
    sys.stdout.write(_render.to_yaml(_render.Output(args.target, "manifest", docs, tuple(header))))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from sessionkit.ingress import _fromlint, _render, _targets

    blocking: list[_fromlint.BlockingFinding] = []
    if args.from_lint:
        blocking = _fromlint.read_report(args.from_lint)
        if not blocking:
            message = (f"{args.from_lint}: no lint findings with remedy 'affinity'; no affinity "
                       "fallback needed")
            if args.format == "json":
                print(json.dumps({"needed": False, "message": message}, indent=2))
            else:
                print(message)
            return 0
    out = _targets.build(args)
    lint_lines = tuple(_fromlint.header_lines(blocking)) if blocking else ()
    if args.patch:
        return _patch(args, out, lint_lines)
    if lint_lines:
        out = _render.Output(out.target, out.form, out.documents, (*out.header, *lint_lines),
                             out.key_comments, out.warnings, out.annotations_root)
    if args.format == "json":
        extra = {"blocking_findings": [b.__dict__ for b in blocking]} if args.from_lint else {}
        sys.stdout.write(_render.to_json(out, extra))
    else:
        for warning in out.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        sys.stdout.write(_render.to_yaml(out))
    return 0


def _patch(args: argparse.Namespace, out: Any, lint_lines: tuple[str, ...]) -> int:
    from sessionkit.ingress import _fileio, _patch
    from sessionkit.ingress._nginx import DEFAULT_PREFIX, RETIREMENT_NOTE
    from sessionkit.ingress._validate import AffinityConfigError

    if args.target not in ("nginx", "aws", "f5") or out.form != "annotations":
        raise AffinityConfigError("--patch adds Ingress annotations: use it with --target nginx, "
                                  "aws or f5 and without --output")
    annotations = dict(out.documents[0])
    if args.in_place:
        _fileio.check_rewritable(args.patch)
    prefix = args.annotations_prefix or DEFAULT_PREFIX
    canary_key = f"{prefix}/affinity-canary-behavior"
    canary_extra = ({canary_key: annotations.pop(canary_key, "sticky")}
                    if args.target == "nginx" else {})
    notes = (*RETIREMENT_NOTE, *lint_lines) if args.target == "nginx" else lint_lines
    result = _patch.apply(args.patch, annotations, prefix, args.name, canary_extra)
    findings = list(result.findings)
    if args.in_place:
        _fileio.atomic_write(args.patch, result.text)
    if args.format == "json":
        payload = {"file": args.patch, "in_place": bool(args.in_place),
                   "patched": list(result.patched), "findings": [f.as_dict() for f in findings],
                   "warnings": list(out.warnings), "notes": list(notes)}
        if not args.in_place:
            payload["text"] = result.text
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    for line in notes:
        print(f"note: {line}", file=sys.stderr)
    for warning in out.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for f in findings:
        print(f"{f.severity}: {f.field}: {f.message}", file=sys.stderr)
    if args.in_place:
        print(f"patched {args.patch}: Ingress {', '.join(result.patched)}", file=sys.stderr)
    else:
        sys.stdout.write(result.text)
    return 0
