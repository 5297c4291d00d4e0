"""CPU per request through the Starlette benchmark app, in process: no session, Starlette's cookie
SessionMiddleware, sessionkit with the local cache on and off.

Run:  python benchmarks/asgi_ops.py [--n 1000] [--rounds 7]
Uses $REDIS_URL if set, else starts a throw-away server (redis-server, or the bundled Valkey).

Each request is one ASGI call of ``benchmarks/_app_starlette.py`` (the app ``peers.py`` serves with
uvicorn), so the figures hold the middleware, the endpoint and Starlette's routing, and none of the
HTTP server's or the network's work. Requests carry the cookie of an established session (the
``/login`` data): *read* = ``GET /read``, *write* = ``GET /write?value=...`` (one key changes),
*untouched* = ``GET /untouched``, *mix* = nine reads then one write, as ``peers.py`` sends them;
*mix x16* = the same mix from 16 concurrent tasks on the one session, as wrk's 16 connections send it.
Each figure is the CPU time of this process per request (``time.process_time``: Redis's own CPU is
not in it), median [interquartile range] of interleaved rounds whose order rotates every round.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _redis import redis_url
from _rounds import rotated

CONFIGS = ["none", "cookie", "sessionkit", "sessionkit-nocache"]
KINDS = ["mix", "mix x16", "read", "write", "untouched"]
CONCURRENT = 16  # tasks of "mix x16": the 16 connections peers.py's wrk holds on one session
APP = Path(__file__).resolve().parent / "_app_starlette.py"


def load_app(config: str, url: str) -> Any:
    """A fresh copy of the benchmark app configured by ``BENCH_CONFIG=config``."""
    os.environ["BENCH_CONFIG"], os.environ["REDIS_URL"] = config, url
    spec = importlib.util.spec_from_file_location(f"_app_starlette_{config.replace('-', '_')}", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


async def call(app: Any, path: str, query: bytes = b"", cookie: bytes | None = None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]
    if cookie:
        headers.append((b"cookie", cookie))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 8000), "state": {}}
    start: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)

    await app(scope, receive, send)
    return start


async def cases(app: Any, config: str) -> dict[str, Callable[[], Awaitable[dict[str, Any]]]]:
    cookie = None
    if config != "none":
        for name, value in (await call(app, "/login"))["headers"]:
            if name == b"set-cookie":
                cookie = value.split(b";")[0]
    count = [0]

    async def write() -> dict[str, Any]:
        count[0] += 1
        return await call(app, "/write", b"value=v%d" % count[0], cookie)

    async def mix() -> dict[str, Any]:
        count[0] += 1
        if count[0] % 10 == 0:
            return await call(app, "/write", b"value=v%d" % count[0], cookie)
        return await call(app, "/read", cookie=cookie)

    async def read() -> dict[str, Any]:
        return await call(app, "/read", cookie=cookie)

    async def untouched() -> dict[str, Any]:
        return await call(app, "/untouched", cookie=cookie)

    return {"mix": mix, "mix x16": mix, "read": read, "write": write, "untouched": untouched}


async def measure(url: str, n: int, rounds: int) -> dict[tuple[str, str], list[float]]:
    todo: dict[tuple[str, str], Callable[[], Awaitable[dict[str, Any]]]] = {}
    for config in CONFIGS:
        for kind, fn in (await cases(load_app(config, url), config)).items():
            todo[(config, kind)] = fn
    for fn in todo.values():  # warm up: connections, the script, the caches
        for _ in range(200):
            reply = await fn()
            if reply.get("status") != 200:
                raise RuntimeError(f"benchmark app answered {reply.get('status')}")
    results: dict[tuple[str, str], list[float]] = {name: [] for name in todo}
    for name in rotated(list(todo), rounds):
        fn = todo[name]
        tasks = CONCURRENT if name[1] == "mix x16" else 1
        start = time.process_time()
        await asyncio.gather(*(_repeat(fn, n // tasks) for _ in range(tasks)))
        results[name].append((time.process_time() - start) / (n // tasks * tasks))
    return results


async def _repeat(fn: Callable[[], Awaitable[dict[str, Any]]], times: int) -> None:
    for _ in range(times):
        await fn()


def summary(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values) * 1e6:.1f} [{q[0] * 1e6:.1f}–{q[2] * 1e6:.1f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with redis_url() as url:
        results = asyncio.run(measure(url, args.n, args.rounds))
    print(f"CPU µs per request, median [IQR]; load {os.getloadavg()[0]:.1f}; "
          f"n={args.n} x {args.rounds} rounds")
    print(f"{'configuration':<20}" + "".join(f"{kind:>24}" for kind in KINDS))
    for config in CONFIGS:
        print(f"{config:<20}" + "".join(f"{summary(results[(config, kind)]):>24}" for kind in KINDS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
