"""``RedisStore``: drives the sans-IO operations of ``_ops`` with redis-py (blocking)."""

from __future__ import annotations

from typing import Any

from sessionkit import _ops
from sessionkit._connect import drop_connections, sync_client, translate_errors
from sessionkit._core import SaveResult, StoreCore
from sessionkit._errors import SessionNotReplicated
from sessionkit._observe import Operation, observed
from sessionkit._scripts import WRITE
from sessionkit._session import Session


class RedisStore(StoreCore):
    """Server-side sessions in Redis, one hash per session (see ``StoreCore`` for the arguments)."""

    def _connect(self, url: str) -> Any:
        return sync_client(url, self.config.pool_size, self.config.pool_timeout)

    def _setup(self) -> None:
        self._script = self.client.register_script(WRITE)

    def _call(self, call: _ops.Call) -> Any:
        name, args = call
        if not self.config.wait_replicas or name not in _ops.WRITES:
            return self._send(self.client, name, args)
        # Every write — deletes and index updates included — is followed by WAIT.
        pipe = self.client.pipeline(transaction=False)
        self._send(pipe, name, args)
        pipe.wait(self.config.wait_replicas, self.config.wait_timeout_ms)
        try:
            return self.check_acks(*pipe.execute())
        except SessionNotReplicated:
            drop_connections(self.client)
            raise

    def _send(self, target: Any, name: str, args: tuple[Any, ...]) -> Any:
        if name == "write":
            key, argv = args
            return self._script(keys=[key], args=argv, client=target)
        return getattr(target, name)(*args)

    def _guarded(self, call: _ops.Call) -> Any:
        with translate_errors(call[0]):
            return self._call(call)

    def _run(self, operation: Operation, make: Any, *args: Any) -> Any:
        with observed(self.hooks, operation) as out:
            return _ops.drive(make(self, *args, out), self._guarded)

    def open(self, cookie: str | None) -> Session:
        """The session for a request's cookie, read lazily on first access (zero commands until then).

        A missing, forged, truncated or oversized cookie gives a new empty session, no Redis command.
        """
        session_id = self.session_id_from_cookie(cookie)
        if session_id is None:
            return Session()
        degrade = self.config.degraded
        return Session(id=session_id, new=False,
                       loader=lambda s: self._run("load", _ops.load, s, session_id, degrade))

    def load(self, session_id: str) -> Session | None:
        """Read a session by ID (one round trip); ``None`` if missing or expired.

        For frameworks that keep their own session keys (Django): the session keeps its ID
        through ``clear()`` (``rotate_on_clear`` off); rotate it with ``regenerate()``.
        """
        session = Session(id=session_id, new=False, rotate_on_clear=False)
        self._run("load", _ops.load, session, session_id, False)
        return None if session.new else session

    def save(self, session: Session, *, destroy_if_empty: bool = True) -> SaveResult:
        """Write what changed: one atomic round trip that never resurrects a deleted session."""
        result: SaveResult = self._run("save", _ops.save, session, destroy_if_empty)
        return result

    def exists(self, session_id: str) -> bool:
        return bool(self._run("load", _ops.simple, ("exists", (self.key(session_id),))))

    def delete(self, session_id: str) -> None:
        """Delete a session by ID, and remove it from its user's index."""
        self._run("delete", _ops.delete_id, session_id)

    def sessions_of(self, user_id: str | int) -> list[str]:
        """Redis keys of the live sessions bound to ``user_id``; stale index entries are pruned."""
        keys: list[str] = self._run("load", _ops.sessions_of, str(user_id))
        return keys

    def revoke_user(self, user_id: str | int) -> int:
        """End every session of ``user_id`` ("log out everywhere"); returns how many ended."""
        return int(self._run("revoke_user", _ops.revoke_user, str(user_id)))

    def close(self) -> None:
        self.client.close()
