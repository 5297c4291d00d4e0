"""The asyncio fast lane for the two hot commands (``HGETALL``, the write script).

A few connections of the client's own pool, kept checked out (checking one out of a
``redis.asyncio`` pool and back in costs about as much CPU as the round trip). A command takes a
free one, or opens another while the lane holds fewer than half the pool's connections, or else
runs on an ordinary pooled connection. So the pool's size still bounds the connections, every
other command still goes through the client, and ``pool.disconnect()`` (a failover: Sentinel
finds the new master when the connection reconnects) reaches the lane's connections too.

redis-py opens each connection (TLS, AUTH, SELECT, Sentinel's master discovery) and closes it;
in between, where hiredis is installed, the lane writes the packed command to the connection's
stream and parses the reply with a hiredis reader of its own: no per-call timeout tasks and
context managers, no per-read wrappers. One timer per lane bounds every round trip by the
connection's ``socket_timeout``: a round trip still running at its deadline has its stream failed
and its connection closed. A round trip that fails — a timeout, a dropped connection, or a task
cancelled mid-reply — leaves its connection closed, so no half-read reply is ever read by the
next command; the next one reconnects.

The retry policy is the clients': a dropped connection or a timeout disconnects, waits
(``_connect.backoff``) and retries, ``RETRIES`` times; then the error propagates (503).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, InvalidResponse, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sessionkit._connect import RETRIES, backoff

try:
    import hiredis
    from redis._parsers import BaseParser

    _parse_error: Any = BaseParser.parse_error  # redis-py's exception class for each error reply
except ImportError:  # the optional C parser (sessionkit-redis[fast]): redis-py reads the replies
    hiredis = None  # type: ignore[assignment]
    _parse_error = None


class _NoPush:
    """Stands for hiredis's push message type where hiredis has none (< 3.2: RESP2 only)."""


_PUSH: type = getattr(hiredis, "PushNotification", _NoPush)
_c_pack: Any = getattr(hiredis, "pack_command", None)

_RETRYABLE = (RedisConnectionError, RedisTimeoutError)
_CHUNK = 65536
_LANE_SHARE = 2  # the lane keeps at most 1/_LANE_SHARE of the pool's connections
_LANE_CAP = 32


_LENGTHS = [b"$%d\r\n" % n for n in range(256)]  # the bulk-string headers of short arguments


def pack(args: tuple[Any, ...]) -> bytes:
    """A command in RESP (``bytes``, ``str`` as UTF-8, ``int``, ``float``), packed by hiredis's C
    packer where it is installed (exact types only), else here: the bytes redis-py sends, without
    redis-py's per-call work around its packer."""
    if _c_pack is not None:
        try:
            return _c_pack(args)  # type: ignore[no-any-return]
        except TypeError:  # a subclass of str or int, or a type Redis cannot take
            pass
    out = [b"*%d\r\n" % len(args)]
    append = out.append
    for arg in args:
        kind = type(arg)
        if kind is str:
            arg = arg.encode()
        elif kind is int:
            arg = str(arg).encode()
        elif kind is not bytes:
            arg = _encoded(arg)
        n = len(arg)
        append(_LENGTHS[n] if n < 256 else b"$%d\r\n" % n)
        append(arg)
        append(b"\r\n")
    return b"".join(out)


def _encoded(arg: Any) -> bytes:
    """The less common argument types, as redis-py encodes them (``bool`` and ``None`` refused)."""
    if isinstance(arg, bytes):
        return bytes(arg)
    if isinstance(arg, str):
        return str(arg).encode()
    if isinstance(arg, float):
        return repr(arg).encode()
    if isinstance(arg, int) and not isinstance(arg, bool):
        return str(int(arg)).encode()
    raise DataError(f"cannot send {type(arg).__name__} to Redis: {arg!r}")


class _Slot:
    """One connection of the lane, with the stream and reader it is in step with."""

    __slots__ = ("broken", "conn", "deadline", "expired", "loop", "reader", "stream", "writer")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.stream: Any = None  # the StreamReader ``reader`` was started on; None: re-attach
        self.writer: Any = None
        self.reader: Any = None
        self.loop: Any = None
        self.broken = False  # a round trip failed midway: close before reuse
        self.deadline = 0.0  # loop time by which the round trip in progress must end (0: idle)
        self.expired = False

    def expire(self) -> None:
        """The round trip outlived its deadline: fail its read now and close the connection."""
        self.expired = self.broken = True
        stream, writer, self.stream = self.stream, self.writer, None
        with contextlib.suppress(Exception):
            stream.set_exception(RedisTimeoutError("Timeout reading from Redis"))
            writer.transport.abort()


def _lean(conn: Any) -> bool:
    """Whether the lane may read ``conn``'s replies itself: hiredis, asyncio streams, and RESP2,
    or RESP3 where hiredis tells push messages apart (they are skipped, as no command's reply)."""
    protocol = str(getattr(conn, "protocol", 2) or 2)
    return (hiredis is not None and (protocol == "2" or (protocol == "3" and _PUSH is not _NoPush))
            and hasattr(conn, "_reader") and hasattr(conn, "_writer"))


