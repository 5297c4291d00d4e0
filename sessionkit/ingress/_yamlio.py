"""Multi-document manifests: split, load round-trip, re-dump one document, write atomically.

Documents are split on their ``---`` lines and each one is parsed on its own, so a patch re-emits
only the documents it changes; every other byte of the file is kept as it was read.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def read_text(path: str, option: str) -> str:
    """Read ``path`` as UTF-8, raising a usage error naming ``option`` when it cannot."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:  # keep CRLF as it is
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise AffinityConfigError(f"{option} {path}: cannot read: {exc}") from exc


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


def load(path: str, option: str) -> tuple[str, list[Chunk]]:
    """Read and parse every document of ``path`` round-trip; YAML errors name file and line."""
    ruamel = yaml_module()
    from ruamel.yaml.util import load_yaml_guess_indent

    text = read_text(path, option)
    chunks = split(text, path)
    for chunk in chunks:
        try:
            data, indent, block_seq_indent = load_yaml_guess_indent(chunk.text)
        except ruamel.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = chunk.start_line + (mark.line if mark is not None else 0)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise AffinityConfigError(f"{option} {path}:{line}: not valid YAML: {problem}") from exc
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


def atomic_write(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` via a temp file in the same directory and ``os.replace``."""
    target = Path(path)
    mode = target.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
