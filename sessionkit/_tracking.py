"""The tracking connection that keeps ``LocalCache`` exact (Redis server-assisted client-side caching).

One dedicated connection per store: ``CLIENT TRACKING on REDIRECT <itself> BCAST PREFIX <session
keys>`` then ``SUBSCRIBE __redis__:invalidate`` (RESP2, so it works on every server since Redis 6 and
on Valkey). In BCAST mode Redis reports every write, expiry or eviction of *any* session key, by any
client, so no per-key registration is needed and the connections that read and write stay ordinary.

``usable()`` is the gate in front of the cache: it reads what Redis has pushed so far without
blocking (read-your-writes across replicas), and answers False while tracking is not established.
Redis writes a write's invalidation before the write's reply, so what it sent has arrived by the
time another replica serves the next request: unless the stream is behind. Two signs say it may
be, and then the gate first waits for a *barrier*, a ``PING`` whose ``PONG`` Redis queues behind
every invalidation it queued before:

- a backlog: one drain applied ``BACKLOG_KEYS`` invalidations or more, or stopped inside a message
  (an idle process's socket buffer fills, the server holds the rest back, and the invalidation of a
  write acknowledged just now may still be queued on the server);
- silence: no ``PONG`` for ``ping_interval`` seconds (an idle process, or a connection that died
  without closing). A ``PING`` goes out after half the interval, so a busy process never waits.

Anything unexpected — a dropped or reconnected connection, a failover, an unanswered ``PING``, a
message it cannot read — flushes the whole cache before the connection is rebuilt. Where the server
refuses ``CLIENT TRACKING`` (old servers, ACL users without it, proxies) the cache turns itself off
with one log line.

The drain is plain non-blocking socket work, so the sync and the asyncio store share this class;
the asyncio store runs the (blocking, short-timeout) handshake and barriers in a worker thread via
``ausable``. While one of those holds the connection, other readers get False (they read Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import socket
import ssl
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

import redis
import redis.asyncio

try:
    import hiredis
except ImportError:  # the optional C parser (sessionkit-redis[fast]): redis-py reads the messages
    hiredis = None  # type: ignore[assignment]
from redis.exceptions import ResponseError

from sessionkit._cache import LocalCache

log = logging.getLogger("sessionkit")

CHANNEL = "__redis__:invalidate"
CLIENT_NAME = "sessionkit-tracking"  # how the tracking connection shows in CLIENT LIST
RETRY_AFTER = 1.0  # seconds between attempts to rebuild a lost tracking connection
BACKLOG_KEYS = 64  # invalidations applied by one drain from which more may be held on the server
_CHUNK = 65536
_PING = b"*1\r\n$4\r\nPING\r\n"
State = Literal["down", "connecting", "up", "refused"]
_Verdict = Literal["serve", "refuse", "barrier"]
ConnectionFactory = Callable[[], Any]

# Connection settings that carry over from an asyncio client to the tracking connection.
_PORTABLE = ("host", "port", "path", "db", "username", "password", "socket_timeout",
             "socket_connect_timeout", "client_name", "ssl_keyfile", "ssl_certfile", "ssl_cert_reqs",
             "ssl_ca_certs", "ssl_ca_data", "ssl_check_hostname", "ssl_min_version", "ssl_ciphers")
_SYNC_CLASSES = {
    redis.asyncio.connection.Connection: redis.connection.Connection,
    redis.asyncio.connection.SSLConnection: redis.connection.SSLConnection,
    redis.asyncio.connection.UnixDomainSocketConnection: redis.connection.UnixDomainSocketConnection,
}


def connection_factory(client: Any) -> ConnectionFactory | None:
    """How to open tracking connections to wherever ``client`` sends its commands; ``None`` where
    that is not supported (Redis Cluster, custom connection classes)."""
    pool = getattr(client, "connection_pool", None)
    if pool is None:  # RedisCluster: one tracking connection per master is not built yet
        return None
    cls, kwargs = pool.connection_class, dict(pool.connection_kwargs)
    if isinstance(client, redis.asyncio.Redis):
        sync_cls = _SYNC_CLASSES.get(cls)
        if sync_cls is None:  # e.g. asyncio Sentinel: the store builds a sync twin from its URL
            return None
        cls, kwargs = sync_cls, {k: v for k, v in kwargs.items() if k in _PORTABLE}
    # health_check_interval: redis-py's own PING would read the tracker's PONGs (and fail on them).
    kwargs.update(protocol=2, decode_responses=False, client_name=CLIENT_NAME, health_check_interval=0)

    def make() -> Any:
        return cls(**kwargs)

    return make


def _poller(conn: Any) -> Any:
    """A poll object on the connection's socket, or ``None`` (then every drain asks redis-py).

    redis-py keeps the socket in ``_sock``; after a drain its reply parser holds no complete
    message, so an idle socket means nothing new has arrived.
    """
    sock = _plain_socket(conn)
    if sock is None or not hasattr(select, "poll"):
        return None
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLPRI)
    return poller


def _plain_socket(conn: Any) -> socket.socket | None:
    sock = getattr(conn, "_sock", None)
    # TLS may hold decrypted bytes the socket no longer shows: ask redis-py every time there.
    return sock if isinstance(sock, socket.socket) and not isinstance(sock, ssl.SSLSocket) else None


class _RawReader:
    """Reads the tracking connection's messages off its socket with a hiredis reader of its own:
    one ``recv`` and a C parse per drain, where redis-py's reply path costs several times that.

    Taken over once the handshake is done and redis-py's parser holds nothing; the socket is then
    non-blocking (nothing else reads it, and a ``PING`` is a few bytes).
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = hiredis.Reader()
        sock.setblocking(False)

    @property
    def partial(self) -> bool:
        """Whether part of a message has arrived and the rest has not."""
        return bool(self.reader.has_data())

    def messages(self) -> list[Any]:
        """Every complete message received so far (none pending: ``[]``).

        Reads until the socket would block: a short read does not mean nothing follows, since
        the server may have closed the connection right behind its last message (a PONG, say),
        and that close must be seen before anything cached is served.
        """
        while True:
            try:
                data = self.sock.recv(_CHUNK)
            except BlockingIOError:
                break
            if not data:
                raise ConnectionError("the server closed the tracking connection")
            self.reader.feed(data)
        out = []
        while (message := self.reader.gets()) is not False:
            out.append(message)
        return out

    def ping(self) -> None:
        if self.sock.send(_PING) != len(_PING):
            raise ConnectionError("PING not sent whole on the tracking connection")


