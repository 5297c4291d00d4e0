"""Child processes that never outlive the program that started them.

Every server the demo, the test suite and the benchmarks start goes through ``spawn``:

- it runs in a process group of its own, so ``end`` stops the program *and* whatever it forked
  (a gunicorn master with its workers, nginx with its workers) in one ``killpg``;
- on Linux it gets ``PR_SET_PDEATHSIG`` = ``SIGTERM``: when the parent dies, even by ``SIGKILL``,
  the kernel sends it ``SIGTERM``, and gunicorn, nginx and redis-server stop their own workers on
  ``SIGTERM``. The kernel ties the signal to the spawning *thread*, so it is only set when spawning
  from the main thread (a child started from a worker thread would die with that thread);
- it is registered until ``end`` reaps it, and ``end_all`` (run at interpreter exit) ends whatever is
  still registered: a test that fails before its cleanup, or forgets it, leaves nothing behind.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

_PR_SET_PDEATHSIG = 1
_LIVE: dict[int, subprocess.Popen[bytes]] = {}


def _death_signal_setter() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks the kernel for SIGTERM when the parent dies (Linux only)."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded in the parent: the forked child only calls it
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def spawn(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(argv, **kwargs)`` in a new process group, tied to this process's life."""
    proc: subprocess.Popen[bytes] = subprocess.Popen(
        list(argv), start_new_session=True, preexec_fn=_death_signal_setter(), **kwargs
    )
    _LIVE[proc.pid] = proc
    return proc


def signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to the child's process group (nothing if the group is gone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def end(proc: subprocess.Popen[bytes], grace: float = 0.0, sig: int = signal.SIGTERM) -> None:
    """Stop the child and its group: ``sig`` and up to ``grace`` seconds to exit, then ``SIGKILL``.

    With ``grace=0`` the group is killed at once (the way a node or a spot instance dies). Returns
    when the child is reaped; orphaned group members got ``SIGKILL`` and are reaped by init.
    """
    if grace > 0 and proc.poll() is None:
        signal_group(proc, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    signal_group(proc, signal.SIGKILL)  # also when the leader exited: its workers may linger
    proc.wait()
    _LIVE.pop(proc.pid, None)


def live() -> list[int]:
    """PIDs of the children started by ``spawn`` that nobody has ended yet."""
    return list(_LIVE)


def end_all() -> list[int]:
    """End every child still registered; return their PIDs (empty when everything was cleaned up)."""
    pids = live()
    for pid in pids:
        proc = _LIVE.get(pid)
        if proc is not None:
            end(proc)
    return pids


atexit.register(end_all)


def scaled(seconds: float) -> float:
    """A deadline for a wait on another process, times ``$SESSIONKIT_TIMEOUT_SCALE`` (default 1).

    Every wait polls for its condition and returns as soon as it holds; the deadline only bounds
    a wait that would otherwise hang. CI on a loaded machine sets the scale higher.
    """
    raw = os.environ.get("SESSIONKIT_TIMEOUT_SCALE", "1")
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"SESSIONKIT_TIMEOUT_SCALE={raw!r} is not a number (e.g. 3)") from None
    if scale <= 0:
        raise ValueError(f"SESSIONKIT_TIMEOUT_SCALE={raw!r} must be positive")
    return seconds * scale
