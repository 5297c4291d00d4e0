"""``RedisStore``: executes the sans-IO operations of ``_ops`` with redis-py (blocking).

The read and a save that writes nothing run straight-line code: no generator, and without hooks
no timing. Everything that writes is an ``_ops`` generator driven by ``_execute``.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from redis.exceptions import NoScriptError, ReadOnlyError, RedisClusterException, RedisError

from sessionkit import _ops
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
from sessionkit._connect import drop_connections, sync_client, translated
from sessionkit._core import SaveResult, StoreCore
from sessionkit._errors import SessionBackendUnavailable, SessionNotReplicated
from sessionkit._lane import Lane, as_dict, hgetall_packet, packet
from sessionkit._observe import Operation, emit
from sessionkit._plan import plan_save
from sessionkit._scripts import WRITE
from sessionkit._session import Session

_REDIS_ERRORS = (RedisError, RedisClusterException)


class RedisStore(StoreCore):
    """Server-side sessions in Redis, one hash per session (see ``StoreCore`` for the arguments)."""

    def _connect(self, url: str) -> Any:
        return sync_client(url, self.config.pool_size, self.config.pool_timeout)

    def _setup(self) -> None:
        self._script = self.client.register_script(WRITE)
        # The two hot commands (HGETALL, EVALSHA) run on a lane (``_lane``) when the client is a
        # plain ``Redis`` (Sentinel's too). Cluster clients route by slot: they keep the methods.
        fast = isinstance(self.client, redis.Redis) and getattr(self.client, "connection", None) is None
        self._lane: Lane | None = Lane(self.client.connection_pool) if fast else None

    def _hgetall(self, key: str) -> dict[bytes, bytes]:
        if self._lane is None:
            raw: dict[bytes, bytes] = self.client.hgetall(key)
            return raw
        return as_dict(self._lane.run(hgetall_packet(key)))

    # -- executing commands ----------------------------------------------------------------
    def _send(self, target: Any, command: Command) -> Any:
        match command:
            case ReadHash(key):
                return self._hgetall(key) if target is self.client else target.hgetall(key)
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

    def _eval(self, target: Any, key: str, argv: list[Any]) -> Any:
        if target is not self.client:  # a pipeline loads its scripts itself
            return self._script(keys=[key], args=argv, client=target)
        try:
            if self._lane is not None:
                args = ("EVALSHA", self._script.sha, 1, key, *argv)
                return self._lane.run(packet(args), *args)
            return target.evalsha(self._script.sha, 1, key, *argv)
        except NoScriptError:  # EVAL caches it on that server only (SCRIPT LOAD would go to all)
            return target.eval(WRITE, 1, key, *argv)

    def _execute(self, command: Command) -> Any:
        cache = self.local_cache if command.writes else None
        if cache is not None:
            cache.forget_command(command)
        reply = self._perform(command)
        if cache is not None:
            cache.after_write()
        return reply

    def _perform(self, command: Command) -> Any:
        try:
            if not (self.config.wait_replicas and command.writes):
                return self._send(self.client, command)
            # Every write — deletes and index updates included — is followed by WAIT.
            pipe = self.client.pipeline(transaction=False)
            self._send(pipe, command)
            pipe.wait(self.config.wait_replicas, self.config.wait_timeout_ms)
            return self.check_acks(*pipe.execute())
        except SessionNotReplicated:
            drop_connections(self.client)
            self.distrust_cache()
            raise
        except _REDIS_ERRORS as exc:
            if isinstance(exc, ReadOnlyError):  # the server was demoted: find the master again
                drop_connections(self.client)
                self.distrust_cache()
            raise translated(exc, command.name) from exc

    def _run(self, operation: Operation, op: _ops.Op[Any]) -> Any:
        if not self.hooks:
            return _ops.drive(op, self._execute)
        start, outcome = time.perf_counter(), "error"
        try:
            result = _ops.drive(op, self._execute)
            outcome = "conflict" if isinstance(result, SaveResult) and result.conflict else "ok"
            return result
        finally:
            emit(self.hooks, operation, outcome, start)

    # -- the read ----------------------------------------------------------------------------
    def _read(self, session: Session, session_id: str, degrade: bool) -> str:
        key = _ops.key_of(self.config, session_id)
        cache, ticket = self.local_cache, None
        if cache is not None:
            hit = cache.lookup(key)
            if hit is not None:
                self.served(session, session_id, hit)
                return "ok"
            ticket = cache.begin(key)
        try:
            raw = self._hgetall(key)
        except BaseException as exc:
            self.read_failed(key, ticket)
            if not isinstance(exc, _REDIS_ERRORS):
                raise
            error = translated(exc, "read")
            if not degrade or not isinstance(error, SessionBackendUnavailable):
                raise error from exc
            _ops.degrade(session, error)
            return "degraded"
        outcome, cleanup, _ = self.settle_read(session, session_id, key, ticket, raw)
        if cleanup is not None:
            self._execute(cleanup)
        return outcome

    def _load(self, session: Session, session_id: str, degrade: bool) -> None:
        if not self.hooks:
            self._read(session, session_id, degrade)
            return
        start, outcome = time.perf_counter(), "error"
        try:
            outcome = self._read(session, session_id, degrade)
        finally:
            emit(self.hooks, "load", outcome, start)

    def _lazy_load(self, session: Session) -> None:
        self._load(session, session.id or "", self.config.degraded)

    # -- the public API ----------------------------------------------------------------------
    def open(self, cookie: str | None) -> Session:
        """The session for a request's cookie, read lazily on first access (zero commands until then).

        A missing, forged, truncated or oversized cookie gives a new empty session, no Redis command.
        """
        session_id = self.session_id_from_cookie(cookie)
        if session_id is None:
            return Session()
        return Session(id=session_id, new=False, loader=self._lazy_load)

    def load(self, session_id: str) -> Session | None:
        """Read a session by ID (one round trip); ``None`` if missing or expired.

        For frameworks that keep their own session keys (Django): the session keeps its ID
        through ``clear()`` (``rotate_on_clear`` off); rotate it with ``regenerate()``.
        """
        session = Session(id=session_id, new=False, rotate_on_clear=False)
        self._load(session, session_id, False)
        return None if session.new else session

    def save(self, session: Session, *, destroy_if_empty: bool = True) -> SaveResult:
        """Write what changed: one atomic round trip that never resurrects a deleted session."""
        now = self.ctx.now()
        plan = plan_save(session, self.serializer, self.config, now, destroy_if_empty=destroy_if_empty)
        if plan.kind != "none" and plan.kind != "refused":
            operation: Operation = "regenerate" if plan.kind == "regenerate" else "save"
            result: SaveResult = self._run(operation, _ops.save(self.ctx, session, plan, now))
            return result
        if self.hooks:
            emit(self.hooks, "save", "noop" if plan.kind == "none" else "conflict", time.perf_counter())
        return _ops.settled(self.ctx, session, plan)

    def exists(self, session_id: str) -> bool:
        return bool(self._run("load", _ops.exists(self.ctx, session_id)))

    def delete(self, session_id: str) -> None:
        """Delete a session by ID, and remove it from its user's index."""
        self._run("delete", _ops.delete_id(self.ctx, session_id))

    def sessions_of(self, user_id: str | int) -> list[str]:
        """Redis keys of the live sessions bound to ``user_id``; stale index entries are pruned."""
        keys: list[str] = self._run("load", _ops.sessions_of(self.ctx, str(user_id)))
        return keys

    def revoke_user(self, user_id: str | int) -> int:
        """End every session of ``user_id`` ("log out everywhere"); returns how many ended."""
        return int(self._run("revoke_user", _ops.revoke_user(self.ctx, str(user_id))))

    def close(self) -> None:
        if self.local_cache is not None:
            self.local_cache.close()
        if self._lane is not None:
            self._lane.close()
        self.client.close()
