"""App replicas and an nginx load balancer as child processes on loopback ports.

Used by ``sessionkit demo``, the end-to-end tests and the peer benchmark. Every process runs in
its own process group (a gunicorn master and its workers die together, like a pod) and is
stopped by PID; nginx runs in the foreground from a config generated in a temp directory, with
its pid file, logs and temp paths in that directory, so it needs no root and leaves nothing behind.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from sessionkit.demo._children import end, scaled, signal_group, spawn
from sessionkit.demo._servers import free_port

INSTALL_HINTS = {
    "nginx": "`apt-get install nginx` (Debian/Ubuntu) or `brew install nginx`",
    "gunicorn": "`pip install gunicorn` (part of sessionkit-redis[demo])",
    "uvicorn": "`pip install uvicorn` (part of sessionkit-redis[demo])",
    "wrk": "`apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`",
}


class MissingBinary(RuntimeError):
    """A program the harness needs is not installed; the message says how to install it."""


def find_binary(name: str) -> str:
    """The program next to the running interpreter (its virtualenv) or on the PATH, else raise."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name) or (shutil.which(name, path="/usr/sbin:/sbin") if name == "nginx" else None)
    if found is None:
        hint = INSTALL_HINTS.get(name, f"install {name}")
        raise MissingBinary(f"{name} is not installed (not beside {sys.executable} nor on the PATH): {hint}")
    return found


