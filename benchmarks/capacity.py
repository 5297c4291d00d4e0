"""Capacity figures for sizing Redis and the replicas: memory per session, traffic per 1,000 requests,
local cache memory per replica.

    python benchmarks/capacity.py [--sessions 2000] [--requests 1000] [--frameworks flask,django,starlette]

Runs in the benchmark venv of peers.py (same apps, same servers), one configuration at a time, each
against a fresh Redis:
1. Redis memory per session: ``--sessions`` logins (each creates one typical session: a user, a
   3-item cart, a prefs dict), then ``MEMORY USAGE`` of every session key (median) and the growth of
   ``used_memory`` divided by the number of sessions; both scaled to 1M sessions. sessionkit stores a
   listpack hash, the peers a string blob each.
2. Redis commands and network bytes per 1,000 requests of the benchmark mix (90% reads, 10% writes
   on one established session), from INFO commandstats and INFO stats.
3. Local cache memory per replica: bytes one cached session costs in the process (tracemalloc), and
   what a replica needs to serve a given share of reads from memory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers import CONFIGS, ensure_venv  # noqa: E402

SESSIONLESS = ("none",)


def _redis_traffic(admin: Any) -> tuple[int, int, int]:
    stats = admin.info("stats")
    commands = sum(int(v["calls"]) for v in admin.info("commandstats").values())
    return commands, int(stats["total_net_input_bytes"]), int(stats["total_net_output_bytes"])


def _delta(admin: Any, run: Any) -> tuple[int, int, int]:
    before = _redis_traffic(admin)
    run()
    after = _redis_traffic(admin)
    return after[0] - before[0], after[1] - before[1], after[2] - before[2]


def measure_config(framework: str, config: str, sessions: int, requests: int, work: Path) -> dict[str, Any]:
    import redis
    from _http import cookie_header, get, login
    from _run import _server

    from sessionkit.demo._servers import ServerProcess

    server = ServerProcess()
    server.start()
    replica = _server(framework, config, server.url, work)
    replica.start()
    try:
        admin = redis.Redis.from_url(server.url)
        jar = cookie_header(login(replica.port))
        get(replica.port, "/read", jar)

        def mix() -> None:
            for i in range(requests):
                path = f"/write?value={i}" if i % 10 == 9 else "/read"
                if get(replica.port, path, jar).status != 200:
                    raise RuntimeError(f"{framework} {config}: {path} failed")

        idle = _delta(admin, lambda: None)  # what the INFO calls themselves cost
        used = _delta(admin, mix)
        commands, net_in, net_out = (u - i for u, i in zip(used, idle))
        admin.flushall()
        used_before = int(admin.info("memory")["used_memory"])
        for _ in range(sessions):
            login(replica.port)
        used_after = int(admin.info("memory")["used_memory"])
        keys = [k for k in admin.scan_iter(count=1000) if admin.type(k) in (b"hash", b"string")]
        usage = [int(admin.memory_usage(k, samples=0) or 0) for k in keys]
        kind = admin.type(keys[0]).decode() if keys else "?"
        encoding = admin.object("encoding", keys[0]).decode() if keys else "?"
        admin.close()
        return {"commands": commands * 1000 / requests, "bytes_in": net_in * 1000 / requests,
                "bytes_out": net_out * 1000 / requests, "keys": len(keys),
                "memory_usage": statistics.median(usage) if usage else 0,
                "used_memory": (used_after - used_before) / sessions, "type": f"{kind} ({encoding})"}
    finally:
        replica.stop()
        server.cleanup()


def cache_entry_bytes(n: int = 2000) -> float:
    """Python heap bytes per cached session hash (the reply dict of bytes, as the cache keeps it)."""
    from sessionkit._cache import CacheConfig, LocalCache

    sample = {b"user": b'"bench"', b"cart": b'["apple","pear","plum"]',
              b"prefs": b'{"theme":"dark","lang":"en"}', b"\x00m": b"1|1764580000.123|1764580000.123|"}
    cache = LocalCache(CacheConfig(max_entries=n * 2))
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for i in range(n):
        key = f"sessionkit:s:{i:043d}"
        raw = {bytes(k): bytes(v) for k, v in sample.items()}
        cache.end(key, cache.begin(key), raw, 0.0)
    used = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    return used / n


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--frameworks", default="flask,django,starlette")
    args = parser.parse_args(argv)
    ensure_venv(argv, script=Path(__file__).resolve())
    frameworks = [f for f in args.frameworks.split(",") if f]
    print(f"{'framework':<10}{'configuration':<22}{'stored as':<22}{'MEMORY USAGE B':>15}"
          f"{'used_memory B':>14}{'GiB per 1M':>11}{'cmds/1k req':>12}{'KiB in/1k':>10}{'KiB out/1k':>11}")
    with tempfile.TemporaryDirectory(prefix="sessionkit-capacity-") as tmp:
        for fw in frameworks:
            for config, label in CONFIGS[fw]:
                if config in SESSIONLESS or "cookie" in config:
                    continue
                m = measure_config(fw, config, args.sessions, args.requests, Path(tmp))
                per_million = m["used_memory"] * 1e6 / 2**30
                print(f"{fw:<10}{label[:21]:<22}{m['type']:<22}{m['memory_usage']:>15.0f}"
                      f"{m['used_memory']:>14.0f}{per_million:>11.2f}{m['commands']:>12.0f}"
                      f"{m['bytes_in'] / 1024:>10.1f}{m['bytes_out'] / 1024:>11.1f}", flush=True)
    entry = cache_entry_bytes()
    print(f"\nlocal cache: {entry:.0f} bytes of Python heap per cached session (tracemalloc)")
    for active in (10_000, 100_000):
        cells = ", ".join(f"{share:.0%} of reads from memory: {share * active * entry / 2**20:.0f} MiB"
                          for share in (0.5, 0.9, 0.99))
        print(f"  {active:,} sessions active within max_age, read on every replica: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
