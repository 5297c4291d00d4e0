"""Run one function over many items in worker processes, each item under a time and memory limit.

A native parser can crash (signal 11) or grow without bound on a small hostile file. Each worker
caps its own address space (``RLIMIT_AS``) and, before each item, its CPU time (``RLIMIT_CPU``:
CPU seconds, so a loaded machine does not turn slow into "too slow"); it handles one item at a
time, and the parent waits on the workers' pipes with a wall-clock backstop per item. A worker
that dies, runs out of memory or overruns is killed and replaced, and only the item it held is
lost: the caller gets a :class:`Failure` naming what happened for that item, never an exception
for the whole run.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Per-item budget: CPU ``seconds``, ``memory_mb`` of address space above the worker's start-up
    size, and a wall-clock backstop (default: ten times the CPU budget, at least five minutes)."""

    seconds: float = 60.0
    memory_mb: int = 2048
    wall_seconds: float | None = None

    @property
    def wall(self) -> float:
        return self.wall_seconds if self.wall_seconds is not None else max(10 * self.seconds, 300.0)


@dataclass(frozen=True)
class Failure:
    """An item whose worker crashed, ran out of memory or time; ``reason`` says which."""

    reason: str


def _limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX: the time limit still holds
        return
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            current = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - no procfs
        current = 0
    wanted = current + megabytes * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _limit_cpu(seconds: float) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX: the wall-clock backstop still holds
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _serve(conn: Connection, fn: Callable[[Any], Any], megabytes: int, seconds: float) -> None:
    _limit_memory(megabytes)
    parent = os.getppid()
    while True:
        try:
            # Forked siblings share pipe ends, so EOF may never come: also watch the parent.
            while not conn.poll(1.0):
                if os.getppid() != parent:
                    return
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        _limit_cpu(seconds)
        try:
            reply: tuple[str, Any] = ("ok", fn(item))
        except MemoryError:
            reply = ("failed", f"exceeded the memory limit ({megabytes} MB)")
        except Exception as exc:  # the caller decides what an item error means
            reply = ("failed", f"internal error: {exc!r}")
        conn.send(reply)


def _death(exitcode: int | None, limits: Limits) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if name == "SIGXCPU":
            return f"took more than the {limits.seconds:g} s CPU limit"
        if name == "SIGKILL":
            return "the worker was killed (SIGKILL; out of memory?)"
        return f"the worker crashed ({name})"
    return f"the worker exited unexpectedly (code {exitcode})"


class _Worker:
    def __init__(self, ctx: Any, fn: Callable[[Any], Any], limits: Limits) -> None:
        self.conn, child = ctx.Pipe()
        args = (child, fn, limits.memory_mb, limits.seconds)
        self.process = ctx.Process(target=_serve, args=args, daemon=True)
        self.process.start()
        child.close()
        self.index: int | None = None
        self.deadline = 0.0

    def give(self, index: int, item: Any, seconds: float) -> None:
        self.index = index
        self.conn.send(item)
        self.deadline = time.monotonic() + seconds

    def reply(self) -> tuple[str, Any] | None:
        try:
            status, value = self.conn.recv()
        except (EOFError, OSError):
            return None
        return status, value

    def stop(self, kill: bool = False) -> None:
        if kill and self.process.is_alive():
            self.process.kill()
        elif not kill:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        self.conn.close()
        self.process.join(timeout=None if kill else 5)
        if self.process.is_alive():  # pragma: no cover - a worker that ignores EOF
            self.process.kill()
            self.process.join()


def _context() -> Any:
    # fork shares the parent's imports (cheap start); spawn elsewhere.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def run_limited(
    fn: Callable[[Any], Any], items: Sequence[Any], jobs: int, limits: Limits
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, fn(items[index]))`` in completion order, or ``(index, Failure)``.

    ``fn`` must be a module-level function (picklable under spawn). At most ``jobs`` workers run.
    """
    if not items:
        return
    ctx = _context()
    queue = deque(enumerate(items))
    workers: list[_Worker] = [_Worker(ctx, fn, limits) for _ in range(min(jobs, len(items)))]
    try:
        while True:
            for worker in workers:
                if worker.index is None and queue:
                    worker.give(*queue.popleft(), limits.wall)
            busy = [w for w in workers if w.index is not None]
            if not busy:
                return
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            for worker in busy:
                index = worker.index
                if index is None:
                    continue
                if worker.conn in ready or worker.process.sentinel in ready:
                    got = worker.reply()
                    if got is not None:
                        worker.index = None
                        yield index, got[1] if got[0] == "ok" else Failure(got[1])
                        continue
                    worker.process.join()
                    reason = _death(worker.process.exitcode, limits)
                elif time.monotonic() >= worker.deadline:
                    reason = f"took longer than {limits.wall:g} s (wall clock)"
                else:
                    continue
                worker.stop(kill=True)
                workers.remove(worker)
                if queue:
                    workers.append(_Worker(ctx, fn, limits))
                yield index, Failure(reason)
    finally:
        for worker in workers:
            worker.stop(kill=worker.index is not None)