class Tracker:
    """Owns the tracking connection of one store and feeds its invalidations to ``cache``."""

    def __init__(
        self,
        factory: ConnectionFactory,
        prefix: str,
        cache: LocalCache,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prefix = prefix
        self.cache = cache
        self.state: State = "down"
        self._factory = factory
        self._clock = clock
        self._conn: Any = None
        self._poll: Any = None  # a poll object on the connection's socket: the 1 µs "anything new?"
        self._raw: _RawReader | None = None  # reads the socket itself once the handshake is done
        self._retry_at = 0.0
        self._last_pong = 0.0
        self._pings: deque[float] = deque()  # when each unanswered PING was sent, oldest first
        self._backlog = False  # a drain saw that Redis may hold more: wait for a barrier first
        self._closed = False
        self.pongs = 0  # liveness answers received (for tests and debugging)
        self.barriers = 0  # reads that waited for a barrier's PONG first
        self._lock = threading.Lock()
        if hasattr(os, "register_at_fork"):  # a forked worker must not read its parent's socket
            ref = weakref.ref(self)

            def forked() -> None:
                tracker = ref()
                if tracker is not None:
                    tracker._forked()

            os.register_at_fork(after_in_child=forked)

    # -- the gate in front of the cache ------------------------------------------------------
    def usable(self) -> bool:
        """Apply every invalidation Redis has sent so far; True if the cache may be used now.

        Blocks only for the sync store's reconnect attempt and for a barrier (short timeouts,
        ``ping_timeout`` at most).
        """
        if self.state != "up":
            if self.state == "down" and self._clock() >= self._retry_at:
                self.connect()
            return self.up
        verdict = self._drain()
        if verdict == "barrier":
            return self.barrier()
        return verdict == "serve"

    async def ausable(self) -> bool:
        """``usable`` for asyncio: the reconnect handshake and a barrier run in a worker thread."""
        ok = self.usable_now()
        return ok if ok is not None else await self.settle()

    def usable_now(self) -> bool | None:
        """``usable`` where it need not wait; ``None`` when a reconnect or a barrier is due first
        (then ``await settle()``). The asyncio store's hot path: no coroutine unless one is due."""
        if self.state != "up":
            return None if self.state == "down" and self._clock() >= self._retry_at else False
        verdict = self._drain()
        return None if verdict == "barrier" else verdict == "serve"

    async def settle(self) -> bool:
        """The reconnect or the barrier ``usable_now`` left pending, in a worker thread."""
        if self.state == "up":
            return await asyncio.to_thread(self.barrier)
        await asyncio.to_thread(self.connect)
        return self.up

    def apply_pending(self) -> None:
        """Apply what Redis has sent so far, never waiting (after this process's own write)."""
        if self.state == "up":
            self._drain()

    def barrier(self) -> bool:
        """Send a ``PING`` and apply everything Redis sends before its ``PONG`` (blocking, at most
        ``ping_timeout`` seconds; no answer means doubt). True if the cache may be used now."""
        with self._lock:
            conn = self._conn
            if conn is None or self.state != "up":
                return False
            try:
                self._send_ping(conn)
                deadline = time.monotonic() + self.cache.config.ping_timeout
                while self._pings:
                    self._wait_readable(conn, deadline)
                    self._read_available(conn)
                self._backlog = False
                self.barriers += 1
            except Exception as exc:  # any doubt at all: nothing cached may be served
                self._lose(f"tracking connection lost ({type(exc).__name__}: {exc})")
                return False
        return self.state == "up"

    def _drain(self) -> _Verdict:
        if not self._lock.acquire(blocking=False):
            return "refuse"  # a handshake or a barrier holds the connection: read Redis meanwhile
        try:
            conn = self._conn
            if conn is None or self.state != "up":
                return "refuse"
            try:
                if self._poll is None or self._poll.poll(0):
                    self._read_available(conn)
                return self._verdict(conn)
            except Exception as exc:  # any doubt at all: nothing cached may be served
                self._lose(f"tracking connection lost ({type(exc).__name__}: {exc})")
                return "refuse"
        finally:
            self._lock.release()

    def _read_available(self, conn: Any) -> None:
        keys = 0
        if self._raw is not None:
            for message in self._raw.messages():
                keys += self._handle(message)
        else:
            while conn.can_read(timeout=0):
                keys += self._handle(conn.read_response(disconnect_on_error=False))
        if keys >= BACKLOG_KEYS:
            self._backlog = True

    def _verdict(self, conn: Any) -> _Verdict:
        config, now = self.cache.config, self._clock()
        if self._pings and now - self._pings[0] > config.ping_timeout:
            raise TimeoutError(f"no answer to PING within {config.ping_timeout} s")
        if self._backlog or (self._raw is not None and self._raw.partial):
            return "barrier"
        silent = now - self._last_pong
        if silent >= config.ping_interval:
            return "barrier"
        if silent >= config.ping_interval / 2 and not self._pings:
            self._send_ping(conn)
        return "serve"

    def _send_ping(self, conn: Any) -> None:
        if self._raw is not None:
            self._raw.ping()
        else:
            conn.send_command("PING")
        self._pings.append(self._clock())

    def _wait_readable(self, conn: Any, deadline: float) -> None:
        left = deadline - time.monotonic()
        if self._poll is not None:
            ready = left > 0 and bool(self._poll.poll(left * 1000))
        else:
            ready = left > 0 and bool(conn.can_read(timeout=left))
        if not ready:
            raise TimeoutError(f"no answer to PING within {self.cache.config.ping_timeout} s")

    @property
    def up(self) -> bool:
        """Whether tracking is established right now."""
        return self.state == "up"

    @property
    def reads_socket(self) -> bool:
        """Whether the tracker reads its socket itself (hiredis) rather than through redis-py."""
        return self._raw is not None

    # -- connection lifecycle --------------------------------------------------------------
    def connect(self) -> None:
        """Open the tracking connection (blocking). The cache is flushed once tracking is on:
        nothing read before it was established may be served."""
        with self._lock:
            if self._closed or self.state in ("up", "refused", "connecting"):
                return
            self.state = "connecting"
            conn = self._factory()
            try:
                conn.connect()
                conn.send_command("CLIENT", "ID")
                client_id = conn.read_response()
                conn.send_command("CLIENT", "TRACKING", "on", "REDIRECT", client_id, "BCAST",
                                  "PREFIX", self.prefix)
                conn.read_response()
                conn.send_command("SUBSCRIBE", CHANNEL)
                reply = conn.read_response()
                if not (isinstance(reply, list) and reply and reply[0] in (b"subscribe", "subscribe")):
                    raise ResponseError(f"unexpected reply to SUBSCRIBE {CHANNEL}: {reply!r}")
                poll = _poller(conn)
                raw = self._take_over(conn, poll)
            except ResponseError as exc:
                conn.disconnect()
                self.state = "refused"
                log.warning("local session cache off: the server refused CLIENT TRACKING (%s)", exc)
                return
            except Exception as exc:  # unreachable, timed out, or anything unexpected: retry later
                conn.disconnect()
                self.state = "down"
                self._retry_at = self._clock() + RETRY_AFTER
                log.debug("tracking connection not established: %s", exc)
                return
            self._conn, self._poll, self._raw = conn, poll, raw
            self._last_pong = self._clock()
            self._pings.clear()
            self._backlog = False
            self.cache.flush()
            self.state = "up"

    def close(self) -> None:
        with self._lock:
            self._closed = True  # a handshake still running in a worker thread will not reopen it
            if self._conn is not None:
                self._conn.disconnect()
                self._conn = None
                self._poll = self._raw = None
            if self.state != "refused":
                self.state = "down"
                self._retry_at = float("inf")
            self.cache.flush()

    def reset(self, why: str) -> None:
        """Distrust the connection: flush everything and reconnect on the next read."""
        with self._lock:
            if self.state == "up":
                self._lose(why)

    def _forked(self) -> None:
        """In a child process: the connection (and what was cached through it) is the parent's."""
        self._lock = threading.Lock()
        self._conn = self._poll = self._raw = None  # not disconnect(): it would shut the parent's socket
        self._pings.clear()
        self._backlog = False
        self.cache.flush()
        if self.state != "refused":
            self.state, self._retry_at = "down", 0.0

    def _lose(self, why: str) -> None:
        """Called with the lock held: forget the connection and everything cached."""
        self.cache.flush()
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already broken; nothing else to release
                self._conn.disconnect()
            self._conn = None
        self._poll = self._raw = None
        self.state = "down"
        self._retry_at = self._clock()  # retry on the next read (then back off on failure)
        log.warning("local session cache flushed: %s", why)

    def _take_over(self, conn: Any, poll: Any) -> _RawReader | None:
        """Read the socket directly from now on (hiredis, plain socket), once redis-py has handed
        over every message it may already hold (nothing is cached yet: they change nothing)."""
        sock = _plain_socket(conn)
        if hiredis is None or sock is None or poll is None:
            return None
        while conn.can_read(timeout=0):
            self._handle(conn.read_response(disconnect_on_error=False))
        return _RawReader(sock)

    # -- messages --------------------------------------------------------------------------
    def _handle(self, message: Any) -> int:
        """Apply one message; how many keys it invalidated."""
        if not isinstance(message, list) or not message:
            raise ValueError(f"unexpected message on the tracking connection: {message!r}")
        kind = message[0]
        if kind == b"message" and len(message) == 3:
            keys = message[2]
            if keys is None:  # FLUSHDB / FLUSHALL, or the server lost track: drop everything
                self.cache.flush()
                return 0
            for key in keys:
                self.cache.invalidate(key.decode())
            return len(keys)
        if kind == b"pong":
            if self._pings:
                self._pings.popleft()
            self._last_pong = self._clock()
            self.pongs += 1
        elif kind != b"subscribe":
            raise ValueError(f"unexpected message on the tracking connection: {message!r}")
        return 0
