"""Benchmark ``sessionkit lint`` on the installed Django source.

Prints cold (no cache) and warm (cache hit) throughput in lines/s, the pure libcst parse time of
the same tree as the floor, and the ratio against Fixit 2 running one comparable rule
(a QualifiedNameProvider-based check for in-process memoization, like SK108) in its own
virtualenv under /tmp. With ``--no-crash`` it also lints Django, Flask and the whole standard
library and prints the counts of files, lines, diagnostics and crashes.

    python benchmarks/lint_speed.py [--jobs N] [--no-fixit] [--no-crash]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

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


def lint(root: Path, jobs: int, cache_dir: Path | None, extra: list[str] | None = None) -> float:
    args = [
        "sessionkit",
        "lint",
        str(root),
        "--exclude",
        "",
        "--format",
        "json",
        "--no-progress",
        "-o",
        os.devnull,
        "--jobs",
        str(jobs),
    ]
    args += ["--cache-dir", str(cache_dir)] if cache_dir else ["--no-cache"]
    started = time.perf_counter()
    out = subprocess.run(args + (extra or []), capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1):
        raise SystemExit(f"sessionkit lint failed: {out.stderr}")
    return time.perf_counter() - started


def parse_floor(root: Path) -> float:
    import libcst

    sources = [f.read_bytes() for f in root.rglob("*.py")]
    started = time.perf_counter()
    for source in sources:
        libcst.parse_module(source)
    return time.perf_counter() - started


def fixit_seconds(root: Path) -> float | str:
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
    env = dict(os.environ, PYTHONPATH=str(rules_dir))
    started = time.perf_counter()
    out = subprocess.run(
        [str(FIXIT_VENV / "bin" / "fixit"), "--rules", "sk_bench_rules", "lint", str(root)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=rules_dir,
    )
    elapsed = time.perf_counter() - started
    if "NoProcessLocalMemoization" not in out.stdout:
        return f"Fixit ran but reported nothing (rc {out.returncode}): {out.stderr[-300:]}"
    return elapsed


def no_crash(jobs: int) -> None:
    import django
    import flask

    from sessionkit.lint._config import Config
    from sessionkit.lint._engine import Options, run

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    paths = [Path(django.__file__).parent, Path(flask.__file__).parent, stdlib]
    config = Config(exclude=["site-packages", "dist-packages"])
    report = run(Options(paths=paths, config=config, jobs=jobs, use_cache=False, force=True))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-fixit", action="store_true")
    parser.add_argument("--no-crash", action="store_true", help="also run the full no-crash sweep")
    args = parser.parse_args()
    import django

    root = Path(django.__file__).parent
    files, lines = count_lines(root)
    print(f"tree: {root} ({files} files, {lines} lines), jobs={args.jobs}, cpus={os.cpu_count()}")
    floor = parse_floor(root)
    print(f"libcst parse floor (1 process): {floor:.2f}s = {lines / floor:,.0f} lines/s")
    with tempfile.TemporaryDirectory() as cache:
        cold = lint(root, args.jobs, None)
        lint(root, args.jobs, Path(cache))  # fill the cache
        warm = lint(root, args.jobs, Path(cache))
    print(
        f"sessionkit lint cold: {cold:.2f}s = {lines / cold:,.0f} lines/s "
        f"({floor / cold:.2f}x the single-process parse floor)"
    )
    print(f"sessionkit lint warm: {warm:.2f}s = {lines / warm:,.0f} lines/s")
    if not args.no_fixit:
        fixit = fixit_seconds(root)
        if isinstance(fixit, str):
            print(f"Fixit: {fixit}")
        else:
            print(f"Fixit 2, one rule: {fixit:.2f}s = {lines / fixit:,.0f} lines/s")
            print(f"ratio cold: {fixit / cold:.1f}x Fixit's throughput (target >= 5x)")
            print(f"ratio warm: {fixit / warm:.1f}x Fixit's throughput (target >= 50x)")
    if args.no_crash:
        no_crash(args.jobs)


if __name__ == "__main__":
    main()
