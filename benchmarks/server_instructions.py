"""Instructions per request inside the real app servers, under wrk: deterministic where CPU time is not.

    python benchmarks/server_instructions.py --frameworks django,starlette
    python benchmarks/server_instructions.py --frameworks starlette --configs cookie,sessionkit

The apps, servers and load of ``peers.py`` (gunicorn 2 sync workers or uvicorn, wrk 16 connections,
90/10 reads/writes on one session), with each server under ``valgrind --tool=callgrind``: the
user-space instructions of its worker processes (gunicorn's master, which serves no request, is left
out), counted when they exit. Each configuration runs twice, with a short and a long wrk run; the
difference of the two totals over the difference of their responses is the figure, so start-up and
imports cancel out. It counts what the processes execute in user space only: redis-server's own
CPU and the kernel's work for sockets are not in it (``cpu_per_request.py`` measures those, noisily).
Needs valgrind; a run takes a few minutes (the servers run ~50 times slower).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from peers import CONFIGS, ensure_venv

SESSIONLESS = ("none",)


def _total(out: Path) -> int:
    match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(errors="replace"), re.MULTILINE)
    return int(match.group(1)) if match else 0


def run_once(fw: str, config: str, seconds: float, redis_url: str, work: Path) -> tuple[int, int]:
    """(instructions of the server's request-serving processes, requests they answered)."""
    from _http import cookie_header, login
    from _load import load
    from _run import _server

    out_dir = Path(tempfile.mkdtemp(prefix="cg-", dir=work))
    replica = _server(fw, config, redis_url, work)
    replica.argv[:0] = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/cg.%p.out"]
    replica.start(timeout=900)
    try:
        cookie = "" if config in SESSIONLESS else cookie_header(login(replica.port))
        answered = load(replica.port, cookie, seconds).responses
        answered += 1 if config in SESSIONLESS else 2  # the health check and the login
        master = replica.pid
    finally:
        replica.stop(timeout=120)  # gunicorn's master waits for its workers: they write their counts
    files = [f for f in out_dir.glob("cg.*.out") if fw == "starlette" or f.name != f"cg.{master}.out"]
    return sum(_total(f) for f in files), answered


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", default="django,starlette", help="comma-separated")
    parser.add_argument("--configs", default="", help="comma-separated BENCH_CONFIG names (default: all)")
    parser.add_argument("--short", type=float, default=3.0, help="seconds of the short wrk run (default 3)")
    parser.add_argument("--long", type=float, default=12.0, help="seconds of the long wrk run (default 12)")
    args = parser.parse_args(argv)
    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    if set(frameworks) - set(CONFIGS):
        parser.error(f"unknown frameworks: {sorted(set(frameworks) - set(CONFIGS))}")
    if not 0 < args.short < args.long:
        parser.error("need 0 < --short < --long")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    only = {c.strip() for c in args.configs.split(",") if c.strip()} or None
    ensure_venv(argv, Path(__file__).resolve())

    from _run import _redis

    rows = []
    with tempfile.TemporaryDirectory(prefix="sessionkit-instr-") as tmp, \
            _redis(Path(tmp), persistent=False) as server:
        for fw in frameworks:
            for config, label in CONFIGS[fw]:
                if only is not None and config not in only:
                    continue
                short = run_once(fw, config, args.short, server.url, Path(tmp))
                long = run_once(fw, config, args.long, server.url, Path(tmp))
                per = (long[0] - short[0]) / max(long[1] - short[1], 1)
                rows.append((fw, label, per, short[1], long[1]))
                print(f"{fw} {label}: {per:,.0f} instructions per request "
                      f"({short[1]} and {long[1]} requests)", flush=True)
    print("\n| framework | configuration | instructions per request |\n|---|---|---:|")
    for fw, label, per, _, _ in rows:
        print(f"| {fw} | {label} | {per:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
