"""A deployment of one example app: three replicas behind one nginx (round-robin and cookie affinity).

The example apps are imported as ``examples.<framework>.<variant>.app`` from a temp directory that
holds only an ``examples`` symlink: putting the repository root itself on ``sys.path`` would shadow
the installed ``sessionkit`` with the repository's folder.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path
from typing import Literal

from sessionkit.demo._journey import User
from sessionkit.demo._procs import Nginx, Replica, gunicorn_argv, uvicorn_argv
from sessionkit.demo._servers import free_port

REPO = Path(__file__).resolve().parents[2]
Variant = Literal["before", "after"]

# framework -> server that runs it (gunicorn sync workers for WSGI, uvicorn for ASGI)
SERVERS = {"flask": "gunicorn", "django": "gunicorn", "fastapi": "uvicorn", "starlette": "uvicorn"}


def import_root(workdir: Path) -> Path:
    root = workdir / "importroot"
    if not root.exists():
        root.mkdir(parents=True)
        (root / "examples").symlink_to(REPO / "examples", target_is_directory=True)
        (root / "e2e").symlink_to(REPO / "tests" / "e2e", target_is_directory=True)  # the test apps
    return root


class Deployment:
    """Three replicas of ``examples/<framework>/<variant>`` and nginx in front of them.

    ``app`` (``"e2e.<module>:<name>"``) runs one of the apps next to the tests instead, with
    ``env`` added to the replicas' environment."""

    def __init__(self, framework: str, variant: Variant, redis_url: str, workdir: Path,
                 replicas: int = 3, *, app: str | None = None, env: dict[str, str] | None = None) -> None:
        self.framework, self.variant = framework, variant
        self.dir = workdir / (f"{framework}-{variant}" if app is None else app.replace(":", "-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        root = import_root(workdir)
        app = app or f"examples.{framework}.{variant}.app:app"
        make_argv = gunicorn_argv if SERVERS[framework] == "gunicorn" else uvicorn_argv
        env = {
            **_base_env(),
            "PYTHONPATH": str(root),
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(50),  # the same on every replica
            **(env or {}),
        }
        self.replicas: list[Replica] = []
        for n in range(replicas):
            port = free_port()
            self.replicas.append(Replica(f"replica{n}", make_argv(app, port), port, env=env, cwd=root,
                                         log_dir=self.dir))
        self.nginx: Nginx | None = None

    def start(self) -> None:
        for replica in self.replicas:
            replica.start()
        self.nginx = Nginx([r.port for r in self.replicas], self.dir)
        self.nginx.start()

    def close(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for replica in self.replicas:
            replica.kill()

    def heal(self) -> None:
        """Restart replicas a test killed, so the next test starts from three healthy ones."""
        for replica in self.replicas:
            if not replica.running:
                replica.start()
        if self.nginx is not None and self.nginx.down:
            self.nginx.set_down(set())

    def replica_at(self, upstream: str) -> Replica:
        port = int(upstream.rsplit(":", 1)[-1])
        return next(r for r in self.replicas if r.port == port)

    def users(self, count: int, *, affinity: bool) -> list[User]:
        assert self.nginx is not None
        port = self.nginx.affinity_port if affinity else self.nginx.rr_port
        tag = uuid.uuid4().hex[:6]
        return [User(f"u{n}-{tag}", [port]) for n in range(count)]

    def logs(self) -> str:
        return "\n".join(f"--- {r.name} ---\n{r.log.read_text(errors='replace')[-3000:]}"
                         for r in self.replicas if r.log.exists())


def _base_env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("SESSIONKIT_DEMO", "PYTHONPATH")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
