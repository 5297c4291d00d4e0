"""``AsyncRedisStore``: drives the sans-IO operations of ``_ops`` with ``redis.asyncio``."""

from __future__ import annotations

from typing import Any

from sessionkit import _ops
from sessionkit._connect import adrop_connections, async_client, translate_errors
from sessionkit._core import SaveResult, StoreCore
from sessionkit._errors import SessionNotReplicated
from sessionkit._observe import Operation, observed
from sessionkit._scripts import WRITE
from sessionkit._session import Session


class AsyncRedisStore(StoreCore):
    """The asyncio twin of ``RedisStore``: same arguments, same behaviour, awaitable methods.

    Sessions are read eagerly by ``await open(cookie)`` (only when a valid cookie is present),
    since a mapping cannot await on first access.
    """

    def _connect(self, url: str) -> Any:
        return async_client(url, self.config.pool_size, self.config.pool_timeout)

    def _setup(self) -> None:
        self._script = self.client.register_script(WRITE)

    async def _call(self, call: _ops.Call) -> Any:
        name, args = call
        if not self.config.wait_replicas or name not in _ops.WRITES:
            return await self._send(self.client, name, args)
        # Every write — deletes and index updates included — is followed by WAIT.
        pipe = self.client.pipeline(transaction=False)
        queued = self._send(pipe, name, args)
        if name == "write":
            await queued  # an asyncio script call queues itself when awaited
        pipe.wait(self.config.wait_replicas, self.config.wait_timeout_ms)
        try:
            return self.check_acks(*(await pipe.execute()))
        except SessionNotReplicated:
            await adrop_connections(self.client)
            raise

    def _send(self, target: Any, name: str, args: tuple[Any, ...]) -> Any:
        if name == "write":
            key, argv = args
            return self._script(keys=[key], args=argv, client=target)
        return getattr(target, name)(*args)

    async def _guarded(self, call: _ops.Call) -> Any:
        with translate_errors(call[0]):
            return await self._call(call)

    async def _run(self, operation: Operation, make: Any, *args: Any) -> Any:
        with observed(self.hooks, operation) as out:
            return await _ops.adrive(make(self, *args, out), self._guarded)

    async def open(self, cookie: str | None) -> Session:
        """The session for a request's cookie; a bad or missing cookie costs no Redis command."""
        session_id = self.session_id_from_cookie(cookie)
        session = Session() if session_id is None else Session(id=session_id, new=False)
        if session_id is not None:
            await self._run("load", _ops.load, session, session_id, self.config.degraded)
        return session

    async def load(self, session_id: str) -> Session | None:
        """Read a session by ID (one round trip); ``None`` if missing or expired.

        For frameworks that keep their own session keys (Django): the session keeps its ID
        through ``clear()`` (``rotate_on_clear`` off); rotate it with ``regenerate()``.
        """
        session = Session(id=session_id, new=False, rotate_on_clear=False)
        await self._run("load", _ops.load, session, session_id, False)
        return None if session.new else session

    async def save(self, session: Session, *, destroy_if_empty: bool = True) -> SaveResult:
        """Write what changed: one atomic round trip that never resurrects a deleted session."""
        result: SaveResult = await self._run("save", _ops.save, session, destroy_if_empty)
        return result

    async def exists(self, session_id: str) -> bool:
        return bool(await self._run("load", _ops.simple, ("exists", (self.key(session_id),))))

    async def delete(self, session_id: str) -> None:
        """Delete a session by ID, and remove it from its user's index."""
        await self._run("delete", _ops.delete_id, session_id)

    async def sessions_of(self, user_id: str | int) -> list[str]:
        """Redis keys of the live sessions bound to ``user_id``; stale index entries are pruned."""
        keys: list[str] = await self._run("load", _ops.sessions_of, str(user_id))
        return keys

    async def revoke_user(self, user_id: str | int) -> int:
        """End every session of ``user_id`` ("log out everywhere"); returns how many ended."""
        return int(await self._run("revoke_user", _ops.revoke_user, str(user_id)))

    async def aclose(self) -> None:
        await self.client.aclose()
