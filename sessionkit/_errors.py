"""One rooted exception tree. Every message says what to do next."""

from __future__ import annotations


class SessionError(Exception):
    """Base class of every error sessionkit raises."""


class SessionBackendUnavailable(SessionError, ConnectionError):
    """Redis could not be reached or did not answer in time.

    Adapters turn this into ``503 Service Unavailable`` with ``Retry-After`` (or, in degraded
    mode, an empty session that leaves the user's cookie untouched).
    """

    retry_after: int

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PoolExhausted(SessionBackendUnavailable):
    """Every connection of the store's pool stayed busy for ``pool_timeout`` seconds.

    Redis itself may be healthy: the process runs more concurrent session operations than
    ``pool_size``. Raise ``pool_size`` (and Redis's ``maxclients``) or ``pool_timeout``.
    """


class SessionStorageFull(SessionBackendUnavailable):
    """Redis refused the write because it reached ``maxmemory`` (policy ``noeviction``).

    Nothing was written. Give Redis more memory, or shorten ``idle_timeout``; never switch to an
    ``allkeys-*`` eviction policy, which logs users out silently (see docs/core.md).
    """


class SessionNotReplicated(SessionBackendUnavailable):
    """The write WAS applied on the server the store talked to, but fewer than ``wait_replicas``
    replicas acknowledged it in time: it may be rolled back by a failover.

    The store dropped its connections so the next operation finds the current master.
    """


# The size limit as each surface spells it (the store raising the error does not know which one
# configured it).
_MAX_SIZE_SETTINGS = ("SESSIONKIT_MAX_SIZE (Flask, Django), SessionMiddleware(max_size=...) (Starlette), "
                     "max_size= (RedisStore, AsyncRedisStore)")


class SessionTooLarge(SessionError, ValueError):
    """The serialized session exceeds the configured size limit; nothing was written."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"session is {size} bytes serialized, over the limit of {limit} bytes; nothing was "
            "written. Store large data elsewhere (a database row keyed by user) and keep only its "
            "ID in the session, or raise the limit if this really belongs in the session: "
            f"{_MAX_SIZE_SETTINGS}."
        )
        self.size = size
        self.limit = limit


class ConfigurationError(SessionError, ValueError):
    """A setting or argument is invalid; the message names it and says what is accepted."""


class SerializationError(SessionError, TypeError):
    """A session value cannot be serialized by the configured serializer."""


class ServerNotFound(SessionError, FileNotFoundError):
    """No Redis or Valkey server binary could be found to start a local server."""