class AsyncLane:
    """The asyncio lane of one ``AsyncRedisStore``. Its connections follow the event loop: used from
    another loop, one reconnects."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        size = int(getattr(pool, "max_connections", 2) or 2)
        self._cap = min(size // _LANE_SHARE, _LANE_CAP)  # 0 for a pool of one: the lane is off
        self._free: list[_Slot] = []
        self._slots: list[_Slot] = []
        self._opening = 0
        self._timeout: float | None = pool.connection_kwargs.get("socket_timeout")
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: Any = None

    @property
    def connections(self) -> int:
        """How many of the pool's connections the lane holds."""
        return len(self._slots)

    async def run(self, packet: bytes) -> Any:
        """Send ``packet`` (a packed command); the reply, retried like the client would."""
        slot = self._free.pop() if self._free else await self._grow()
        if slot is None:
            return await self._pooled(packet)
        attempt = 0
        try:
            while True:
                loop = asyncio.get_running_loop()
                try:
                    if (slot.broken or slot.stream is None or slot.loop is not loop
                            or slot.stream is not slot.conn._reader):
                        await self._attach(slot, loop)
                    if slot.reader is None:  # no hiredis: redis-py's own reply path and timeouts
                        await slot.conn.send_packed_command(packet, check_health=False)
                        reply = await slot.conn.read_response()
                    else:
                        reply = await self._round_trip(slot, loop, packet)
                    if isinstance(reply, Exception):  # an error reply, parsed by ``_parse_error``
                        if isinstance(reply, ReadOnlyError) and _follows_master(slot.conn):
                            # as redis-py's Sentinel connection: the master was demoted, ask again
                            raise RedisConnectionError("The previous master is now a replica")
                        # ResponseError subclasses propagate; BusyLoadingError (-LOADING, a
                        # ConnectionError to redis-py) is retried like a dropped connection
                        raise reply
                    return reply
                except _RETRYABLE:
                    slot.broken = True
                    if attempt == RETRIES:
                        raise
                await asyncio.sleep(backoff(attempt))
                attempt += 1
        finally:
            self._free.append(slot)

    async def _round_trip(self, slot: _Slot, loop: Any, packet: bytes) -> Any:
        reader, stream = slot.reader, slot.stream
        slot.writer.write(packet)  # the reply comes after the whole packet: no drain needed
        if self._timeout:
            slot.deadline = loop.time() + self._timeout
            if self._timer is None or self._timer_loop is not loop:
                self._arm(loop, slot.deadline)
        try:
            while True:
                reply = reader.gets()
                if reply is False:
                    data = await stream.read(_CHUNK)
                    if not data:
                        raise RedisConnectionError("Connection closed by server.")
                    reader.feed(data)
                elif type(reply) is not _PUSH:
                    break
        except RedisTimeoutError:
            raise RedisTimeoutError(f"Timeout after {self._timeout} s waiting for Redis") from None
        except OSError as exc:
            raise RedisConnectionError(f"Error while reading from Redis: {exc}") from exc
        except BaseException:  # cancelled mid-reply, or a reply hiredis cannot parse
            slot.broken = True
            raise
        finally:
            slot.deadline = 0.0
        return reply

    async def _attach(self, slot: _Slot, loop: Any) -> None:
        """(Re)connect the slot's connection if needed and start a reader on its stream."""
        conn = slot.conn
        if slot.broken or (slot.loop is not None and slot.loop is not loop):
            slot.stream = slot.reader = None
            with contextlib.suppress(Exception):  # a closed loop's stream cannot be closed cleanly
                await conn.disconnect(nowait=True)
        slot.broken = slot.expired = False
        slot.loop = loop
        try:
            await conn.connect()
        except BaseException:
            slot.broken = True
            raise
        if _lean(conn):
            slot.stream, slot.writer = conn._reader, conn._writer
            slot.reader = hiredis.Reader(protocolError=InvalidResponse, replyError=_parse_error,
                                         **_encoding(conn))
        else:
            slot.stream, slot.reader = conn._reader, None

    async def _grow(self) -> _Slot | None:
        """A new slot, or ``None`` when the lane holds its share of the pool already."""
        if len(self._slots) + self._opening >= self._cap:
            return None
        self._opening += 1
        try:
            conn = await self.pool.get_connection()
        finally:
            self._opening -= 1
        slot = _Slot(conn)
        self._slots.append(slot)
        return slot

    async def _pooled(self, packet: bytes) -> Any:
        """The round trip on an ordinary pooled connection (redis-py's timeouts), retried."""
        conn = await self.pool.get_connection()
        try:
            attempt = 0
            while True:
                try:
                    await conn.send_packed_command(packet, check_health=False)
                    return await conn.read_response()
                except _RETRYABLE:
                    await conn.disconnect()
                    if attempt == RETRIES:
                        raise
                await asyncio.sleep(backoff(attempt))
                attempt += 1
        finally:
            await self.pool.release(conn)

    # -- the deadline timer ----------------------------------------------------------------------
    def _arm(self, loop: Any, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_loop = loop.call_at(when, self._watch), loop

    def _watch(self) -> None:
        """Fail every round trip past its deadline; wake again at the next deadline, if any."""
        self._timer = None
        loop = self._timer_loop
        now, nearest = loop.time(), 0.0
        for slot in self._slots:
            if slot.deadline and slot.loop is loop:
                if slot.deadline <= now:
                    slot.expire()
                elif not nearest or slot.deadline < nearest:
                    nearest = slot.deadline
        if nearest:
            self._arm(loop, nearest)

    async def aclose(self) -> None:
        """Give the lane's connections back to the pool."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        slots, self._slots, self._free = self._slots, [], []
        for slot in slots:
            if slot.broken:
                with contextlib.suppress(Exception):
                    await slot.conn.disconnect(nowait=True)
            await self.pool.release(slot.conn)


def _follows_master(conn: Any) -> bool:
    """Whether ``conn`` belongs to a Sentinel master pool (it rediscovers the master on connect)."""
    return bool(getattr(getattr(conn, "connection_pool", None), "is_master", False))


def _encoding(conn: Any) -> dict[str, str]:
    encoder = getattr(conn, "encoder", None)
    if encoder is None or not encoder.decode_responses:
        return {}
    return {"encoding": encoder.encoding, "errors": encoder.encoding_errors}
