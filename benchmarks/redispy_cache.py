"""How much redis-py's built-in client-side cache costs per call (sync): HGETALL hit vs miss vs no cache.

Run:  python benchmarks/redispy_cache.py [--n 20000] [--rounds 10]
Uses $REDIS_URL if set, else starts a throw-away server. redis-py refuses its cache below Redis 7.4
(and on Valkey); against an older server this script lowers that version gate for the measurement
only, since CLIENT TRACKING itself exists since Redis 6.0.

Prints CPU µs per HGETALL (process time, median of interleaved rounds, with the interquartile range):
plain client (RESP2), plain client (RESP3), cached client on a hit, cached client on a miss
(the entry is invalidated by a write from another client before every call), and a raw socket floor.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import redis
from _redis import redis_url
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection

FIELDS = {"user": '"ann"', "cart": '["apple","pear"]', "csrf": '"' + "x" * 32 + '"', "n": "0",
          "\x00m": "1|1700000000.0|1700000000.0|"}


def cpu_per_call(fn: Callable[[], object], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n


def raw_floor(url: str, key: str) -> Callable[[], object]:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    kb = key.encode()
    packet = b"*2\r\n$7\r\nHGETALL\r\n$%d\r\n%s\r\n" % (len(kb), kb)
    size = len(b"*%d\r\n" % (2 * len(FIELDS))) + sum(
        len(b"$%d\r\n%s\r\n" % (len(p), p)) for k, v in FIELDS.items() for p in (k.encode(), v.encode())
    )

    def call() -> bytes:
        sock.sendall(packet)
        data = sock.recv(65536)
        while len(data) < size:
            data += sock.recv(65536)
        return data

    return call


def iqr(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with redis_url() as url:
        admin = redis.Redis.from_url(url)
        info = admin.info("server")
        if info["redis_version"] < "7.4":
            CacheProxyConnection.MIN_ALLOWED_VERSION = info["redis_version"]
        key = "bench:csc"
        admin.hset(key, mapping=FIELDS)
        plain2 = redis.Redis.from_url(url)
        plain3 = redis.Redis.from_url(url, protocol=3)
        cached = redis.Redis.from_url(url, protocol=3, cache_config=CacheConfig(max_size=10000))
        writer = redis.Redis.from_url(url)

        def miss() -> object:
            writer.hset(key, "n", "0")  # another client's write: the next call is a miss
            return cached.hgetall(key)

        def write_only() -> object:
            return writer.hset(key, "n", "0")

        cases: dict[str, Callable[[], object]] = {
            "raw socket floor": raw_floor(url, key),
            "redis-py RESP2, no cache": lambda: plain2.hgetall(key),
            "redis-py RESP3, no cache": lambda: plain3.hgetall(key),
            "redis-py cache, hit": lambda: cached.hgetall(key),
            "redis-py cache, miss (+ a write)": miss,
            "the write alone (subtract)": write_only,
        }
        for fn in cases.values():
            cpu_per_call(fn, 500)
        results: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for r in range(args.rounds):
            order = names[r % len(names):] + names[: r % len(names)]
            for name in order:
                results[name].append(cpu_per_call(cases[name], args.n))
        print(f"redis-py {redis.__version__}, server {info['redis_version']}, hiredis "
              f"{'yes' if redis.utils.HIREDIS_AVAILABLE else 'no'}; n={args.n} x {args.rounds} rounds, "
              "CPU µs per call of this process (median [IQR])")
        for name in names:
            lo, hi = iqr(results[name])
            med = statistics.median(results[name])
            print(f"  {name:<36}{med * 1e6:>8.1f}  [{lo * 1e6:.1f}–{hi * 1e6:.1f}]")
        admin.delete(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
