"""sessionkit against the peers, in one run: throughput, latency, Redis commands, correctness.

    python benchmarks/peers.py                 # creates /tmp/sessionkit-bench-venv on first use
    python benchmarks/peers.py --seconds 3 --rounds 10 --frameworks flask,django,starlette
    python benchmarks/peers.py --write-docs    # also writes docs/benchmarks.md

For each framework: no-session baseline, the framework's cookie session, the Redis peers
(Flask-Session; Django's cache engine on RedisCache and on django-redis; starsessions) and
sessionkit, on the same endpoints and servers (gunicorn sync workers / uvicorn), loaded by wrk
(16 connections, 2 threads, 90% reads / 10% writes with one established session), configurations
interleaved in many short rounds, the order rotated every round; ratios are paired within a round and
reported as median and interquartile range, with the share of CPU that processes outside the
benchmark took meanwhile. Everything the benchmark starts runs in one scheduling group (see
_sched.py). Then probes each configuration on its own server: Redis commands per request type, lost
updates, a write racing reads, a Redis outage, a forged cookie. Prints the Markdown report; writes it
to docs/benchmarks.md only with --write-docs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = Path(os.environ.get("SESSIONKIT_BENCH_VENV", "/tmp/sessionkit-bench-venv"))
# hiredis: redis-py's C reply parser, as production installs use; every Redis configuration gains.
PEER_PACKAGES = ["Flask-Session", "django-redis", "starsessions", "hiredis"]

CONFIGS: dict[str, list[tuple[str, str]]] = {
    "flask": [("none", "no session"), ("cookie", "Flask cookie session"),
              ("flask-session", "Flask-Session (Redis)"), ("sessionkit", "sessionkit"),
              ("sessionkit-nocache", "sessionkit, local cache off")],
    "django": [("none", "no session"), ("signed-cookies", "signed_cookies engine"),
               ("cache-redis", "cache engine + RedisCache"), ("django-redis", "cache engine + django-redis"),
               ("sessionkit", "sessionkit"), ("sessionkit-nocache", "sessionkit, local cache off")],
    "starlette": [("none", "no session"), ("cookie", "Starlette SessionMiddleware"),
                  ("starsessions", "starsessions RedisStore"), ("sessionkit", "sessionkit"),
                  ("sessionkit-nocache", "sessionkit, local cache off")],
}
COOKIE = {"flask": "cookie", "django": "signed-cookies", "starlette": "cookie"}
PEERS = {"flask": ["flask-session"], "django": ["cache-redis", "django-redis"], "starlette": ["starsessions"]}
APP = {"flask": "_app_flask:app", "django": "_app_django:app", "starlette": "_app_starlette:app"}


def ensure_venv(argv: list[str], script: Path | None = None) -> None:
    """Re-run ``script`` (default: this one) inside a throwaway venv holding sessionkit (editable)
    and the peers."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python, marker = VENV / "bin" / "python", VENV / "sessionkit-bench.txt"
    wanted = " ".join([f"{REPO}[all]", *PEER_PACKAGES])
    if not python.exists():
        print(f"creating {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not marker.exists() or marker.read_text() != wanted:
        print(f"installing sessionkit[all] and {', '.join(PEER_PACKAGES)} into {VENV}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", f"{REPO}[all]", *PEER_PACKAGES],
                       check=True)
        marker.write_text(wanted)
    os.execv(str(python), [str(python), str(script or Path(__file__).resolve()), *argv])


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = ["sessionkit-redis", "Flask", "Django", "starlette", "Flask-Session", "django-redis",
             "starsessions", "redis", "hiredis", "gunicorn", "uvicorn"]
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    parser.add_argument("--frameworks", default="flask,django,starlette")
    parser.add_argument("--cpu-weight", type=int, default=4096,
                        help="cgroup cpu.shares of the benchmark's group (default 4096; a session: 1024)")
    parser.add_argument("--write-docs", action="store_true", help="also write the report to --output")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be >= 1 and --seconds > 0")
    ensure_venv(argv)

    from _report import render
    from _run import probe_all, throughput
    from _sched import one_group

    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    unknown = set(frameworks) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown frameworks: {sorted(unknown)}")
    args.load_before = os.getloadavg()
    with one_group(args.cpu_weight) as args.group, \
            tempfile.TemporaryDirectory(prefix="sessionkit-bench-") as tmp:
        print(f"scheduling group: {args.group}", flush=True)
        work = Path(tmp)
        loads, server_version, loader = throughput(frameworks, args.seconds, args.rounds, work)
        probes = probe_all(frameworks, work)
    report = render(frameworks, loads, probes, versions(), server_version, loader, args)
    print(report)
    if args.write_docs:
        out = Path(args.output)
        old = out.read_text() if out.exists() else ""
        if "\n## Capacity\n" in old:  # written by capacity.py: keep it
            report = report.rstrip("\n") + "\n\n## Capacity\n" + old.split("\n## Capacity\n", 1)[1]
        out.write_text(report)
        print(f"wrote {args.output}")
    return 0


def summary(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
