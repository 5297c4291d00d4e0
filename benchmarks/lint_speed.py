"""Benchmark ``sessionkit lint`` on the installed Django source: median and spread of several
interleaved rounds, CPU time next to wall time, Fixit 2 at the same process count.

Each round runs, in turn: sessionkit cold (no cache), sessionkit warm (cache hit), Fixit 2 with one
comparable rule (a QualifiedNameProvider-based check for in-process memoization, like SK108, in its
own virtualenv under /tmp), and a plain libcst parse of every file in one process. Interleaving
spreads a loaded machine's noise over all of them alike. Every tool runs with the same number of
worker processes (``--jobs``, default 1; Fixit is driven through its API with the same count).

The libcst line is *not* a floor of what sessionkit does: sessionkit's prefilter skips files that
cannot match any rule, so "sessionkit cold / full parse" compares a filtered run against parsing
every file. With ``--no-crash`` it also lints Django, Flask and the standard library.

    python benchmarks/lint_speed.py [--rounds 5] [--jobs 1] [--no-fixit] [--no-crash]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

Sample = tuple[float, float]  # (wall seconds, CPU seconds of the child processes)
FIXIT_DRIVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from fixit.api import fixit_paths
    from fixit.ftypes import Options, QualifiedRule

    jobs = int(sys.argv[2])
    options = Options(rules=[QualifiedRule("sk_bench_rules")])
    results = list(fixit_paths([Path(sys.argv[1])], options=options, parallel=jobs > 1))
    print(sum(1 for r in results if r.violation is not None), "violations")
    """
)

FIXIT_VENV = Path(tempfile.gettempdir()) / "sessionkit-bench-fixit"
FIXIT_RULE = textwrap.dedent(
    """
    import libcst as cst
    from fixit import LintRule
    from libcst.metadata import QualifiedNameProvider

    MEMO = {"functools.lru_cache", "functools.cache"}


    class NoProcessLocalMemoization(LintRule):
        METADATA_DEPENDENCIES = (QualifiedNameProvider,)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            for dec in node.decorators:
                expr = dec.decorator
                target = expr.func if isinstance(expr, cst.Call) else expr
                names = {q.name for q in self.get_metadata(QualifiedNameProvider, target, set())}
                if names & MEMO and node.params.params:
                    self.report(dec, "process-local memoization")
    """
)


def count_lines(root: Path) -> tuple[int, int]:
    files = list(root.rglob("*.py"))
    return len(files), sum(f.read_bytes().count(b"\n") for f in files)


def _timed(args: list[str], **kwargs: object) -> tuple[subprocess.CompletedProcess[str], Sample]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, (wall, cpu)


def lint(root: Path, jobs: int, cache_dir: Path | None, extra: list[str] | None = None) -> Sample:
    args = [
        "sessionkit",
        "lint",
        str(root),
        "--exclude",
        "",
        "--no-respect-gitignore",
        "--format",
        "json",
        "--no-progress",
        "-o",
        os.devnull,
        "--jobs",
        str(jobs),
    ]
    args += ["--cache-dir", str(cache_dir)] if cache_dir else ["--no-cache"]
    out, sample = _timed(args + (extra or []))
    if out.returncode not in (0, 1):
        raise SystemExit(f"sessionkit lint failed: {out.stderr}")
    return sample


def full_parse(root: Path) -> Sample:
    """libcst parse of every file, one process (this one)."""
    import libcst

    sources = [f.read_bytes() for f in root.rglob("*.py")]
    started, cpu = time.perf_counter(), time.process_time()
    for source in sources:
        libcst.parse_module(source)
    return time.perf_counter() - started, time.process_time() - cpu


def fixit_setup() -> Path | str:
    """The rules directory for Fixit (installed in its own virtualenv), or why it is unavailable."""
    python = FIXIT_VENV / "bin" / "python"
    if not python.exists():
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(FIXIT_VENV)], capture_output=True, check=False
        )
        if made.returncode != 0:
            return f"could not create a virtualenv: {made.stderr.decode()[-300:]}"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "fixit"], capture_output=True, text=True, check=False
    )
    if installed.returncode != 0:
        return f"Fixit could not be installed: {installed.stderr[-300:]}"
    rules_dir = Path(tempfile.mkdtemp(prefix="fixit-rules-"))
    (rules_dir / "sk_bench_rules.py").write_text(FIXIT_RULE)
    (rules_dir / "drive.py").write_text(FIXIT_DRIVER)
    return rules_dir


def fixit(root: Path, jobs: int, rules_dir: Path) -> Sample:
    env = dict(os.environ, PYTHONPATH=str(rules_dir))
    args = [str(FIXIT_VENV / "bin" / "python"), str(rules_dir / "drive.py"), str(root), str(jobs)]
    out, sample = _timed(args, env=env, cwd=rules_dir)
    if out.returncode != 0 or " violations" not in out.stdout or out.stdout.startswith("0 "):
        raise SystemExit(f"Fixit ran but reported nothing (rc {out.returncode}): {out.stderr[-500:]}")
    return sample


