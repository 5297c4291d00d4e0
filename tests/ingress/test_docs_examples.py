"""The ``console`` examples of docs/ingress.md run as written and print what the docs show.

The blocks run in document order in one directory: ``$ cat FILE`` writes FILE from the lines
shown (or, when FILE exists, e.g. after ``--patch --in-place``, compares them with it); each
``$ sessionkit ingress ...`` (or ``sessionkit lint ...``) runs with stderr then stdout compared
line by line, ``> FILE`` at the end sends stdout to FILE instead, and a closing
``(exit status N)`` line gives the expected exit status (else 0). Blocks whose input is not shown
in the docs would be listed in ``NOT_RUN`` so that no new example drops out unnoticed.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "ingress.md"
NOT_RUN: set[str] = set()  # first command of each block whose input the docs do not show


def _split_redirect(cmd: str) -> tuple[list[str], str | None]:
    """``sessionkit lint app > lint.json`` -> (the arguments, "lint.json")."""
    args = shlex.split(cmd)
    if len(args) > 2 and args[-2] == ">":
        return args[:-2], args[-1]
    return args, None


def _steps(block: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def _runnable(steps: list[tuple[str, list[str]]], cwd: Path) -> bool:
    made = {c[4:] for c, _ in steps if c.startswith("cat ")}
    made |= {out for out in (_split_redirect(c)[1] for c, _ in steps) if out}
    for cmd, _ in steps:
        if cmd.startswith("cat "):
            continue
        if not cmd.startswith(("sessionkit ingress", "sessionkit lint")):
            return False
        files = [a for a in _split_redirect(cmd)[0] if a.endswith((".yaml", ".json"))]
        if any(not (cwd / f).exists() and f not in made for f in files):
            return False
    return True


def test_console_examples_print_what_the_docs_show(tmp_path: Path) -> None:
    blocks = re.findall(r"```console\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    not_run: set[str] = set()
    mismatches: list[str] = []
    ran = 0
    for block in blocks:
        steps = _steps(block)
        if not _runnable(steps, tmp_path):
            not_run.add(steps[0][0])
            continue
        for cmd, shown in steps:
            if cmd.startswith("cat "):
                path, text = tmp_path / cmd[4:], "\n".join(shown) + "\n"
                if path.exists() and path.read_text(encoding="utf-8") != text:
                    mismatches.append(f"$ {cmd}: the file differs from the docs")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                continue
            status = 0
            if shown and re.fullmatch(r"\(exit status \d+\)", shown[-1]):
                status, shown = int(shown[-1][len("(exit status "):-1]), shown[:-1]
            args, redirect = _split_redirect(cmd)
            proc = subprocess.run([sys.executable, "-m", "sessionkit", *args[1:]], cwd=tmp_path,
                                  capture_output=True, text=True, check=False)
            ran += 1
            if redirect:
                (tmp_path / redirect).write_text(proc.stdout, encoding="utf-8")
            got = (proc.stderr + (proc.stdout if redirect is None else "")).splitlines()
            if (proc.returncode, got) != (status, shown):
                mismatches.append(f"$ {cmd}: exit {proc.returncode} (docs: {status})\n"
                                  + "\n".join(got))
    assert mismatches == []
    assert not_run == NOT_RUN
    assert ran >= 25  # every other example ran
