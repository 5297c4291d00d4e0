"""Result cache keyed by file content, path and rule-set version; safe under concurrent runs.

One JSON file per key, written to a temporary file in the same directory and moved into place
with ``os.replace`` (atomic on POSIX and Windows): a reader sees a whole entry or none, and two
runs writing the same entry write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sessionkit.lint._types import RULESET_VERSION

#: Past this size the oldest entries are deleted (down to 80%) at the end of a run that wrote.
MAX_BYTES = 256 * 2**20


def cache_key(display: str, data: bytes, max_bytes: int) -> str:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{RULESET_VERSION}\0{display}\0{max_bytes}\0".encode())
    digest.update(data)
    return digest.hexdigest()


class ResultCache:
    def __init__(self, directory: Path, max_bytes: int = MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.written = 0
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
                self.written += 1
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass  # a cache that cannot be written only costs speed

    def entries(self) -> list[tuple[float, int, str]]:
        out: list[tuple[float, int, str]] = []
        try:
            shards = [e for e in os.scandir(self.directory) if e.is_dir(follow_symlinks=False)]
        except OSError:
            return out
        for shard in shards:
            try:
                for entry in os.scandir(shard.path):
                    if entry.name.endswith(".json"):
                        st = entry.stat(follow_symlinks=False)
                        out.append((st.st_mtime, st.st_size, entry.path))
            except OSError:
                continue
        return out

    def prune(self) -> int:
        """Keep the cache under ``max_bytes``: delete the oldest entries; returns how many."""
        if not self.written:
            return 0
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        removed = 0
        if total <= self.max_bytes:
            return 0
        for _, size, path in sorted(entries):
            if total <= self.max_bytes * 0.8:
                break
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= size
            removed += 1
        return removed


def clean(directory: Path) -> int:
    """Delete the cache directory; returns how many entries it held."""
    count = len(ResultCache(directory).entries()) if directory.is_dir() else 0
    if (directory / "CACHEDIR.TAG").is_file():  # never delete a folder the cache did not create
        shutil.rmtree(directory, ignore_errors=True)
    return count