def no_crash(jobs: int) -> None:
    import django
    import flask

    from sessionkit.lint._config import Config
    from sessionkit.lint._engine import Options, run

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    paths = [Path(django.__file__).parent, Path(flask.__file__).parent, stdlib]
    config = Config(exclude=["site-packages", "dist-packages"])
    options = Options(
        paths=paths, config=config, jobs=jobs, use_cache=False, force=True, respect_gitignore=False
    )
    report = run(options)
    diagnostics = [f for f in report.findings if f.code.startswith("SK0")]
    crashes = [f for f in diagnostics if f.code == "SK008"]
    by_code: dict[str, int] = {}
    for f in diagnostics:
        by_code[f.code] = by_code.get(f.code, 0) + 1
    print(
        "no-crash run (prefilter off: every file parsed, every rule run): "
        f"{report.files} files, {report.lines} lines, {report.parsed} parsed, "
        f"{len(report.findings)} findings, {len(diagnostics)} input diagnostics {by_code}, "
        f"crashes={len(crashes)}, {report.seconds:.1f}s"
    )
    for crash in crashes[:10]:
        print("  CRASH", crash.path, crash.message)


def _row(name: str, samples: list[Sample], lines: int) -> str:
    walls = [w for w, _ in samples]
    cpus = [c for _, c in samples]
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    return (
        f"| {name} | {wall:.2f} s ({min(walls):.2f}–{max(walls):.2f}) "
        f"| {cpu:.2f} s ({min(cpus):.2f}–{max(cpus):.2f}) | {lines / wall:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median and range)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes, the same for every tool")
    parser.add_argument("--subtree", default="", help="only this part of Django (e.g. utils)")
    parser.add_argument("--no-fixit", action="store_true")
    parser.add_argument("--no-crash", action="store_true", help="also run the full no-crash sweep")
    args = parser.parse_args()
    import django

    # A copy outside any repository: no tool skips it as gitignored (site-packages in a .venv).
    work = Path(tempfile.mkdtemp(prefix="lint-speed-"))
    root = work / "django"
    source = Path(django.__file__).parent / args.subtree
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("__pycache__"))
    files, lines = count_lines(root)
    load = os.getloadavg()[0]
    print(f"tree: Django {django.__version__} {args.subtree or '(all)'} ({files} files, {lines} lines)")
    print(f"jobs={args.jobs}, cpus={os.cpu_count()}, load average at start={load:.1f}")
    rules_dir = None if args.no_fixit else fixit_setup()
    if isinstance(rules_dir, str):
        print(f"Fixit: {rules_dir}")
        rules_dir = None
    runs: dict[str, Callable[[], Sample]] = {}
    samples: dict[str, list[Sample]] = {}
    with tempfile.TemporaryDirectory() as cache:
        lint(root, args.jobs, Path(cache))  # fill the cache for the warm runs
        runs["sessionkit lint, cold (no cache)"] = lambda: lint(root, args.jobs, None)
        runs["sessionkit lint, warm (cache hit)"] = lambda: lint(root, args.jobs, Path(cache))
        if rules_dir is not None:
            runs["Fixit 2, one rule"] = lambda: fixit(root, args.jobs, rules_dir)
        runs["libcst parse of every file (1 process)"] = lambda: full_parse(root)
        for _ in range(args.rounds):
            for name, run in runs.items():
                sample = run()
                samples.setdefault(name, []).append(sample)
                print(f"  {name}: wall {sample[0]:.2f} s, CPU {sample[1]:.2f} s", flush=True)
    print(f"\n{args.rounds} interleaved rounds; median (min–max); CPU = user+sys of all processes\n")
    print("| run | wall | CPU | lines/s (wall) |\n|---|---|---|---|")
    for name, got in samples.items():
        print(_row(name, got, lines))
    cold = [w for w, _ in samples["sessionkit lint, cold (no cache)"]]
    full = [w for w, _ in samples["libcst parse of every file (1 process)"]]
    print(
        f"\nsessionkit cold / full libcst parse (a filtered run against parsing every file): "
        f"{statistics.median(cold) / statistics.median(full):.2f}x the time"
    )
    if "Fixit 2, one rule" in samples:
        fix = samples["Fixit 2, one rule"]
        for kind, index in (("wall", 0), ("CPU", 1)):
            cold_runs = samples["sessionkit lint, cold (no cache)"]
            ratios = sorted(f[index] / c[index] for f, c in zip(fix, cold_runs))
            print(
                f"Fixit / sessionkit cold, {kind} time, per round: median {statistics.median(ratios):.1f}x "
                f"(range {ratios[0]:.1f}–{ratios[-1]:.1f}x)"
            )
    shutil.rmtree(work, ignore_errors=True)
    if args.no_crash:
        no_crash(args.jobs)


if __name__ == "__main__":
    main()
