"""``--convert FILE``: read ingress-nginx Ingresses, keep their affinity on another controller.

Every setting found in the source is accounted for: it is carried over (``kept``) or listed with
the reason it cannot be (``dropped``), in the output's comment. Nothing is dropped silently; that
includes annotations that have nothing to do with affinity (they are listed for porting by hand).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sessionkit.ingress import _yamlio
from sessionkit.ingress._manifest import Backend
from sessionkit.ingress._traps import annotations_of, is_canary, sub
from sessionkit.ingress._validate import AffinityConfigError

AFFINITY_SUFFIXES = (
    "affinity", "affinity-mode", "affinity-canary-behavior", "session-cookie-name",
    "session-cookie-path", "session-cookie-domain", "session-cookie-samesite",
    "session-cookie-conditional-samesite-none", "session-cookie-expires", "session-cookie-max-age",
    "session-cookie-secure", "session-cookie-change-on-failure", "session-cookie-partitioned",
)


@dataclass(frozen=True)
class Route:
    """One host/path of an Ingress and where it goes."""

    host: str
    path: str
    path_type: str
    service: str
    port: int | str
    tls_secret: str | None


@dataclass(frozen=True)
class Source:
    """One ingress-nginx Ingress: name, routes, affinity settings and the other annotations."""

    name: str
    namespace: str | None
    line: int
    canary: bool
    settings: dict[str, str]
    other: dict[str, str]
    routes: tuple[Route, ...]

    def backend(self, route: Route, name: str, ingress_class: str | None = None) -> Backend:
        """A validated :class:`Backend` for ``route`` (errors name the source line)."""
        try:
            return Backend(name=name, namespace=self.namespace, host=route.host, path=route.path,
                           path_type=route.path_type,  # type: ignore[arg-type]
                           service=route.service, port=route.port, tls_secret=route.tls_secret,
                           ingress_class=ingress_class)
        except AffinityConfigError as exc:
            raise AffinityConfigError(f"Ingress {self.name} (line {self.line}): {exc}") from exc

    def lifetime(self) -> int | None:
        """Cookie lifetime in seconds: max-age, else expires, else ``None`` (a session cookie)."""
        for key in ("session-cookie-max-age", "session-cookie-expires"):
            value = self.settings.get(key, "")
            if value.isdigit() and int(value) > 0:
                return int(value)
        return None


@dataclass
class Converted:
    """Documents for one source Ingress and the account of every setting."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _routes(doc: Mapping[str, Any], name: str) -> tuple[Route, ...]:
    spec = sub(doc, "spec")
    tls: dict[str, str] = {}
    for item in spec.get("tls") or []:
        for host in (item.get("hosts") or []) if isinstance(item, Mapping) else []:
            if isinstance(item.get("secretName"), str):
                tls[str(host)] = item["secretName"]
    routes: list[Route] = []
    for rule in spec.get("rules") or []:
        if not isinstance(rule, Mapping) or not rule.get("host"):
            raise AffinityConfigError(f"Ingress {name}: a rule without host cannot be converted; "
                                      "give every rule a host")
        paths = (rule.get("http") or {}).get("paths") or []
        for item in paths:
            svc = ((item.get("backend") or {}).get("service") or {}) if isinstance(item, Mapping) else {}
            port = svc.get("port") or {}
            if not svc.get("name") or not (port.get("number") or port.get("name")):
                raise AffinityConfigError(f"Ingress {name}: path {item.get('path')!r} has no "
                                          "service backend (name and port)")
            routes.append(Route(str(rule["host"]), str(item.get("path") or "/"),
                                str(item.get("pathType") or "Prefix"), str(svc["name"]),
                                port.get("number") or str(port["name"]), tls.get(str(rule["host"]))))
    if not routes:
        raise AffinityConfigError(f"Ingress {name}: no host/path rules to convert")
    return tuple(routes)


def read_sources(path: str, prefix: str) -> list[Source]:
    """Every Ingress in ``path`` as a :class:`Source`; raise on anything that cannot convert."""
    _, chunks = _yamlio.load(path, "--convert")
    sources: list[Source] = []
    for index, chunk in enumerate(chunks):
        doc = _yamlio.kube_object(chunk, index, path)
        if doc is None or doc["kind"] != "Ingress":
            continue
        meta = sub(doc, "metadata")
        name = str(meta.get("name") or f"ingress-{index}")
        ann = {str(k): str(v) for k, v in annotations_of(doc).items()}
        ours = {k[len(prefix) + 1:]: val for k, val in ann.items() if k.startswith(prefix + "/")}
        settings = {k: val for k, val in ours.items() if k in AFFINITY_SUFFIXES}
        other = {k: val for k, val in ann.items()
                 if not (k.startswith(prefix + "/") and k[len(prefix) + 1:] in AFFINITY_SUFFIXES)}
        if (doc.get("spec") or {}).get("defaultBackend"):
            other["spec.defaultBackend"] = "set"
        ns = meta.get("namespace")
        sources.append(Source(name, str(ns) if ns else None, chunk.start_line,
                              is_canary(doc, prefix), settings, other, _routes(doc, name)))
    if not sources:
        raise AffinityConfigError(f"--convert {path}: no Ingress in the file")
    return sources


def account(src: Source, keeps: frozenset[str], target: str, result: Converted,
            reasons: Mapping[str, str]) -> None:
    """Fill ``result.kept``/``dropped`` so that every setting and annotation of ``src`` appears."""
    for key, value in src.settings.items():
        if key in keeps:
            result.kept.append(f"{key}={value}")
        else:
            why = reasons.get(key, f"{target} has no equivalent setting")
            result.dropped.append((f"{key}={value}", why))
    for key, value in src.other.items():
        if key.endswith("/canary") or "/canary-" in key:
            why = "canary routing is not converted: express it as a weighted backend in the target"
        else:
            why = "not an affinity setting: port it by hand"
        result.dropped.append((f"{key}={value}", why))
    if "affinity" not in src.settings:
        result.dropped.append(("(no affinity annotation)",
                               "the source Ingress has no cookie affinity; none is added"))


def header(src: Source, result: Converted) -> list[str]:
    """Comment lines saying what carried over and what did not."""
    lines = [f"From Ingress {src.name} (line {src.line}):", *(f"  {n}" for n in result.notes)]
    lines.append("  kept: " + (", ".join(result.kept) or "nothing"))
    if result.dropped:
        lines.append("  cannot carry over:")
        lines += [f"    {what}: {why}" for what, why in result.dropped]
    return lines