def wait_http(port: int, path: str = "/health", timeout: float = 120.0,
              proc: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> None:
    """Wait until ``GET path`` on the port answers 200 (raise with the log's tail otherwise).

    ``timeout`` is scaled by ``$SESSIONKIT_TIMEOUT_SCALE``; the wait ends as soon as the answer comes."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process on port {port} exited with {proc.returncode}\n{tail(log)}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered GET {path} with 200 on port {port} within {timeout}s\n{tail(log)}")


def tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


class Process:
    """A child process in its own process group, with its output in a log file.

    Started with ``sessionkit.demo._children.spawn``: it dies with this process, whatever ends it."""

    def __init__(self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                 cwd: str | Path | None = None, log_dir: Path) -> None:
        self.name, self.argv, self.cwd = name, list(argv), cwd
        self.env = dict(os.environ if env is None else env)
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = spawn(self.argv, env=self.env, cwd=self.cwd, stdout=out,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.starts += 1

    def signal_group(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            signal_group(self.proc, sig)

    def kill(self) -> None:
        """SIGKILL the whole process group at once: the way a node or a spot pod dies."""
        if self.proc is not None:
            end(self.proc)
            self.proc = None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (graceful: in-flight requests finish), SIGKILL after ``timeout``."""
        if self.proc is not None:
            end(self.proc, grace=scaled(timeout))
            self.proc = None


class Replica(Process):
    """One app server (gunicorn or uvicorn) on a fixed loopback port, ready when ``/health`` is 200."""

    def __init__(self, name: str, argv: Sequence[str], port: int, **kwargs: object) -> None:
        super().__init__(name, argv, **kwargs)  # type: ignore[arg-type]
        self.port = port

    def start(self, timeout: float = 120.0) -> None:
        self.spawn()
        try:
            wait_http(self.port, "/health", timeout, self.proc, self.log)
        except BaseException:
            self.kill()
            raise


def gunicorn_argv(app: str, port: int, workers: int = 1) -> list[str]:
    return [find_binary("gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", "sync", "--graceful-timeout", "10", "--log-level", "warning", app]


def uvicorn_argv(app: str, port: int, workers: int = 1) -> list[str]:
    argv = [find_binary("uvicorn"), app, "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "10"]
    return argv + (["--workers", str(workers)] if workers > 1 else [])


NGINX_CONF = """\
{user}worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # Cookie affinity as ingress-nginx does it: a "route" cookie chosen by the balancer on first
    # contact; the upstream is picked by a consistent hash of it.
    map $cookie_route $route_key {{ "" $request_id; default $cookie_route; }}
    map $cookie_route $route_cookie {{ "" "route=$request_id; Path=/; HttpOnly"; default ""; }}
    upstream round_robin {{
{rr_servers}
    }}
    upstream affinity {{
        hash $route_key consistent;
{hash_servers}
    }}
    server {{
        listen 127.0.0.1:{rr_port};
        location / {{
            proxy_pass http://round_robin;
            proxy_set_header Host $host;
            proxy_connect_timeout 2s;
            proxy_next_upstream {next_upstream};
            add_header X-Upstream $upstream_addr always;
        }}
    }}
    server {{
        listen 127.0.0.1:{affinity_port};
        location / {{
            proxy_pass http://affinity;
            proxy_set_header Host $host;
            proxy_connect_timeout 2s;
            proxy_next_upstream {next_upstream};
            add_header X-Upstream $upstream_addr always;
            add_header Set-Cookie $route_cookie always;
        }}
    }}
}}
"""


class Nginx(Process):
    """nginx in the foreground in front of ``ports``: round-robin on ``rr_port``, cookie
    affinity on ``affinity_port``. ``max_fails=0``: a restarted replica gets traffic at once.

    A failed request goes to the next replica as nginx does by default (``proxy_next_upstream
    error timeout``): always when the connection failed, and once the request was sent only for
    idempotent methods; :meth:`retry_non_idempotent` retries POSTs too."""

    def __init__(self, ports: Sequence[int], log_dir: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sessionkit-nginx-", dir=log_dir))
        self.ports = list(ports)
        self.rr_port = free_port()
        # Two picks can return the same port; nginx then serves both servers on one socket (the
        # first, round-robin, answers everything), so the affinity port must differ.
        self.affinity_port = free_port()
        while self.affinity_port == self.rr_port or self.affinity_port in self.ports:
            self.affinity_port = free_port()
        self.conf = self.dir / "nginx.conf"
        self.down: set[int] = set()
        self.next_upstream = "error timeout"
        self._write_conf(set())
        argv = [find_binary("nginx"), "-p", str(self.dir), "-c", str(self.conf), "-e",
                str(self.dir / "error.log"), "-g", "daemon off;"]
        super().__init__("nginx", argv, log_dir=self.dir)

    def _write_conf(self, down: set[int]) -> None:
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0{' down' if p in down else ''};"
                            for p in self.ports)
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers need the temp dir (0700)
        self.conf.write_text(NGINX_CONF.format(user=user, dir=self.dir, rr_servers=servers,
                                               hash_servers=servers, rr_port=self.rr_port,
                                               affinity_port=self.affinity_port,
                                               next_upstream=self.next_upstream))

    def _workers(self) -> set[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(p) for p in children.read_text().split()} if children.exists() else set()

    def set_down(self, down: set[int], timeout: float = 60.0) -> None:
        """Take ``down`` ports out of both upstreams (``server ... down``) and reload; returns when
        the old workers have finished their in-flight requests, i.e. nothing is sent there any more.

        This is the drain a Kubernetes rolling update does (endpoint removed, then SIGTERM)."""
        self.down = set(down)
        self._reload(timeout)

    def retry_non_idempotent(self, on: bool, timeout: float = 60.0) -> None:
        """Also pass POSTs whose connection failed after sending to the next replica (``on``), or
        not (nginx's default); reloads like :meth:`set_down`. A POST that a replica had already
        processed before the connection broke (a crash mid-request) is then run twice."""
        self.next_upstream = "error timeout non_idempotent" if on else "error timeout"
        self._reload(timeout)

    def _reload(self, timeout: float) -> None:
        assert self.proc is not None
        self._write_conf(self.down)
        old = self._workers()
        os.kill(self.proc.pid, signal.SIGHUP)  # the master re-reads; old workers drain and exit
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if old and not (old & self._workers()):
                return
            time.sleep(0.02)
        raise RuntimeError(f"nginx did not reload within {timeout}s\n{tail(self.dir / 'error.log')}")

    def start(self, timeout: float = 60.0) -> None:
        self.spawn()
        try:
            wait_http(self.rr_port, "/health", timeout, self.proc, self.dir / "error.log")
        except BaseException:
            self.kill()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is not None:  # SIGQUIT: graceful shutdown, the master stops its workers
            end(self.proc, grace=scaled(timeout), sig=signal.SIGQUIT)
            self.proc = None
