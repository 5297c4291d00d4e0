"""Store operation cost against the physical floor: raw redis-py doing the same I/O.

Run:  python benchmarks/store_ops.py [--n 20000] [--rounds 3]
Uses $REDIS_URL if set, else starts a throw-away server (redis-server, or the bundled Valkey).

For each operation it prints ops/s and µs/op for sessionkit and for the floor, and their ratio
(target: within 1.3x of the floor). The floor is the same round trips with no session logic:
    load        HGETALL                                   vs  open(cookie) + read a key
    save        HGETALL, pipeline(HSET, PEXPIRE)          vs  open + set one key + save
    regenerate  HGETALL, DEL, pipeline(HSET×n, PEXPIRE)   vs  open + regenerate + save
Rounds interleave the two sides so drift on a shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import redis

import sessionkit
from sessionkit import RedisStore
from sessionkit.demo._servers import ServerProcess

DATA = {"user": "ann", "cart": ["apple", "pear"], "csrf": "x" * 32, "flash": [], "n": 0}


def timed(fn: Callable[[int], object], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20000, help="operations per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    server = None
    url = os.environ.get("REDIS_URL")
    if not url:
        server = ServerProcess()
        server.start()
        url = server.url
    try:
        raw = redis.Redis.from_url(url)
        store = RedisStore(url, secret_keys="bench-secret-0123456789", key_prefix="bench:")
        s = store.open(None)
        s.update(DATA)
        cookie = store.save(s).value or ""
        floor_key = "bench:floor"
        raw.hset(floor_key, mapping={k: str(v) for k, v in DATA.items()})
        state = {"cookie": cookie}

        def sk_load(i: int) -> None:
            store.open(cookie).get("user")

        def raw_load(i: int) -> None:
            raw.hgetall(floor_key)

        def sk_save(i: int) -> None:
            s = store.open(cookie)
            s["n"] = i
            store.save(s)

        def raw_save(i: int) -> None:
            raw.hgetall(floor_key)
            pipe = raw.pipeline(transaction=False)
            pipe.hset(floor_key, "n", i)
            pipe.pexpire(floor_key, 1_209_600_000)
            pipe.execute()

        def sk_regenerate(i: int) -> None:
            s = store.open(state["cookie"])
            s.regenerate()
            state["cookie"] = store.save(s).value or ""

        def raw_regenerate(i: int) -> None:
            fields = raw.hgetall(floor_key)
            raw.delete(floor_key)
            pipe = raw.pipeline(transaction=False)
            pipe.hset(floor_key, mapping=fields)
            pipe.pexpire(floor_key, 1_209_600_000)
            pipe.execute()

        ops = {"load": (sk_load, raw_load), "save": (sk_save, raw_save),
               "regenerate": (sk_regenerate, raw_regenerate)}
        for ours, floor in ops.values():  # warm up connections and the script cache
            timed(ours, 200)
            timed(floor, 200)
        results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in ops}
        for _ in range(args.rounds):
            for name, (ours, floor) in ops.items():
                results[name][0].append(timed(ours, args.n))
                results[name][1].append(timed(floor, args.n))

        info = raw.info("server")
        print(f"sessionkit {sessionkit.__version__}, redis-py {redis.__version__}, "
              f"server {info.get('server_name', 'redis')} {info['redis_version']}, "
              f"Python {platform.python_version()}, {os.cpu_count()} CPUs; n={args.n} x {args.rounds} rounds "
              "(median of rounds)")
        header = ("operation", "sessionkit µs/op", "ops/s", "floor µs/op", "ops/s", "ratio")
        print(f"{header[0]:<12}{header[1]:>18}{header[2]:>10}{header[3]:>14}{header[4]:>10}{header[5]:>8}")
        worst = 0.0
        for name, (ours, floor) in results.items():
            a, b = statistics.median(ours), statistics.median(floor)
            worst = max(worst, a / b)
            print(f"{name:<12}{a * 1e6:>18.1f}{1 / a:>10.0f}{b * 1e6:>14.1f}{1 / b:>10.0f}{a / b:>7.2f}x")
        print(f"worst ratio to the floor: {worst:.2f}x (target <= 1.30x)")
        store.close()
        raw.delete(floor_key)
        raw.close()
    finally:
        if server:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
