"""The Redis server a benchmark script talks to: ``$REDIS_URL`` if set, else a throw-away one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sessionkit.demo._servers import ServerProcess


@contextmanager
def redis_url() -> Iterator[str]:
    """Yield ``$REDIS_URL``, or the URL of a server started for the block (redis-server, or the
    bundled Valkey) and ended with it, whatever happens inside."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = ServerProcess()
    try:
        server.start()
        yield server.url
    finally:
        server.cleanup()
