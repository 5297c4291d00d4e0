"""End-to-end fixtures: a Redis that survives a kill, and per-framework deployments behind nginx.

Missing programs (nginx, gunicorn, uvicorn) fail the tests loudly with the install hint; nothing
is skipped. Deployments are module-scoped: each test module starts every framework's three
replicas and nginx once, and stops them by PID at the end, whatever happened.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e._deploy import Deployment, Variant

from sessionkit.demo._procs import MissingBinary, find_binary
from sessionkit.demo._servers import ServerProcess

FRAMEWORKS = ["flask", "django", "fastapi"]


@pytest.fixture(scope="session")
def e2e_redis() -> Iterator[ServerProcess]:
    """A server of its own (scenario 4 kills it): every write is fsynced to the AOF before the
    reply, so a killed and restarted server has every acknowledged session."""
    server = ServerProcess(extra_config=["appendonly yes", "appendfsync always"])
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def e2e_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


def _require_programs(framework: str) -> None:
    names = ["nginx", "gunicorn" if framework != "fastapi" else "uvicorn"]
    for name in names:
        try:
            find_binary(name)
        except MissingBinary as exc:
            pytest.fail(f"end-to-end tests need {name}: {exc}", pytrace=False)


def deployment(framework: str, variant: Variant, redis: ServerProcess, workdir: Path) -> Iterator[Deployment]:
    _require_programs(framework)
    if importlib.util.find_spec(f"sessionkit.adapters.{'starlette' if framework == 'fastapi' else framework}") is None:
        pytest.fail(f"sessionkit's {framework} adapter is not importable", pytrace=False)
    deploy = Deployment(framework, variant, redis.url, workdir)
    try:
        deploy.start()
        yield deploy
    finally:
        deploy.close()


@pytest.fixture(scope="module", params=FRAMEWORKS)
def before(request: pytest.FixtureRequest, e2e_redis: ServerProcess, e2e_workdir: Path) -> Iterator[Deployment]:
    """Three replicas of the in-process example (``examples/<framework>/before``) behind nginx."""
    yield from deployment(request.param, "before", e2e_redis, e2e_workdir)


@pytest.fixture(scope="module", params=FRAMEWORKS)
def after(request: pytest.FixtureRequest, e2e_redis: ServerProcess, e2e_workdir: Path) -> Iterator[Deployment]:
    """Three replicas of the sessionkit example (``examples/<framework>/after``) behind nginx."""
    yield from deployment(request.param, "after", e2e_redis, e2e_workdir)


@pytest.fixture
def healed_after(after: Deployment, e2e_redis: ServerProcess) -> Iterator[Deployment]:
    """``after`` with every replica and Redis running again when the test ends."""
    try:
        yield after
    finally:
        if not e2e_redis.running:
            e2e_redis.start()
        after.heal()


@pytest.fixture
def healed_before(before: Deployment) -> Iterator[Deployment]:
    try:
        yield before
    finally:
        before.heal()
