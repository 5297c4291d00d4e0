"""Deterministic probes of one running configuration: Redis commands per request type, lost updates,
a write racing reads, a Redis outage, a forged cookie. Each returns plain data for the report."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import redis
from _http import Answer, cookie_header, get, login

# Connection set-up and our own measuring, not the requests' work.
_OVERHEAD = ("info", "hello", "ping", "client|", "script|", "command|", "select", "scan", "keys")


def _commandstats(admin: redis.Redis) -> dict[str, int]:
    stats: dict[str, Any] = admin.info("commandstats")
    calls = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    return {k: v for k, v in calls.items() if not k.startswith(_OVERHEAD)}


def commands(port: int, admin: redis.Redis, n: int = 20) -> dict[str, str]:
    """Average Redis commands per request, by request type, e.g. ``"1 (hgetall)"``."""
    cookies = login(port)
    get(port, "/read", cookie_header(cookies))  # first contact effects (migration, refresh) out of the way
    jar = cookie_header(cookies)
    kinds: dict[str, Callable[[int], str]] = {
        "untouched": lambda i: "/untouched",
        "read": lambda i: "/read",
        "write": lambda i: f"/write?value=v{i}",
        "anonymous read": lambda i: "/read",
    }
    out = {}
    for kind, path in kinds.items():
        before = _commandstats(admin)
        for i in range(n):
            answer = get(port, path(i), None if kind == "anonymous read" else jar)
            if answer.status != 200:
                raise RuntimeError(f"{kind} {path(i)} on port {port}: {answer.status} {answer.body!r}")
        after = _commandstats(admin)
        diff = {k: (after[k] - before.get(k, 0)) / n for k in after if after[k] - before.get(k, 0)}
        total = sum(diff.values())
        names = ", ".join(f"{k}" if v == 1 else f"{k}×{v:g}" for k, v in sorted(diff.items()))
        out[kind] = f"{total:g}" + (f" ({names})" if names else "")
    return out


def _concurrently(calls: list[Callable[[], Answer]]) -> list[tuple[int, Answer]]:
    """Run the calls at once (a barrier releases them together); (completion order, answer)."""
    barrier = threading.Barrier(len(calls))
    lock = threading.Lock()
    done: list[tuple[int, Answer]] = []

    def run(call: Callable[[], Answer]) -> None:
        barrier.wait(timeout=30)
        answer = call()
        with lock:
            done.append((len(done), answer))

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return done


def _final_jar(start: dict[str, str], done: list[tuple[int, Answer]]) -> str:
    """The cookies a browser holds after the answers arrived in this order."""
    jar = dict(start)
    for _, answer in sorted(done, key=lambda d: d[0]):
        jar.update(answer.cookies)
    return cookie_header(jar)


def lost_updates(port: int, writers: int = 50) -> int:
    """``writers`` concurrent requests each set a distinct key of one session: how many are missing."""
    cookies = login(port)
    jar = cookie_header(cookies)
    done = _concurrently([lambda i=i: get(port, f"/set?key=k{i}&value=1", jar) for i in range(writers)])
    if any(a.status != 200 for _, a in done):
        raise RuntimeError(f"lost-update probe on port {port}: {sorted({a.status for _, a in done})}")
    dump = get(port, "/dump", _final_jar(cookies, done)).body or {}
    return sum(1 for i in range(writers) if f"k{i}" not in dump)


def write_survives_reads(port: int, readers: int = 49, trials: int = 5) -> int:
    """One write racing ``readers`` reads of the same session: in how many trials it survived."""
    return sum(_write_among_reads(port, readers) for _ in range(trials))


def _write_among_reads(port: int, readers: int) -> bool:
    cookies = login(port)
    jar = cookie_header(cookies)
    get(port, "/set?key=x&value=old", jar)
    calls: list[Callable[[], Answer]] = [lambda: get(port, "/read", jar) for _ in range(readers)]
    calls.insert(readers // 2, lambda: get(port, "/set?key=x&value=new", jar))
    done = _concurrently(calls)
    dump = get(port, "/dump", _final_jar(cookies, done)).body or {}
    return bool(dump.get("x") == "new")


def outage(port: int, server: Any) -> dict[str, str]:
    """Stop Redis: what do a read, a write and an untouched request get; is the session intact after?"""
    cookies = login(port)
    jar = cookie_header(cookies)
    server.stop()
    try:
        read, write, untouched = (get(port, p, jar) for p in ("/read", "/write?value=x", "/untouched"))
    finally:
        server.start()
    first = get(port, "/read", jar)
    again = get(port, "/read", jar)

    def show(a: Answer, reads: bool = False) -> str:
        extra = " +Retry-After" if a.status == 503 and "retry-after" in a.headers else ""
        logged_out = reads and a.status == 200 and isinstance(a.body, dict) and a.body.get("user") is None
        return f"{a.status}{extra}" + (" (logged out)" if logged_out else "")

    intact = isinstance(again.body, dict) and again.body.get("user") == "bench"
    return {"read": show(read, True), "write": show(write), "untouched": show(untouched),
            "after": f"{show(first, True)}, session {'intact' if intact else 'LOST'}"}


def forged_cookie(port: int, admin: redis.Redis) -> str:
    """Send a client-chosen session ID and write: is it adopted as the session's ID?"""
    forged = f"forgedSessionId{secrets.token_hex(12)}"
    name = next(iter(login(port)))
    answer = get(port, "/set?key=a&value=1", f"{name}={forged}")
    in_cookie = any(forged in v for v in answer.cookies.values())
    in_redis = any(forged.encode() in k for k in admin.scan_iter(match="*", count=1000))
    if in_cookie or in_redis:
        return "ADOPTS it" + (" (key in Redis)" if in_redis else "")
    return "new ID" if answer.cookies else "ignored"
