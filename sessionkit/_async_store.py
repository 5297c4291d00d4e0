"""``AsyncRedisStore``: executes the sans-IO operations of ``_ops`` with ``redis.asyncio``."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any

import redis.asyncio
from redis.exceptions import NoScriptError, ReadOnlyError, RedisClusterException, RedisError

from sessionkit import _ops
from sessionkit._async_lane import AsyncLane, pack
from sessionkit._cache import Ticket
from sessionkit._commands import (
    Command,
    Delete,
    Exists,
    IndexAdd,
    IndexRemove,
    Members,
    ReadHash,
    Write,
)
from sessionkit._connect import adrop_connections, async_client, translated
from sessionkit._core import SaveResult, StoreCore
from sessionkit._errors import SessionBackendUnavailable, SessionNotReplicated
from sessionkit._lane import as_dict, hgetall_packet
from sessionkit._observe import Operation, emit
from sessionkit._plan import plan_save
from sessionkit._scripts import WRITE
from sessionkit._session import Record, Session

_REDIS_ERRORS = (RedisError, RedisClusterException)


class _Shared:
    """A cache miss's ``HGETALL`` shared by concurrent misses of the key: the reply (``None`` if it
    failed) and, once its reader decoded it, the record to serve the others (``None``: not live).
    Each waiter waits on ``done`` (one future of its own: cancelling one waiter cancels no other)."""

    __slots__ = ("done", "loop", "raw", "record", "ticket")

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket
        self.loop = asyncio.get_running_loop()
        self.done = asyncio.Event()
        self.raw: dict[bytes, bytes] | None = None
        self.record: Record | None = None


class _Writes:
    """This replica's writes in flight, by Redis key, for reads of the key to wait for.

    A read that began while a write of its key was in flight may have been answered before the
    write, so the write's invalidation refuses to cache it (``LocalCache.end``). Under concurrency
    on one session (a busy single-page app, a benchmark) writes then overlap nearly every read and
    almost nothing is cached. A read begun after the write was acknowledged was answered after it
    and is kept; so a read waits for the writes of its key in flight (one round trip at most).
    """

    def __init__(self) -> None:
        # key -> (writes in flight, set when the last one ends, its event loop); read it directly
        self.pending: dict[str, tuple[int, asyncio.Event, asyncio.AbstractEventLoop]] = {}

    def begin(self, key: str) -> None:
        entry = self.pending.get(key)
        if entry is None:
            self.pending[key] = (1, asyncio.Event(), asyncio.get_running_loop())
        else:
            self.pending[key] = (entry[0] + 1, entry[1], entry[2])

    def end(self, key: str) -> None:
        entry = self.pending.get(key)
        if entry is None:
            return
        if entry[0] <= 1:
            del self.pending[key]
            entry[1].set()
        else:
            self.pending[key] = (entry[0] - 1, entry[1], entry[2])

    async def wait(self, key: str) -> None:
        entry = self.pending.get(key)
        if entry is not None and entry[2] is asyncio.get_running_loop():
            await entry[1].wait()


class AsyncRedisStore(StoreCore):
    """The asyncio twin of ``RedisStore``: same arguments, same behaviour, awaitable methods.

    Sessions are read eagerly by ``await open(cookie)`` (only when a valid cookie is present),
    since a mapping cannot await on first access.
    """

    def _connect(self, url: str) -> Any:
        return async_client(url, self.config.pool_size, self.config.pool_timeout)

    def _setup(self) -> None:
        self._script = self.client.register_script(WRITE)
        # The two hot commands run on a lane (``_async_lane``) when the client is a plain
        # ``redis.asyncio.Redis`` (Sentinel's too); Cluster clients route by slot.
        plain = isinstance(self.client, redis.asyncio.Redis)
        fast = plain and getattr(self.client, "connection", None) is None
        self._lane: AsyncLane | None = AsyncLane(self.client.connection_pool) if fast else None
        # Redis key -> (ticket, reply) of the cache miss in flight, for others to join.
        self._reads: dict[str, _Shared] = {}
        self._writes = _Writes()

    async def _hgetall(self, key: str) -> dict[bytes, bytes]:
        if self._lane is None:
            raw: dict[bytes, bytes] = await self.client.hgetall(key)
            return raw
        return as_dict(await self._lane.run(hgetall_packet(key)))

    # -- executing commands ----------------------------------------------------------------
    def _send(self, target: Any, command: Command) -> Any:
        """The command's awaitable (or, on a pipeline, the queued pipeline)."""
        match command:
            case ReadHash(key):
                return target.hgetall(key)
            case Write(key, argv):
                return self._eval(target, key, argv)
            case IndexAdd(index, member, ttl_ms):
                return self._eval(target, index, ["index", ttl_ms, member])
            case IndexRemove(index, member):
                return target.srem(index, member)
            case Delete(key):
                return target.delete(key)
            case Members(index):
                return target.smembers(index)
            case Exists(key):
                return target.exists(key)

    async def _eval(self, target: Any, key: str, argv: list[Any]) -> Any:
        if target is not self.client:  # a pipeline loads its scripts itself
            return await self._script(keys=[key], args=argv, client=target)
        try:
            if self._lane is not None:
                return await self._lane.run(pack(("EVALSHA", self._script.sha, 1, key, *argv)))
            return await target.evalsha(self._script.sha, 1, key, *argv)
        except NoScriptError:  # EVAL caches it on that server only (SCRIPT LOAD would go to all)
            return await target.eval(WRITE, 1, key, *argv)

    async def _execute(self, command: Command) -> Any:
        cache = self.local_cache if command.writes else None
        if cache is None:
            return await self._perform(command)
        cache.forget_command(command)
        key = getattr(command, "key", None)
        if not isinstance(key, str):
            return await self._perform(command)
        self._writes.begin(key)
        try:
            reply = await self._perform(command)
            cache.after_write()
            return reply
        finally:
            self._writes.end(key)

    async def _perform(self, command: Command) -> Any:
        try:
            if not (self.config.wait_replicas and command.writes):
                return await self._send(self.client, command)
            # Every write — deletes and index updates included — is followed by WAIT.
            pipe = self.client.pipeline(transaction=False)
            queued = self._send(pipe, command)
            if inspect.isawaitable(queued):  # a script call queues itself when awaited
                await queued
            pipe.wait(self.config.wait_replicas, self.config.wait_timeout_ms)
            return self.check_acks(*(await pipe.execute()))
        except SessionNotReplicated:
            await adrop_connections(self.client)
            self.distrust_cache()
            raise
        except _REDIS_ERRORS as exc:
            if isinstance(exc, ReadOnlyError):  # the server was demoted: find the master again
                await adrop_connections(self.client)
                self.distrust_cache()
            raise translated(exc, command.name) from exc

    async def _run(self, operation: Operation, op: _ops.Op[Any]) -> Any:
        if not self.hooks:
            return await _ops.adrive(op, self._execute)
        start, outcome = time.perf_counter(), "error"
        try:
            result = await _ops.adrive(op, self._execute)
            outcome = "conflict" if isinstance(result, SaveResult) and result.conflict else "ok"
            return result
        finally:
            emit(self.hooks, operation, outcome, start)

    # -- the read ----------------------------------------------------------------------------
    async def _read(self, session: Session, session_id: str, degrade: bool) -> str:
        key = _ops.key_of(self.config, session_id)
        cache, ticket = self.local_cache, None
        if cache is not None:
            if key in self._writes.pending:  # after this replica's write in flight: kept, not refused
                await self._writes.wait(key)
            hit = await cache.alookup(key)
            if hit is not None:
                self.served(session, session_id, hit)
                return "ok"
            ticket = cache.begin(key)
        try:
            if ticket is None:
                raw, shared = await self._hgetall(key), None
            else:
                shared = await self._fetch(key, ticket)
                if shared.record is not None:  # joined a read whose reply was decoded already
                    self.read_failed(key, ticket)  # nothing more to keep: close this ticket
                    ticket = None  # (once: a second close could forget another read's slot)
                    self.served(session, session_id, shared.record)
                    return "ok"
                raw = shared.raw  # type: ignore[assignment]
        except BaseException as exc:
            self.read_failed(key, ticket)
            if not isinstance(exc, _REDIS_ERRORS):
                raise
            error = translated(exc, "read")
            if not degrade or not isinstance(error, SessionBackendUnavailable):
                raise error from exc
            _ops.degrade(session, error)
            return "degraded"
        outcome, cleanup, record = self.settle_read(session, session_id, key, ticket, raw)
        if shared is not None:
            shared.record = record  # before the requests that joined this read resume
        if cleanup is not None:
            await self._execute(cleanup)
        return outcome

    async def _fetch(self, key: str, ticket: Ticket) -> _Shared:
        """``HGETALL key``; concurrent cache misses of one key share one round trip, and the
        decoding of its reply (the request that sent it decodes it before the others resume).

        A read joins one in flight only if their tickets are equal: no invalidation of the key (and
        no flush) was applied since that read began, so its reply is as fresh as a new one would be.
        """
        shared = self._reads.get(key)
        if shared is not None and shared.ticket == ticket and shared.loop is asyncio.get_running_loop():
            await shared.done.wait()
            if shared.raw is not None:
                return shared
            shared = _Shared(ticket)  # the shared read failed: this request tries its own
            shared.raw = await self._hgetall(key)
            return shared
        shared = self._reads[key] = _Shared(ticket)
        try:
            shared.raw = await self._hgetall(key)
            return shared
        finally:
            shared.done.set()
            if self._reads.get(key) is shared:
                del self._reads[key]

    async def _load(self, session: Session, session_id: str, degrade: bool) -> None:
        if not self.hooks:
            await self._read(session, session_id, degrade)
            return
        start, outcome = time.perf_counter(), "error"
        try:
            outcome = await self._read(session, session_id, degrade)
        finally:
            emit(self.hooks, "load", outcome, start)

    # -- the public API ----------------------------------------------------------------------
    async def open(self, cookie: str | None) -> Session:
        """The session for a request's cookie; a bad or missing cookie costs no Redis command."""
        session_id = self.session_id_from_cookie(cookie)
        if session_id is None:
            return Session()
        session = Session(id=session_id, new=False)
        if self.hooks:
            await self._load(session, session_id, self.config.degraded)
        else:
            await self._read(session, session_id, self.config.degraded)
        return session

    async def load(self, session_id: str) -> Session | None:
        """Read a session by ID (one round trip); ``None`` if missing or expired.

        For frameworks that keep their own session keys (Django): the session keeps its ID
        through ``clear()`` (``rotate_on_clear`` off); rotate it with ``regenerate()``.
        """
        session = Session(id=session_id, new=False, rotate_on_clear=False)
        await self._load(session, session_id, False)
        return None if session.new else session

    async def save(self, session: Session, *, destroy_if_empty: bool = True) -> SaveResult:
        """Write what changed: one atomic round trip that never resurrects a deleted session."""
        now = self.ctx.now()
        plan = plan_save(session, self.serializer, self.config, now, destroy_if_empty=destroy_if_empty)
        if plan.kind != "none" and plan.kind != "refused":
            operation: Operation = "regenerate" if plan.kind == "regenerate" else "save"
            result: SaveResult = await self._run(operation, _ops.save(self.ctx, session, plan, now))
            return result
        if self.hooks:
            emit(self.hooks, "save", "noop" if plan.kind == "none" else "conflict", time.perf_counter())
        return _ops.settled(self.ctx, session, plan)

    async def exists(self, session_id: str) -> bool:
        return bool(await self._run("load", _ops.exists(self.ctx, session_id)))

    async def delete(self, session_id: str) -> None:
        """Delete a session by ID, and remove it from its user's index."""
        await self._run("delete", _ops.delete_id(self.ctx, session_id))

    async def sessions_of(self, user_id: str | int) -> list[str]:
        """Redis keys of the live sessions bound to ``user_id``; stale index entries are pruned."""
        keys: list[str] = await self._run("load", _ops.sessions_of(self.ctx, str(user_id)))
        return keys

    async def revoke_user(self, user_id: str | int) -> int:
        """End every session of ``user_id`` ("log out everywhere"); returns how many ended."""
        return int(await self._run("revoke_user", _ops.revoke_user(self.ctx, str(user_id))))

    async def aclose(self) -> None:
        if self.local_cache is not None:
            self.local_cache.close()
        if self._lane is not None:
            await self._lane.aclose()
        await self.client.aclose()
