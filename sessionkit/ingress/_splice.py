"""Set annotations by editing lines, so that every byte the patch does not change stays as it was.

ruamel.yaml gives the line and column of each key and value; a value we manage is replaced in
place (its trailing comment kept), a missing key is inserted after the last annotation, a missing
``annotations:`` after the last line of ``metadata``. Shapes this cannot edit line by line (flow
style ``metadata: {...}``) return ``None`` and the caller re-emits the document instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def _is_block(node: Any) -> bool:
    fmt = getattr(node, "fa", None)  # ruamel.yaml's format attribute: flow or block style
    return isinstance(node, Mapping) and hasattr(node, "lc") and fmt is not None and not fmt.flow_style()


def _next_key_line(chain: Sequence[tuple[Any, str]], end: int) -> int:
    """Line of the key after ``key`` in the innermost map that has one (``end`` if none)."""
    for mapping, key in chain:
        keys = list(mapping)
        after = keys.index(key) + 1
        if after < len(keys):
            return int(mapping.lc.key(keys[after])[0])
    return end


def _last_content_line(lines: list[str], start: int, stop: int) -> int:
    """The last line in ``[start, stop)`` that is neither blank nor a comment."""
    last = start
    for index in range(start, stop):
        bare = lines[index].strip()
        if bare and not bare.startswith("#"):
            last = index
    return last


def _scalar_end(line: str, col: int) -> int:
    """Where the one-line scalar starting at ``col`` ends (before spaces and a ``#`` comment)."""
    quote = line[col] if col < len(line) else ""
    if quote in ("'", '"'):
        index = col + 1
        while index < len(line):
            char = line[index]
            if quote == '"' and char == "\\":
                index += 2
                continue
            if char == quote:
                if quote == "'" and line[index + 1 : index + 2] == "'":
                    index += 2
                    continue
                return index + 1
            index += 1
        return len(line.rstrip("\r\n"))
    body = line.rstrip("\r\n")
    comment = body.find(" #", col)
    return len((body if comment < 0 else body[:comment]).rstrip())


def _entry(col: int, key: str, value: str, nl: str) -> str:
    return f"{' ' * col}{key}: {json.dumps(value)}{nl}"


def splice(text: str, doc: Any, annotations: Mapping[str, str], step: int) -> str | None:
    """``text`` with ``annotations`` set in ``doc``'s ``metadata.annotations``, or ``None``."""
    meta = doc.get("metadata")
    if not _is_block(doc) or not _is_block(meta) or not len(meta):
        return None
    lines = text.splitlines(keepends=True)
    nl = "\r\n" if "\r\n" in text else "\n"
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += nl
    ann = meta.get("annotations")
    if "annotations" in meta and ann is not None and not (_is_block(ann) and len(ann)):
        return None  # flow style or an empty {}: re-emit
    chain_meta = [(doc, "metadata")]
    if ann is None:
        col = int(meta.lc.key(next(iter(meta)))[1])
        if "annotations" in meta:  # "annotations:" with no value
            at = int(meta.lc.key("annotations")[0])
            stop = _next_key_line([(meta, "annotations"), *chain_meta], len(lines))
            del lines[at:_last_content_line(lines, at, stop) + 1]
        else:
            stop = _next_key_line(chain_meta, len(lines))
            at = _last_content_line(lines, int(meta.lc.key(next(iter(meta)))[0]), stop) + 1
        new = [f"{' ' * col}annotations:{nl}"]
        new += [_entry(col + step, k, v, nl) for k, v in annotations.items()]
        lines[at:at] = new
        return "".join(lines)
    chain = [(ann, ""), (meta, "annotations"), *chain_meta]
    col = int(ann.lc.key(next(iter(ann)))[1])
    # Replace from the bottom up so earlier line numbers stay valid.
    present = sorted((k for k in annotations if k in ann), key=lambda k: -int(ann.lc.key(k)[0]))
    missing = [k for k in annotations if k not in ann]
    last_key = list(ann)[-1]
    stop = _next_key_line([(ann, last_key), *chain[1:]], len(lines))
    insert_at = _last_content_line(lines, int(ann.lc.key(last_key)[0]), stop) + 1
    for key in present:
        key_line, key_col = (int(n) for n in ann.lc.key(key))
        value_line, value_col = (int(n) for n in ann.lc.value(key))
        stop = _next_key_line([(ann, key), *chain[1:]], len(lines))
        end = _last_content_line(lines, key_line, stop)
        line = lines[key_line]
        if value_line == key_line == end and isinstance(ann[key], str):
            tail = line[_scalar_end(line, value_col):]
            lines[key_line] = line[:value_col] + json.dumps(annotations[key]) + tail
        else:
            lines[key_line : end + 1] = [_entry(key_col, key, annotations[key], nl)]
            insert_at -= end - key_line
    lines[insert_at:insert_at] = [_entry(col, k, annotations[k], nl) for k in missing]
    return "".join(lines)
