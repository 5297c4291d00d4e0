"""Score ``sessionkit lint`` against hand-labelled real applications (precision/recall per kind).

The set lives in ``benchmarks/lint_eval/``: ``manifest.jsonl`` (one app per line: repository,
commit, split, files with their git blob ids) and ``labels.jsonl`` (one hazard per line: app, split,
path, line, end_line, category, scope ``runtime`` or ``not-a-hazard``, note). The labels were
written by reading the code, without linter output. No third-party source is stored here: the files
are re-materialised from local git mirrors (``<mirror>/<owner>+<name>/repo``, e.g. made with
``git clone --mirror``), and each blob id is verified. The rest of each repository's Python and
config files at the pinned commit is written beside them (``--listed-only`` leaves it out), so the
linter sees the project as a user runs it; only findings in the labelled files are scored.

Matching: a finding matches a label when it is in the same file, has the label's category, and its
line lies within ``[line - TOLERANCE, end_line + TOLERANCE]``. A runtime label with a matching
finding is found (several findings on one label count once); a runtime label without one is a miss.
A finding that matches no runtime label (a "not-a-hazard" label or no label) is a false positive.

    python benchmarks/lint_eval.py --split tune [--mirror /work/.mirror] [--show]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "lint_eval"
#: Lines a finding may sit before or after the labelled range (a label may mark the value while the
#: finding marks the statement around it, or the reverse).
TOLERANCE = 2


@dataclass(frozen=True)
class Label:
    app: str
    path: str
    line: int
    end_line: int
    category: str
    runtime: bool
    note: str

    def matches(self, finding: dict[str, Any], any_category: bool = False) -> bool:
        return (
            finding["path"] == self.path
            and (any_category or finding["category"] == self.category)
            and self.line - TOLERANCE <= finding["line"] <= self.end_line + TOLERANCE
        )


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _hash_object(data: bytes) -> str:
    out = subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True)
    return out.stdout.decode().strip()


def _git_dir(app: dict[str, Any], mirror: Path) -> Path:
    git_dir = mirror / app["repo"].replace("/", "+") / "repo"
    if (git_dir / ".git").is_dir():  # a clone with a work tree rather than a bare mirror
        return git_dir / ".git"
    return git_dir


def _has_commit(app: dict[str, Any], mirror: Path) -> bool:
    git_dir = _git_dir(app, mirror)
    return (
        git_dir.is_dir()
        and subprocess.run(
            ["git", f"--git-dir={git_dir}", "cat-file", "-e", app["commit"]], capture_output=True, check=False
        ).returncode
        == 0
    )


def materialise(app: dict[str, Any], mirror: Path, into: Path, src: Path | None = None) -> None:
    """Write the app's files under ``into`` from the git mirror, verifying every blob id.

    Without a usable mirror, ``src`` (a directory of already materialised files,
    ``<src>/<split>/<app>/<path>``) is used instead, each file checked against its blob id.
    """
    git_dir = _git_dir(app, mirror)
    usable = _has_commit(app, mirror)
    if not usable:
        if src is None:
            raise SystemExit(f"no mirror for {app['repo']} at {git_dir} (fetch or clone it --mirror)")
        for entry in app["files"]:
            data = (src / app["split"] / app["app"] / entry["path"]).read_bytes()
            if _hash_object(data) != entry["blob"]:
                raise SystemExit(f"{app['app']}: {entry['path']} does not match blob {entry['blob']}")
            out = into / entry["path"]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        return
    for entry in app["files"]:
        spec = f"{app['commit']}:{entry['path']}"
        blob = subprocess.run(
            ["git", f"--git-dir={git_dir}", "rev-parse", spec], capture_output=True, text=True, check=True
        ).stdout.strip()
        if blob != entry["blob"]:
            raise SystemExit(f"{app['app']}: {entry['path']} is blob {blob}, manifest says {entry['blob']}")
        data = subprocess.run(["git", f"--git-dir={git_dir}", "show", spec], capture_output=True, check=True)
        out = into / entry["path"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data.stdout)


#: Files of the rest of the repository written beside the labelled ones by ``--whole-repo``: what
#: the linter reads (Python, and the config files an app loads), not templates or assets.
CONTEXT_SUFFIXES = (".py", ".cfg", ".ini", ".toml", ".env")


def materialise_context(app: dict[str, Any], mirror: Path, into: Path) -> int:
    """Write the rest of the repository's tree at the app's commit under ``into`` (the labelled
    files are already there): Python and config files only, blobs missing from the mirror (large
    files) skipped. Returns how many files were written."""
    git_dir = _git_dir(app, mirror)
    listed = {entry["path"] for entry in app["files"]}
    tree = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z", app["commit"]], capture_output=True, check=True
    ).stdout.split(b"\0")
    wanted: list[tuple[str, str]] = []
    for entry in tree:
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, blob = meta.split()
        path = raw_path.decode("utf-8", "surrogateescape")
        if kind != b"blob" or mode in (b"120000", b"160000") or path in listed:
            continue
        if path.endswith(CONTEXT_SUFFIXES):
            wanted.append((blob.decode(), path))
    if not wanted:
        return 0
    batch = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
        input="".join(f"{blob}\n" for blob, _ in wanted).encode(),
        capture_output=True,
        check=True,
    ).stdout
    written, at = 0, 0
    for _blob, path in wanted:
        end = batch.index(b"\n", at)
        header = batch[at:end].split()
        at = end + 1
        if len(header) < 3 or header[1] != b"blob":  # "<id> missing": not in the snapshot
            continue
        size = int(header[2])
        data, at = batch[at : at + size], at + size + 1
        out = into / path
        if out.exists():
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        written += 1
    return written


def lint(root: Path) -> list[dict[str, Any]]:
    """Findings of ``sessionkit lint`` (default configuration, no cache) on ``root``."""
    out = subprocess.run(
        [sys.executable, "-m", "sessionkit", "lint", ".", "--format", "json", "--no-cache", "--no-progress"],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    # Exit 1 means findings, so it always comes with a report: without one the run died.
    if out.returncode not in (0, 1) or (out.returncode == 1 and not out.stdout.strip()):
        raise SystemExit(f"sessionkit lint failed in {root} (exit {out.returncode}): {out.stderr}")
    if not out.stdout.strip():  # every file excluded by the default configuration
        return []
    findings: list[dict[str, Any]] = json.loads(out.stdout)["findings"]
    return [f for f in findings if f["category"] != "input"]


def score(
    labels: list[Label], findings: dict[str, list[dict[str, Any]]], any_category: bool = False
) -> dict[str, Any]:
    """Per-category counts plus the lists of misses and false positives.

    With ``any_category`` a finding matches a label at its lines whatever category each names (a
    diagnostic: how many misses are a hazard found under another name, e.g. a rate-limit counter
    reported as module state). The strict score, category included, is the one reported.
    """
    found: set[Label] = set()
    false_positives: list[tuple[str, dict[str, Any], Label | None]] = []
    true_positives = Counter[str]()
    by_app: dict[str, list[Label]] = {}
    for label in labels:
        by_app.setdefault(label.app, []).append(label)
    for app, app_findings in findings.items():
        for finding in app_findings:
            hits = [la for la in by_app.get(app, []) if la.matches(finding, any_category)]
            runtime = [la for la in hits if la.runtime]
            if runtime:
                new = [la for la in runtime if la not in found]
                found.update(runtime)
                if new:
                    true_positives[finding["category"]] += 1
            else:
                false_positives.append((app, finding, hits[0] if hits else None))
    misses = [la for la in labels if la.runtime and la not in found]
    return {"found": found, "tp": true_positives, "fp": false_positives, "misses": misses}


def report(
    split: str, apps: int, files: int, labels: list[Label], result: dict[str, Any], show: bool
) -> None:
    runtime = [la for la in labels if la.runtime]
    fp_by = Counter(f["category"] for _, f, _ in result["fp"])
    rows = sorted({la.category for la in labels} | set(fp_by) | set(result["tp"]))
    print(
        f"split={split}: {apps} apps, {files} files, {len(runtime)} runtime labels, "
        f"{len(labels) - len(runtime)} not-a-hazard labels, tolerance ±{TOLERANCE} lines"
    )
    print(f"{'category':<20}{'labels':>7}{'found':>7}{'recall':>8}{'TP':>5}{'FP':>5}{'precision':>11}")
    for cat in rows:
        n = sum(1 for la in runtime if la.category == cat)
        f = sum(1 for la in result["found"] if la.category == cat)
        tp, fp = result["tp"][cat], fp_by[cat]
        rec = f"{f / n:.2f}" if n else "-"
        prec = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
        print(f"{cat:<20}{n:>7}{f:>7}{rec:>8}{tp:>5}{fp:>5}{prec:>11}")
    tp, fp = sum(result["tp"].values()), len(result["fp"])
    recall = len(result["found"]) / len(runtime) if runtime else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    print(
        f"{'overall':<20}{len(runtime):>7}{len(result['found']):>7}{recall:>8.2f}{tp:>5}{fp:>5}{precision:>11.2f}"
    )
    if show:
        for la in result["misses"]:
            print(f"MISS {la.app}/{la.path}:{la.line}-{la.end_line} {la.category}: {la.note}")
        for app, f, la in result["fp"]:
            why = f"on a not-a-hazard label ({la.note})" if la else "on no label"
            print(
                f"FP   {app}/{f['path']}:{f['line']} {f['code']} {f['category']} {why}: {f['message'][:100]}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--split", required=True, help="tune, holdout, fresh, fresh2..fresh4 (any split in the manifest)"
    )
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"), help="directory of git mirrors")
    parser.add_argument(
        "--data", type=Path, default=HERE, help="directory with manifest.jsonl and labels.jsonl"
    )
    parser.add_argument("--src", type=Path, help="materialised files to use where a mirror is missing")
    parser.add_argument("--app", action="append", help="only these apps")
    parser.add_argument("--show", action="store_true", help="list every miss and false positive")
    parser.add_argument(
        "--listed-only",
        action="store_true",
        help="lint only the labelled files, as figures before 2026-12-02 were made (default: the whole "
        "repository at the app's commit is linted, as a user runs the linter, and findings are scored "
        "in the labelled files only)",
    )
    parser.add_argument(
        "--any-category",
        action="store_true",
        help="match a finding to a label at its lines whatever the category (diagnostic, not the score)",
    )
    args = parser.parse_args()
    manifest = _jsonl(args.data / "manifest.jsonl")
    splits = sorted({a["split"] for a in manifest})
    if args.split not in splits:
        parser.error(f"unknown split {args.split!r}: the manifest has {', '.join(splits)}")
    apps = [a for a in manifest if a["split"] == args.split]
    if args.app:
        apps = [a for a in apps if a["app"] in args.app]
    names = {a["app"] for a in apps}
    labels = [
        Label(
            d["app"], d["path"], d["line"], d["end_line"], d["category"], d["scope"] == "runtime", d["note"]
        )
        for d in _jsonl(args.data / "labels.jsonl")
        if d["split"] == args.split and d["app"] in names
    ]
    findings: dict[str, list[dict[str, Any]]] = {}
    if args.src is None:
        absent = [a for a in apps if not _has_commit(a, args.mirror)]
        for app in absent:
            print(f"skipped {app['app']}: commit {app['commit'][:12]} of {app['repo']} is not in the mirror")
        skipped = {a["app"] for a in absent}
        apps = [a for a in apps if a["app"] not in skipped]
        labels = [la for la in labels if la.app not in skipped]
    with tempfile.TemporaryDirectory(prefix="sessionkit-lint-eval-") as tmp:
        for app in apps:
            root = Path(tmp) / app["app"]
            materialise(app, args.mirror, root, args.src)
            listed = {entry["path"] for entry in app["files"]}
            if not args.listed_only and args.src is None:
                materialise_context(app, args.mirror, root)
            findings[app["app"]] = [f for f in lint(root) if f["path"] in listed]
    files = sum(len(a["files"]) for a in apps)
    report(args.split, len(apps), files, labels, score(labels, findings, args.any_category), args.show)


if __name__ == "__main__":
    main()
