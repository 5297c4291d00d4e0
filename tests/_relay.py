"""A TCP relay in front of a real server whose server-to-client direction can be slowed or frozen.

It stands in for a network link that is behind (a backlog the server cannot send yet) or silent
(a connection that died without closing), which loopback never is. Everything it starts ends in
``close()``; use it as a context manager.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType


class Relay:
    """Listens on ``port`` and relays each connection to ``target_port`` on loopback.

    ``pace(chunk, delay)`` sends at most ``chunk`` bytes to the client every ``delay`` seconds;
    ``freeze()`` holds everything the server sends until ``thaw()``. ``to_client`` counts the
    bytes passed on so far.
    """

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pace: tuple[int, float] | None = None
        self._moving = threading.Event()
        self._moving.set()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = [self._listener]
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.to_client = 0
        self._start(self._accept)

    def pace(self, chunk: int, delay: float) -> None:
        self._pace = (chunk, delay)

    def freeze(self) -> None:
        self._moving.clear()

    def thaw(self) -> None:
        self._pace = None
        self._moving.set()

    def close(self) -> None:
        self._closed.set()
        self._moving.set()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._target))
            with self._lock:
                self._sockets += [client, server]
            self._start(self._pump, client, server, False)
            self._start(self._pump, server, client, True)

    def _pump(self, source: socket.socket, sink: socket.socket, to_client: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while to_client and data:
                    self._moving.wait()
                    if self._closed.is_set():
                        return
                    pace = self._pace
                    part = data if pace is None else data[:pace[0]]
                    sink.sendall(part)
                    self.to_client += len(part)
                    data = data[len(part):]
                    if pace is not None:
                        time.sleep(pace[1])
                if not to_client:
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
