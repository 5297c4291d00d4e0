"""The sync fast lane for the two hot commands (``HGETALL``, the write script): one pooled connection
kept checked out, used directly through redis-py's connection-level API (the asyncio twin is
``_async_lane``).

Checking a connection out of a redis-py pool and back in costs about as much CPU as the round trip
itself (locks, a liveness probe, metrics). A lane takes one connection from the client's own pool
once and keeps it: a command runs on it when it is free, and on an ordinary pooled connection when
another thread or task holds it. So the pool's size still bounds the connections, every other
command still goes through the client, and ``pool.disconnect()`` (a failover: Sentinel finds the
new master when the connection reconnects) reaches the lane's connection too.

It keeps the clients' retry policy: a dropped connection or a timeout disconnects, waits
(``_connect.backoff``) and retries, ``RETRIES`` times; then the error propagates (503).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sessionkit._connect import RETRIES, backoff

try:
    from hiredis import pack_command as _pack_command
except ImportError:  # the optional C parser (sessionkit-redis[fast]): redis-py packs instead
    _pack_command = None  # type: ignore[assignment]

_RETRYABLE = (RedisConnectionError, RedisTimeoutError)


def hgetall_packet(key: str) -> bytes:
    """``HGETALL key`` in RESP, packed without redis-py's general packer."""
    kb = key.encode()
    return b"*2\r\n$7\r\nHGETALL\r\n$%d\r\n%s\r\n" % (len(kb), kb)


def packet(args: tuple[Any, ...]) -> bytes | None:
    """``args`` (str, bytes, int) packed in RESP by hiredis in one C call; ``None`` without hiredis
    or for any other argument type (``Lane.run`` then has redis-py pack ``args``)."""
    if _pack_command is None:
        return None
    try:
        return bytes(_pack_command(args))
    except TypeError:  # redis-py turns it into its DataError
        return None


def as_dict(reply: Any) -> dict[bytes, bytes]:
    """An ``HGETALL`` reply as a dict (RESP2 gives a flat list, RESP3 a map)."""
    if isinstance(reply, dict):
        return reply
    it = iter(reply)
    return dict(zip(it, it))


def _reserve(pool: Any) -> bool:
    """Whether a lane may keep one of the pool's connections (it must leave others some)."""
    return int(getattr(pool, "max_connections", 2)) >= 2


class Lane:
    """The sync lane of one ``RedisStore`` (thread-safe; forked children start without one)."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._conn: Any = None
        self._lock = threading.Lock()
        self._enabled = _reserve(pool)
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)

            def forked() -> None:
                lane = ref()
                if lane is not None:  # the parent's socket is not ours: never touch it
                    lane._conn, lane._lock = None, threading.Lock()

            os.register_at_fork(after_in_child=forked)

    def run(self, packet: bytes | None, *args: Any) -> Any:
        """Send ``packet`` (already packed; then ``args`` are ignored) or else ``args``; the reply,
        retried like the client would."""
        if self._enabled and self._lock.acquire(blocking=False):
            try:
                if self._conn is None:
                    self._conn = self.pool.get_connection()
                return _round_trip(self._conn, packet, args)
            finally:
                self._lock.release()
        conn = self.pool.get_connection()
        try:
            return _round_trip(conn, packet, args)
        finally:
            self.pool.release(conn)

    def close(self) -> None:
        """Give the lane's connection back to the pool."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            self.pool.release(conn)


def _round_trip(conn: Any, packet: bytes | None, args: tuple[Any, ...]) -> Any:
    attempt = 0
    while True:
        try:
            if packet is not None:
                conn.send_packed_command([packet], check_health=False)
            else:
                conn.send_command(*args, check_health=False)
            return conn.read_response()
        except _RETRYABLE:
            conn.disconnect()
            if attempt == RETRIES:
                raise
            time.sleep(backoff(attempt))
            attempt += 1
