"""CPU per request under wrk: the app server's processes and redis-server, per answered request.

    python benchmarks/cpu_per_request.py --frameworks django --rounds 5
    python benchmarks/cpu_per_request.py --frameworks starlette --configs cookie,sessionkit

The same apps, servers and load as ``peers.py`` (wrk 16 connections, 90/10 reads/writes on one
session, configurations interleaved, order rotated every round), without the probes. For every run
it reads utime + stime of the server's process tree (gunicorn master and workers, or uvicorn) and of
redis-server from /proc before and after, and divides by the responses wrk counted. A neighbour
taking the CPU slows a run more than it adds to the run's CPU per request, but shared cores and
caches still move the figure (by a fifth between rounds on a busy machine): read the ratios paired
within a round.
Prints medians [interquartile range] of the rounds, in µs, and the ratio to the framework's cookie
session paired within each round (below 1: less CPU per request than the cookie session).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from peers import CONFIGS, COOKIE, ensure_venv


def _spread(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.0f}" if values else "n/a"
    lo, _, hi = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.0f} [{lo:.0f}–{hi:.0f}]"


def _ratio(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.2f}" if values else "n/a"
    lo, _, hi = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.2f} [{lo:.2f}–{hi:.2f}]"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--frameworks", default="flask,django,starlette", help="comma-separated")
    parser.add_argument("--configs", default="", help="comma-separated BENCH_CONFIG names (default: all)")
    parser.add_argument("--cpu-weight", type=int, default=4096, help="as in peers.py")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be >= 1 and --seconds > 0")
    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    if set(frameworks) - set(CONFIGS):
        parser.error(f"unknown frameworks: {sorted(set(frameworks) - set(CONFIGS))}")
    only = {c.strip() for c in args.configs.split(",") if c.strip()} or None
    ensure_venv(argv, Path(__file__).resolve())

    from _run import throughput
    from _sched import one_group

    with one_group(args.cpu_weight) as group, tempfile.TemporaryDirectory(prefix="sessionkit-cpu-") as tmp:
        print(f"scheduling group: {group}", flush=True)
        loads, _, loader = throughput(frameworks, args.seconds, args.rounds, Path(tmp), only)
    print(f"\nCPU µs per request ({loader}, {args.rounds} rounds x {args.seconds:g} s), "
          "median [IQR] of the rounds\n")
    print("| framework | configuration | app | Redis | app + Redis | × cookie session | req/s "
          "| outside CPU |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for fw in frameworks:
        for config, label in CONFIGS[fw]:
            runs = loads.get((fw, config))
            if not runs:
                continue
            cookie = loads.get((fw, COOKIE[fw]), [])
            # paired within a round: the two ran back to back, under much the same neighbours
            paired = [(r.app_cpu_us + r.redis_cpu_us) / (c.app_cpu_us + c.redis_cpu_us)
                      for r, c in zip(runs, cookie) if c.app_cpu_us + c.redis_cpu_us]
            print(f"| {fw} | {label} | {_spread([r.app_cpu_us for r in runs])} | "
                  f"{_spread([r.redis_cpu_us for r in runs])} | "
                  f"{_spread([r.app_cpu_us + r.redis_cpu_us for r in runs])} | {_ratio(paired)} | "
                  f"{statistics.median(r.rps for r in runs):.0f} | "
                  f"{statistics.median(r.outside_cpu for r in runs):.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
