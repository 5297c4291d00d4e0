"""Multi-document manifests: split, load round-trip, re-dump one document, write atomically.

Documents are split on their ``---`` lines and each one is parsed on its own, so a patch re-emits
only the documents it changes; every other byte of the file is kept as it was read.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sessionkit.ingress._fileio import read_text
from sessionkit.ingress._render import yaml_module
from sessionkit.ingress._validate import AffinityConfigError

_SEP = re.compile(r"---(?:[ \t]+#.*)?[ \t]*")


@dataclass
class Chunk:
    """One document of a file: its ``---`` line (or ``""``), its text and parsed data."""

    separator: str
    text: str
    start_line: int
    data: Any = None
    indent: tuple[int, int, int] = (2, 2, 0)


def split(text: str, source: str) -> list[Chunk]:
    """Split on document-start lines; refuse ``---`` lines carrying content or directives."""
    chunks: list[Chunk] = []
    separator, start = "", 1
    body: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        bare = line.rstrip("\r\n")
        if bare.startswith("---") and (len(bare) == 3 or bare[3] in " \t"):
            if not _SEP.fullmatch(bare):
                raise AffinityConfigError(
                    f"{source}:{number}: content after '---' is not supported; put it on its "
                    "own line"
                )
            chunks.append(Chunk(separator, "".join(body), start))
            separator, body, start = line, [], number + 1
        elif bare.startswith("%"):
            raise AffinityConfigError(f"{source}:{number}: YAML directives are not supported")
        else:
            body.append(line)
    chunks.append(Chunk(separator, "".join(body), start))
    return chunks


MAX_DEPTH = 64


def _refuse_hostile(yaml: Any, chunk: Chunk, option: str, path: str) -> None:
    """Refuse aliases (billion laughs; an alias also shares one node between two places, so a
    patch of one would change the other) and nesting deeper than any manifest needs."""
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent

    depth = 0
    for event in yaml.parse(chunk.text):
        line = chunk.start_line + (event.start_mark.line if event.start_mark else 0)
        if isinstance(event, AliasEvent):
            raise AffinityConfigError(
                f"{option} {path}:{line}: YAML aliases (*{event.anchor}) are not supported; "
                "expand them (kubectl and Helm output never uses them)")
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise AffinityConfigError(
                    f"{option} {path}:{line}: nested deeper than {MAX_DEPTH} levels; not a manifest")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def new_loader() -> Any:
    """A round-trip loader that keeps quotes (``"yes"``, ``"on"``, ``"1:20"`` stay strings)."""
    yaml = yaml_module().YAML()
    yaml.preserve_quotes = True
    return yaml


def load(path: str, option: str) -> tuple[str, list[Chunk]]:
    """Read and parse every document of ``path`` round-trip; YAML errors name file and line."""
    ruamel = yaml_module()
    from ruamel.yaml.util import load_yaml_guess_indent

    text = read_text(path, option)
    chunks = split(text, path)
    for chunk in chunks:
        try:
            _refuse_hostile(new_loader(), chunk, option, path)
            data, indent, block_seq_indent = load_yaml_guess_indent(chunk.text, yaml=new_loader())
        except ruamel.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = chunk.start_line + (mark.line if mark is not None else 0)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise AffinityConfigError(f"{option} {path}:{line}: not valid YAML: {problem}") from exc
        except RecursionError as exc:
            raise AffinityConfigError(
                f"{option} {path}:{chunk.start_line}: nested too deeply to parse; not a manifest"
            ) from exc
        chunk.data = data
        mapping = guess_mapping_indent(chunk.text)
        offset = block_seq_indent or 0
        chunk.indent = (mapping, indent if block_seq_indent is not None else mapping, offset)
    return text, chunks


def guess_mapping_indent(text: str) -> int:
    """Indentation step of nested mappings: the column gap below the first ``key:`` line."""
    lines = [
        line for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for line, nxt in itertools.pairwise(lines):
        stripped = line.strip()
        if stripped.startswith("-") or not re.fullmatch(r"[^\s:#][^:#]*:(\s+#.*)?", stripped):
            continue
        col, next_col = len(line) - len(line.lstrip()), len(nxt) - len(nxt.lstrip())
        if next_col > col and not nxt.lstrip().startswith("-"):
            return next_col - col
    return 2


def kube_object(chunk: Chunk, index: int, source: str) -> Mapping[str, Any] | None:
    """The document as a Kubernetes object, ``None`` if empty; refuse anything else."""
    data = chunk.data
    if data is None:
        return None
    if (
        not isinstance(data, Mapping)
        or not isinstance(data.get("apiVersion"), str)
        or not isinstance(data.get("kind"), str)
    ):
        raise AffinityConfigError(
            f"{source}:{chunk.start_line}: document {index} is not a Kubernetes object "
            "(a mapping with apiVersion and kind); refusing to touch a file I do not understand"
        )
    if data["kind"].endswith("List"):
        raise AffinityConfigError(
            f"{source}:{chunk.start_line}: document {index} is a {data['kind']}; list the items "
            "as separate documents"
        )
    return data


def dump(chunk: Chunk) -> str:
    """Re-emit one chunk's data with the indentation detected in it."""
    yaml = yaml_module().YAML()
    mapping, sequence, offset = chunk.indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.width = 4096
    yaml.preserve_quotes = True
    buf = io.StringIO()
    yaml.dump(chunk.data, buf)
    text = buf.getvalue()
    return text.replace("\n", "\r\n") if "\r\n" in chunk.text else text


def join(chunks: list[Chunk]) -> str:
    """Concatenate chunks back into file text."""
    return "".join(chunk.separator + chunk.text for chunk in chunks)
