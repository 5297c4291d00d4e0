"""Add or update affinity annotations in an existing multi-document manifest.

Only the chosen Ingress documents are re-emitted (ruamel.yaml round-trip keeps their comments,
key order and quoting); every other document keeps its exact text. Any error leaves the file
untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sessionkit.ingress import _yamlio
from sessionkit.ingress._traps import duplicate_routes, ingress_traps
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
    chunks: list[_yamlio.Chunk], path: str, name: str | None
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
    if len(chosen) > 1 and name is None:
        names = ", ".join(_name(doc) or f"document {i}" for i, doc in ingresses)
        raise AffinityConfigError(
            f"--patch {path}: {len(chosen)} Ingresses ({names}); pass --name to choose one"
        )
    return ingresses, chosen


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


def _key_column(doc: Any, ann: Any, step: int) -> int:
    if len(ann):
        return int(ann.lc.key(next(iter(ann)))[1])
    meta = doc["metadata"]
    first = next(iter(meta))
    return int(meta.lc.key(first)[1]) + step if first != "annotations" else step * 2


def apply(
    path: str, annotations: dict[str, str], prefix: str, name: str | None = None,
    comment: tuple[str, ...] = (),
) -> PatchResult:
    """Return the patched text of ``path``; raise :class:`AffinityConfigError` on anything odd."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    _, chunks = _yamlio.load(path, "--patch")
    ingresses, chosen = _select(chunks, path, name)
    dupes = duplicate_routes((chunks[i].start_line, doc) for i, doc in ingresses)
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
        ann = _annotations(doc, path, index)
        column = _key_column(doc, ann, chunk.indent[0])
        for key, value in annotations.items():
            ann[key] = DoubleQuotedScalarString(value)
        # The note goes above the first annotation we manage, once: re-patching keeps one copy.
        if comment and comment[0] not in chunk.text:
            first = next(iter(annotations))
            ann.yaml_set_comment_before_after_key(first, before="\n".join(comment), indent=column)
        chunk.text = _yamlio.dump(chunk)
        findings.extend(ingress_traps(doc, prefix))
        patched.append(_name(doc))
    return PatchResult(_yamlio.join(chunks), tuple(patched), tuple(findings))
