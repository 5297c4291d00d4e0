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


SIZING = """\
### Sizing

- **Memory.** Redis memory grows by about {sk_bytes:.0f} bytes per sessionkit session of this shape
  ({sk_gib:.2f} GiB per million), measured as the growth of `used_memory`; `MEMORY USAGE` of the
  hash alone is {sk_usage:.0f} bytes. Size the server for the sessions alive within the idle timeout,
  times about 2 for the copy-on-write of an RDB or AOF rewrite fork and fragmentation, and run it
  with `maxmemory-policy noeviction` (`sessionkit sessions stats` warns otherwise): an evicting
  policy silently logs users out.
- **Traffic.** Commands per 1,000 requests above count the commands a Lua script runs inside
  (sessionkit's write is one `EVALSHA` round trip). With the local cache on, a read of a session this
  process has seen costs no command, so Redis load follows the writes; every write also sends one
  small invalidation message to each process that runs a store.
- **Local cache.** {entry:.0f} bytes of Python heap per cached session: a process holding 10,000
  sessions uses about {mib_10k:.0f} MiB, 100,000 about {mib_100k:.0f} MiB. Behind a round-robin
  balancer every process sees every session, so give each one room for the sessions read within
  `max_age` (default 60 s); the share of reads served from memory is at most the share of
  those sessions that fit (`max_entries`, `max_bytes`), less the first read after each write.
- **When to move to Cluster.** When the sessions (with the fork headroom) no longer fit one
  machine's memory comfortably, or the command rate approaches what one Redis core serves (watch
  `INFO cpu` and latency), or one server is a failure domain you cannot accept even with Sentinel.
  On Cluster every session is still one key in one slot, so each read and write stays one round
  trip; the user index of `revoke_user` lives in its own slot, so "log out everywhere" deletes the
  user's sessions one key at a time across shards; a failover is per shard; and the local cache is
  off (one tracking connection per master is not built yet), so reads go to Redis again.
"""


def render(rows: list[tuple[str, str, dict[str, Any]]], entry: float, args: argparse.Namespace) -> str:
    out = [
        "## Capacity",
        "",
        f"Generated by `python benchmarks/capacity.py --write-docs` ({args.sessions} sessions per "
        f"configuration, {args.requests} requests of the 90/10 mix on one session). Each configuration "
        "runs alone against a fresh Redis.",
        "",
        "| framework | configuration | stored as | MEMORY USAGE (B) | used_memory per session (B) "
        "| GiB per 1M sessions | commands per 1,000 requests | KiB in / out per 1,000 requests |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for fw, label, m in rows:
        out.append(f"| {fw} | {label} | {m['type']} | {m['memory_usage']:.0f} | {m['used_memory']:.0f} | "
                   f"{m['used_memory'] * 1e6 / 2**30:.2f} | {m['commands']:.0f} | "
                   f"{m['bytes_in'] / 1024:.1f} / {m['bytes_out'] / 1024:.1f} |")
    sk = next((m for fw, label, m in rows if label == "sessionkit"), None)
    if sk is not None:
        out += ["", SIZING.format(sk_bytes=sk["used_memory"], sk_gib=sk["used_memory"] * 1e6 / 2**30,
                                  sk_usage=sk["memory_usage"], entry=entry,
                                  mib_10k=10_000 * entry / 2**20, mib_100k=100_000 * entry / 2**20)]
    return "\n".join(out) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace (or add) the ``## Capacity`` section of the benchmarks page."""
    page = path.read_text() if path.exists() else "# Benchmarks: sessionkit and its peers\n"
    head, sep, rest = page.partition("\n## Capacity\n")
    tail = ""
    if sep:
        nxt = rest.find("\n## ")
        tail = rest[nxt:] if nxt >= 0 else ""
    path.write_text(head.rstrip("\n") + "\n\n" + section + tail)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--frameworks", default="flask,django,starlette")
    parser.add_argument("--write-docs", action="store_true", help="also write the section into --output")
    parser.add_argument("--output", default=str(HERE.parent / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    ensure_venv(argv, script=Path(__file__).resolve())
    frameworks = [f for f in args.frameworks.split(",") if f]
    rows: list[tuple[str, str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="sessionkit-capacity-") as tmp:
        for fw in frameworks:
            for config, label in CONFIGS[fw]:
                if config in SESSIONLESS or "cookie" in config:
                    continue
                rows.append((fw, label, measure_config(fw, config, args.sessions, args.requests, Path(tmp))))
                print(f"measured {fw} {label}", flush=True)
    section = render(rows, cache_entry_bytes(), args)
    print(section)
    if args.write_docs:
        write_section(Path(args.output), section)
        print(f"wrote the Capacity section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
