"""The wheel contains every subpackage under the one ``sessionkit`` namespace, and nothing else."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# folder in the repository -> import path in the wheel
MAPPING = {"sessionkit": "sessionkit", "adapters": "sessionkit/adapters", "lint": "sessionkit/lint"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("sessionkit_redis-*.whl")
    return zipfile.ZipFile(path)


def _expected_packages() -> set[str]:
    expected = set()
    for folder, target in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).as_posix()
            expected.add(target if rel == "." else f"{target}/{rel}")
    return expected


def test_every_subpackage_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    missing = sorted(p for p in _expected_packages() if f"{p}/__init__.py" not in names)
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_only_the_sessionkit_namespace_is_installed(wheel: zipfile.ZipFile) -> None:
    tops = {n.split("/")[0] for n in wheel.namelist() if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"sessionkit"}


def test_wheel_ships_py_typed(wheel: zipfile.ZipFile) -> None:
    assert "sessionkit/py.typed" in wheel.namelist()


def test_installed_package_is_not_the_repo_shadow() -> None:
    import sessionkit.adapters
    import sessionkit.lint

    assert Path(sessionkit.adapters.__file__).parent.name == "adapters"
    assert Path(sessionkit.lint.__file__).parent.name == "lint"


def test_the_ci_lock_pins_every_requirement_within_its_range() -> None:
    """.ci/run installs .ci/requirements.lock: it must pin every dependency of pyproject.toml (core,
    every extra) inside pyproject's range. Refresh it with `.ci/lock` after changing a dependency."""
    import re

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock_text = (ROOT / ".ci" / "requirements.lock").read_text()
    pins = {canonicalize_name(n): v for n, v in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", lock_text, re.M)}
    own = canonicalize_name(project["name"])
    assert own not in pins, "the project is installed from the work tree, not from the lock"
    requirements = [Requirement(r) for r in project["dependencies"]]
    requirements += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    problems = []
    for req in requirements:
        name = canonicalize_name(req.name)
        if name == own or (req.marker is not None and not req.marker.evaluate()):
            continue
        if name not in pins:
            problems.append(f"{req} is not in the lock")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{req}: the lock pins {pins[name]}")
    assert not problems, "run .ci/lock and commit .ci/requirements.lock: " + "; ".join(problems)


def test_distribution_name_is_free_of_the_unrelated_sessionkit_and_keeps_the_command(wheel: zipfile.ZipFile) -> None:
    """`sessionkit` on the package index is another project: ours is `sessionkit-redis`, with the
    `sessionkit` import package and console script."""
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    assert "\nName: sessionkit-redis\n" in wheel.read(metadata).decode()
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "sessionkit = sessionkit.cli:main" in wheel.read(entry_points).decode()
