"""How many times one request crosses a module boundary inside sessionkit.

Run:  python benchmarks/hops.py
Uses $REDIS_URL if set, else starts a throw-away server (redis-server, or the bundled Valkey).

Traces (``sys.setprofile``) one Flask read request, one Flask write and one Django write through
the framework test clients of the benchmark apps, and counts:
    hops     calls of a Python function in a ``sessionkit`` module whose caller is in another module
    modules  the ``sessionkit`` modules in which any Python function ran
C functions are not counted. The session is established (and warmed) before the traced request.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from _redis import redis_url


def trace(request: Callable[[], object]) -> tuple[int, set[str], Counter[str]]:
    hops: Counter[str] = Counter()
    modules: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        if not callee.startswith("sessionkit"):
            return
        modules.add(callee)
        caller = frame.f_back.f_globals.get("__name__", "") if frame.f_back else ""
        if caller != callee:
            hops[f"{caller} -> {callee}.{frame.f_code.co_name}"] += 1

    sys.setprofile(profile)
    try:
        request()
    finally:
        sys.setprofile(None)
    return sum(hops.values()), modules, hops


def main() -> int:
    verbose = "-v" in sys.argv
    sys.path.insert(0, str(Path(__file__).parent))
    with redis_url() as url:
        os.environ.update(REDIS_URL=url, BENCH_CONFIG="sessionkit")
        import _app_django
        import _app_flask
        import django
        from django.test import Client

        django.setup()
        flask = _app_flask.app.test_client()
        dj = Client()
        for client in (flask, dj):
            client.get("/login")
            client.get("/read")
            client.get("/write?value=warm")
        rows = [
            ("flask read", lambda: flask.get("/read")),
            ("flask write", lambda: flask.get("/write?value=1")),
            ("django write", lambda: dj.get("/write?value=1")),
        ]
        print(f"{'request':<14}{'hops':>6}{'modules':>9}")
        for name, request in rows:
            count, modules, hops = trace(request)
            print(f"{name:<14}{count:>6}{len(modules):>9}  {' '.join(sorted(modules))}")
            if verbose:
                for hop, n in hops.most_common():
                    print(f"    {n:>3} {hop}")
        _ = _app_django  # imported for its settings
    return 0


if __name__ == "__main__":
    sys.exit(main())
