"""Where the benchmark's CPU comes from: one scheduling group for everything it starts, and how much
of the machine went to processes outside it during each run.

Linux schedules each session as its own group (autogroup), whatever a process's ``nice``: app servers
started in sessions of their own would compete with every neighbour as equals, and a neighbour that
``nice``s itself would still not yield to them. So the benchmark moves itself — and thereby every
child it starts later (Redis, the app servers and their workers, wrk) — into one cpu cgroup with a
weight of its own (``--cpu-weight``), when the cpu controller is writable (cgroup v1 or v2). Without
that it says so and runs in the default groups.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_V1 = Path("/sys/fs/cgroup/cpu")
_V2 = Path("/sys/fs/cgroup")


@contextlib.contextmanager
def one_group(weight: int) -> Iterator[str]:
    """Run the block (and every process started in it) in one cpu cgroup; yields a description."""
    name = f"sessionkit-bench-{os.getpid()}"
    if (_V1 / "cpu.shares").exists():
        group, knob, value, root = _V1 / name, "cpu.shares", str(weight), _V1
    elif (_V2 / "cgroup.controllers").exists() and "cpu" in (_V2 / "cgroup.controllers").read_text():
        # v2 weights run 1..10000 with 100 as the default; v1 shares 2..262144 with 1024.
        group, knob, value, root = _V2 / name, "cpu.weight", str(max(1, weight * 100 // 1024)), _V2
    else:
        yield "none (no cpu cgroup controller found): default per-session groups"
        return
    try:
        group.mkdir()
        (group / knob).write_text(value)
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError as exc:
        with contextlib.suppress(OSError):
            group.rmdir()
        yield f"none (cgroup not writable: {exc.strerror}): default per-session groups"
        return
    try:
        yield f"one cpu cgroup for every benchmark process, {knob}={value} (a session's default: " \
              f"{'1024' if knob == 'cpu.shares' else '100'})"
    finally:
        with contextlib.suppress(OSError):
            (root / "cgroup.procs").write_text(str(os.getpid()))
            group.rmdir()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


def tree_ticks(pid: int | None) -> int:
    """utime + stime (clock ticks) of ``pid`` and every descendant alive now (e.g. a gunicorn master
    and its workers)."""
    return 0 if pid is None else sum(_ticks(p) for p in _descendants(pid))


TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")  # one clock tick, in µs


@dataclass(frozen=True)
class CpuSample:
    total: int  # every CPU's ticks, idle included
    busy: int  # every CPU's non-idle ticks
    ours: int  # ticks of this process and all its descendants


def sample() -> CpuSample:
    first = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(x) for x in first[:8]]
    idle = ticks[3] + ticks[4]
    return CpuSample(sum(ticks), sum(ticks) - idle, sum(_ticks(p) for p in _descendants(os.getpid())))


def outside_share(before: CpuSample, after: CpuSample) -> float:
    """The share of the whole machine's CPU that processes outside the benchmark used in between."""
    total = after.total - before.total
    if total <= 0:
        return 0.0
    outside = (after.busy - before.busy) - (after.ours - before.ours)
    return max(0.0, outside / total)
