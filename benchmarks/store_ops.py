"""CPU per store operation against a raw-socket floor, for the sync and the asyncio store, local cache
on and off.

Run:  python benchmarks/store_ops.py [--n 5000] [--rounds 10]
Uses $REDIS_URL if set, else starts a throw-away server (redis-server, or the bundled Valkey).

Each figure is the CPU time of this process per operation (``time.process_time``: Redis's own CPU
and time spent waiting are not in it), median [interquartile range] of interleaved rounds whose order
rotates every round. Operations, with a cookie for an established session of five keys:
    read    open(cookie) + read a key + save (nothing changed: no write)
    write   open(cookie) + set one key + save (one atomic write)
The floor is a raw ``HGETALL`` round trip of the same hash over a plain socket (sync) and an asyncio
stream (async): no client library, no parsing beyond waiting for the whole reply.
Targets: a warm cached read ≤ 20 µs sync and ≤ 30 µs async; an uncached read ≤ 60 µs sync and
≤ 90 µs async.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import redis
from _redis import redis_url

import sessionkit
from sessionkit import AsyncRedisStore, RedisStore

DATA = {"user": "ann", "cart": ["apple", "pear"], "csrf": "x" * 32, "flash": [], "n": 0}
SECRET = "bench-secret-0123456789"
CACHE_SETTING = "local_cache"  # the store argument that turns the replica-local cache on/off
TARGETS = {("sync", "read", "on"): 20, ("async", "read", "on"): 30,
           ("sync", "read", "off"): 60, ("async", "read", "off"): 90}


def has_cache_setting() -> bool:
    return CACHE_SETTING in inspect.signature(RedisStore.__init__).parameters or any(
        CACHE_SETTING in inspect.signature(cls.__init__).parameters for cls in RedisStore.__mro__
    )


def _hgetall_packet(key: str) -> bytes:
    kb = key.encode()
    return b"*2\r\n$7\r\nHGETALL\r\n$%d\r\n%s\r\n" % (len(kb), kb)


def raw_floor(url: str, key: str, size: int) -> Callable[[], object]:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    packet = _hgetall_packet(key)

    def call() -> bytes:
        sock.sendall(packet)
        data = sock.recv(65536)
        while len(data) < size:
            data += sock.recv(65536)
        return data

    return call


async def araw_floor(url: str, key: str, size: int) -> Callable[[], Awaitable[object]]:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 6379)
    packet = _hgetall_packet(key)

    async def call() -> bytes:
        writer.write(packet)
        return await reader.readexactly(size)

    return call


def cpu(fn: Callable[[], object], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n


async def acpu(fn: Callable[[], Awaitable[object]], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        await fn()
    return (time.process_time() - start) / n


def sync_cases(url: str, cache_modes: list[str]) -> dict[tuple[str, str, str], Callable[[], object]]:
    cases: dict[tuple[str, str, str], Callable[[], object]] = {}
    for mode in cache_modes:
        extra = {CACHE_SETTING: mode == "on"} if has_cache_setting() else {}
        store = RedisStore(url, secret_keys=SECRET, key_prefix=f"bench-{mode}:", **extra)
        s = store.open(None)
        s.update(DATA)
        cookie = store.save(s).value or ""

        def read(store: RedisStore = store, cookie: str = cookie) -> object:
            s = store.open(cookie)
            s.get("user")
            return store.save(s)

        def write(store: RedisStore = store, cookie: str = cookie) -> object:
            s = store.open(cookie)
            s["n"] = s.get("n", 0) + 1
            return store.save(s)

        cases[("sync", "read", mode)] = read
        cases[("sync", "write", mode)] = write
    return cases


Key = tuple[str, str, str]  # twin, operation, cache mode


async def async_cases(url: str, cache_modes: list[str]) -> dict[Key, Callable[[], Awaitable[object]]]:
    cases: dict[Key, Callable[[], Awaitable[object]]] = {}
    for mode in cache_modes:
        extra = {CACHE_SETTING: mode == "on"} if has_cache_setting() else {}
        store = AsyncRedisStore(url, secret_keys=SECRET, key_prefix=f"abench-{mode}:", **extra)
        s = await store.open(None)
        s.update(DATA)
        cookie = (await store.save(s)).value or ""

        async def read(store: AsyncRedisStore = store, cookie: str = cookie) -> object:
            s = await store.open(cookie)
            s.get("user")
            return await store.save(s)

        async def write(store: AsyncRedisStore = store, cookie: str = cookie) -> object:
            s = await store.open(cookie)
            s["n"] = s.get("n", 0) + 1
            return await store.save(s)

        cases[("async", "read", mode)] = read
        cases[("async", "write", mode)] = write
    return cases


def summary(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values) * 1e6:7.1f} [{q[0] * 1e6:.1f}–{q[2] * 1e6:.1f}]"


async def measure(url: str, n: int, rounds: int) -> dict[tuple[str, str, str], list[float]]:
    modes = ["on", "off"] if has_cache_setting() else ["off"]
    admin = redis.Redis.from_url(url)
    sync = sync_cases(url, modes)
    floor_key = "bench:floor"  # a copy of the session hash the sync store wrote
    admin.hset(floor_key, mapping=admin.hgetall(next(admin.scan_iter(match="bench-off:s:*"))))
    size = _reply_size(admin, floor_key)
    sync[("sync", "floor", "-")] = raw_floor(url, floor_key, size)
    asyn = await async_cases(url, modes)
    asyn[("async", "floor", "-")] = await araw_floor(url, floor_key, size)
    for fn in sync.values():
        cpu(fn, 300)
    for afn in asyn.values():
        await acpu(afn, 300)
    names = list(sync) + list(asyn)
    results: dict[tuple[str, str, str], list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            if name in sync:
                results[name].append(cpu(sync[name], n))
            else:
                results[name].append(await acpu(asyn[name], n))
    admin.delete(floor_key)
    admin.close()
    return results


def _reply_size(admin: redis.Redis, key: str) -> int:
    """Bytes of the RESP2 reply to HGETALL key (the raw floors read exactly that much)."""
    pairs = admin.hgetall(key)
    out = len(b"*%d\r\n" % (2 * len(pairs)))
    for k, v in pairs.items():
        out += len(b"$%d\r\n" % len(k)) + len(k) + 2 + len(b"$%d\r\n" % len(v)) + len(v) + 2
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000, help="operations per measurement")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with redis_url() as url:
        results = asyncio.run(measure(url, args.n, args.rounds))
        info = redis.Redis.from_url(url).info("server")
    print(f"sessionkit {sessionkit.__version__}, redis-py {redis.__version__}, server "
          f"{info.get('server_name', 'redis')} {info['redis_version']}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; n={args.n} x {args.rounds} rounds")
    print("CPU µs per operation, median [IQR]; the floor is a raw HGETALL round trip")
    print(f"{'twin':<6}{'operation':<10}{'cache':<7}{'CPU µs':>28}{'× floor':>9}  target")
    for (twin, op, mode), values in results.items():
        floor = statistics.median(results[(twin, "floor", "-")])
        target = TARGETS.get((twin, op, mode))
        verdict = ""
        if target is not None:
            ok = statistics.median(values) * 1e6 <= target
            verdict = f"≤ {target} µs: {'met' if ok else 'MISSED'}"
        ratio = statistics.median(values) / floor
        print(f"{twin:<6}{op:<10}{mode:<7}{summary(values):>28}{ratio:>8.1f}x  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
