"""Add or update affinity annotations in an existing multi-document manifest.

Annotations are set line by line (:mod:`._splice`), so every byte the patch does not change stays
as it was; only shapes that cannot be edited by line (flow-style ``metadata``) are re-emitted with
ruamel.yaml round-trip. A canary pair (one main Ingress and its ``canary: "true"`` twin) is patched
as a pair. Any error leaves the file untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sessionkit.ingress import _yamlio
from sessionkit.ingress._splice import splice
from sessionkit.ingress._traps import duplicate_routes, host_paths, ingress_traps, is_canary
from sessionkit.ingress._validate import AffinityConfigError, Finding


@dataclass(frozen=True)
class PatchResult:
    """The new file text, which Ingresses changed, and the traps seen in them."""

    text: str
    patched: tuple[str, ...]
    findings: tuple[Finding, ...]


def _name(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata")
    if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str):
        return ""
    ns = meta.get("namespace")
    return f"{ns}/{meta['name']}" if isinstance(ns, str) else str(meta["name"])


def _select(
    chunks: list[_yamlio.Chunk], path: str, name: str | None, prefix: str
) -> tuple[list[tuple[int, Mapping[str, Any]]], list[int]]:
    ingresses: list[tuple[int, Mapping[str, Any]]] = []
    for index, chunk in enumerate(chunks):
        doc = _yamlio.kube_object(chunk, index, path)
        if doc is not None and doc["kind"] == "Ingress":
            ingresses.append((index, doc))
    chosen = [
        i for i, doc in ingresses
        if name is None or _name(doc) == name or _name(doc).split("/")[-1] == name
    ]
    if not chosen:
        which = f" named {name!r}" if name else ""
        raise AffinityConfigError(f"--patch {path}: no Ingress{which} in the file")
    if len(chosen) > 1 and name is None and not _is_pair(ingresses, prefix):
        names = ", ".join(_name(doc) or f"document {i}" for i, doc in ingresses)
        raise AffinityConfigError(
            f"--patch {path}: {len(chosen)} Ingresses ({names}); pass --name to choose one"
        )
    return ingresses, chosen


def _is_pair(ingresses: list[tuple[int, Mapping[str, Any]]], prefix: str) -> bool:
    """One main Ingress and canaries that route only what it routes."""
    mains = [doc for _, doc in ingresses if not is_canary(doc, prefix)]
    if len(mains) != 1:
        return False
    routes = set(host_paths(mains[0]))
    return all(set(host_paths(doc)) <= routes for _, doc in ingresses if is_canary(doc, prefix))


def _annotations(doc: Any, path: str, index: int) -> Any:
    from ruamel.yaml.comments import CommentedMap

    meta: Any = doc.get("metadata")
    if meta is None:
        meta = CommentedMap()
        doc["metadata"] = meta
    if not isinstance(meta, dict):
        raise AffinityConfigError(f"--patch {path}: document {index}: metadata is not a mapping")
    ann = meta.get("annotations")
    if ann is None:
        ann = CommentedMap()
        meta["annotations"] = ann
    if not isinstance(ann, dict):
        raise AffinityConfigError(
            f"--patch {path}: document {index}: metadata.annotations is not a mapping"
        )
    return ann


def apply(
    path: str, annotations: dict[str, str], prefix: str, name: str | None = None,
    canary_extra: Mapping[str, str] | None = None,
) -> PatchResult:
    """Return the patched text of ``path``; raise :class:`AffinityConfigError` on anything odd.

    ``canary_extra`` (e.g. ``affinity-canary-behavior``) is added to canary Ingresses only.
    """
    _, chunks = _yamlio.load(path, "--patch")
    ingresses, chosen = _select(chunks, path, name, prefix)
    dupes = duplicate_routes(((chunks[i].start_line, doc) for i, doc in ingresses), prefix)
    if dupes:
        raise AffinityConfigError(f"--patch {path}: {dupes[0].message}")
    findings: list[Finding] = []
    patched: list[str] = []
    for index in chosen:
        chunk = chunks[index]
        doc = chunk.data
        if doc["apiVersion"] != "networking.k8s.io/v1":
            raise AffinityConfigError(
                f"--patch {path}: document {index} is {doc['apiVersion']}, not served since "
                "Kubernetes 1.22; migrate it to networking.k8s.io/v1 first"
            )
        wanted = dict(annotations)
        if is_canary(doc, prefix):
            wanted.update(canary_extra or {})
        _set(chunk, doc, wanted, path, index)
        findings.extend(ingress_traps(doc, prefix))
        patched.append(_name(doc))
    return PatchResult(_yamlio.join(chunks), tuple(patched), tuple(findings))


def _set(chunk: _yamlio.Chunk, doc: Any, wanted: dict[str, str], path: str, index: int) -> None:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    text = splice(chunk.text, doc, wanted, chunk.indent[0])
    ann = _annotations(doc, path, index)
    for key, value in wanted.items():
        ann[key] = DoubleQuotedScalarString(value)
    chunk.text = text if text is not None else _yamlio.dump(chunk)
