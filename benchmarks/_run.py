"""Running the configurations: all servers up at once for interleaved load, then one at a time for probes."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from _http import cookie_header, login
from _load import Load, load
from _probes import commands, forged_cookie, lost_updates, outage, write_survives_reads
from _sched import TICK_US, outside_share, sample, tree_ticks
from peers import APP, CONFIGS

from sessionkit.demo._procs import Replica, find_binary, gunicorn_argv, uvicorn_argv
from sessionkit.demo._servers import ServerProcess, free_port

HERE = Path(__file__).resolve().parent
SESSIONLESS = ("none",)
COOKIE_BASED = ("cookie", "signed-cookies")


def _server(framework: str, config: str, redis_url: str, work: Path, *, probe: bool = False) -> Replica:
    port = free_port()
    if framework == "starlette":
        # One process: `uvicorn --workers 2` answered every request ~44 ms late here (with wrk, even
        # on one connection), a floor that would hide every difference between configurations.
        argv = uvicorn_argv(APP[framework], port, workers=1)
    else:
        argv = gunicorn_argv(APP[framework], port, workers=2)
        if probe:  # threads, so concurrent requests really overlap in the probes
            argv[argv.index("sync")] = "gthread"
            argv[1:1] = ["--threads", "16"]
    env = {**os.environ, "BENCH_CONFIG": config, "REDIS_URL": redis_url, "PYTHONPATH": str(HERE),
           "PYTHONDONTWRITEBYTECODE": "1"}
    log_dir = work / ("probe" if probe else "load")
    log_dir.mkdir(exist_ok=True)
    return Replica(f"{framework}-{config}", argv, port, env=env, cwd=HERE, log_dir=log_dir)


@contextmanager
def _redis(work: Path, *, persistent: bool) -> Iterator[ServerProcess]:
    extra = ["appendonly yes", "appendfsync always"] if persistent else []
    server = ServerProcess(extra_config=extra)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def measured_load(replica: Replica, redis_pid: int | None, cookie: str, seconds: float) -> Load:
    """One load run, with the share of CPU outside the benchmark and the CPU per response of the app
    server's processes (master and workers) and of redis-server (utime + stime from /proc)."""
    before, app, red = sample(), tree_ticks(replica.pid), tree_ticks(redis_pid)
    result = load(replica.port, cookie, seconds)
    app, red, after = tree_ticks(replica.pid) - app, tree_ticks(redis_pid) - red, sample()
    n = max(result.responses, 1)
    return dataclasses.replace(result, outside_cpu=outside_share(before, after),
                               app_cpu_us=app * TICK_US / n, redis_cpu_us=red * TICK_US / n)


def throughput(frameworks: list[str], seconds: float, rounds: int, work: Path,
               only: set[str] | None = None) -> tuple[dict[tuple[str, str], list[Load]], str, str]:
    """Every configuration under the same load, interleaved: round r runs them all, the order rotated
    by one each round (so no configuration always follows the same neighbour or runs first).
    ``only``: the configuration names to run (default: all)."""
    loader = "wrk 16 connections, 2 threads" if shutil.which("wrk") else "Python fallback, 16 threads"
    results: dict[tuple[str, str], list[Load]] = {}
    servers: dict[tuple[str, str], Replica] = {}
    with _redis(work, persistent=False) as server:
        try:
            for fw in frameworks:
                for config, _ in CONFIGS[fw]:
                    if only is not None and config not in only:
                        continue
                    find_binary("uvicorn" if fw == "starlette" else "gunicorn")
                    replica = _server(fw, config, server.url, work)
                    servers[(fw, config)] = replica
                    replica.start()
            cookies = {key: "" if key[1] in SESSIONLESS else cookie_header(login(r.port))
                       for key, r in servers.items()}
            order = list(servers)
            for key in order:  # warm-up: imports, connection pools, JIT-free but cache-warm
                load(servers[key].port, cookies[key], 1.0)
            for r in range(rounds):
                shift = r % len(order)
                for key in order[shift:] + order[:shift]:
                    result = measured_load(servers[key], server.pid, cookies[key], seconds)
                    results.setdefault(key, []).append(result)
                    print(f"round {r + 1}: {key[0]:9} {key[1]:20} {result.rps:8.0f} req/s  p50 "
                          f"{result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  errors {result.errors}  "
                          f"CPU/req {result.app_cpu_us:5.0f} + {result.redis_cpu_us:3.0f} µs  "
                          f"outside CPU {result.outside_cpu:4.0%}", flush=True)
        finally:
            for replica in servers.values():
                replica.stop()
        return results, server.version(), loader


def probe_all(frameworks: list[str], work: Path) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with _redis(work, persistent=True) as server:
        admin = redis.Redis.from_url(server.url)
        for fw in frameworks:
            for config, _ in CONFIGS[fw]:
                if config in SESSIONLESS:
                    continue
                replica = _server(fw, config, server.url, work, probe=True)
                replica.start()
                try:
                    out[(fw, config)] = probe(replica.port, config, server, admin)
                finally:
                    replica.stop()
                print(f"probed {fw} {config}: {out[(fw, config)]}", flush=True)
        admin.close()
    return out


def probe(port: int, config: str, server: ServerProcess, admin: redis.Redis) -> dict[str, Any]:
    result: dict[str, Any] = {
        "lost": lost_updates(port),
        "survives": write_survives_reads(port),
        "forged": forged_cookie(port, admin),
    }
    if config in COOKIE_BASED:
        result["commands"] = dict.fromkeys(("untouched", "read", "write", "anonymous read"), "0")
        result["outage"] = None
    else:
        result["commands"] = commands(port, admin)
        result["outage"] = outage(port, server)
    return result
