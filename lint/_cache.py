"""Result cache keyed by file content, path and rule-set version; safe under concurrent runs.

One JSON file per key, written to a temporary file in the same directory and moved into place
with ``os.replace`` (atomic on POSIX and Windows): a reader sees a whole entry or none, and two
runs writing the same entry write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sessionkit.lint._types import RULESET_VERSION


def cache_key(display: str, data: bytes, max_bytes: int) -> str:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{RULESET_VERSION}\0{display}\0{max_bytes}\0".encode())
    digest.update(data)
    return digest.hexdigest()


class ResultCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._ready = False

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key[2:]}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self._path(key), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        target = self._path(key)
        try:
            if not self._ready:
                self.directory.mkdir(parents=True, exist_ok=True)
                tag = self.directory / "CACHEDIR.TAG"
                if not tag.exists():
                    tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
                    (self.directory / ".gitignore").write_text("*\n")
                self._ready = True
            target.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(value, handle, separators=(",", ":"))
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass  # a cache that cannot be written only costs speed
