"""The CLI edge: plain data plus comments to YAML (ruamel.yaml) or JSON text.

Generators return dicts; only this module and :mod:`._patch` import ruamel.yaml, lazily, since
it lives in the optional ``ingress`` extra.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

INSTALL_HINT = ("ruamel.yaml is missing: install the [ingress] extra, pip install "
                "'sessionkit-redis[ingress]' once released, or pip install '<checkout>[ingress]' "
                "from a git checkout")


class MissingExtra(RuntimeError):
    """ruamel.yaml (the ``ingress`` extra) is not installed."""


@dataclass(frozen=True)
class Output:
    """What a command prints: documents, a header comment, comments above keys, warnings."""

    target: str
    form: str
    documents: tuple[dict[str, Any], ...]
    header: tuple[str, ...] = ()
    key_comments: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    annotations_root: bool = False


def yaml_module() -> Any:
    """Import ruamel.yaml or raise :class:`MissingExtra` with the install hint."""
    try:
        import ruamel.yaml
    except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
        raise MissingExtra(INSTALL_HINT) from exc
    return ruamel.yaml


def new_yaml() -> Any:
    """A round-trip YAML instance in Kubernetes style (2-space maps, indented sequences)."""
    ruamel = yaml_module()
    yaml = ruamel.YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    return yaml


def _convert(value: Any, col: int, out: Output, quote: bool) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _convert(item, col + 2, out, quote or key == "annotations")
            comment = out.key_comments.get(key)
            if comment:
                node.yaml_set_comment_before_after_key(key, before=comment, indent=col)
        return node
    if isinstance(value, list):
        seq = CommentedSeq()
        for item in value:
            seq.append(_convert(item, col + 4, out, False))
        return seq
    if isinstance(value, str) and quote:
        return DoubleQuotedScalarString(value)
    return value


def to_yaml(out: Output) -> str:
    """Render ``out`` as YAML: header comment, then each document separated by ``---``."""
    yaml = new_yaml()
    buf = io.StringIO()
    for line in out.header:
        buf.write(f"# {line}\n" if line else "#\n")
    for index, doc in enumerate(out.documents):
        if index:
            buf.write("---\n")
        yaml.dump(_convert(doc, 0, out, out.annotations_root), buf)
    return buf.getvalue()


def to_json(out: Output, extra: dict[str, Any] | None = None) -> str:
    """Render ``out`` as one JSON object for tooling."""
    payload: dict[str, Any] = {
        "target": out.target,
        "form": out.form,
        "documents": list(out.documents),
        "notes": [line for line in out.header if line],
        "warnings": list(out.warnings),
    }
    payload.update(extra or {})
    return json.dumps(payload, indent=2) + "\n"
