"""Redis clients from one URL, and the translation of client errors into sessionkit's.

URL forms: ``redis://``, ``rediss://`` (TLS, ``user:password@`` for ACL users), ``unix://``,
``redis+sentinel://[user:pass@]host:port,host:port/service_name[?db=N]`` (follows failover) and
``redis+cluster://host:port`` (any node of the cluster). Valkey accepts the same URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, get_args
from urllib.parse import parse_qs, unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import (
    ClusterDownError,
    MasterDownError,
    MaxConnectionsError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sessionkit._commands import Command
from sessionkit._errors import (
    ConfigurationError,
    PoolExhausted,
    SessionBackendUnavailable,
    SessionError,
    SessionStorageFull,
)

SOCKET_TIMEOUT = 1.0
CONNECT_TIMEOUT = 1.0
SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster")


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for logs, errors and ``repr``); also for a
    URL too malformed to parse."""
    try:
        password = urlsplit(url).password
    except ValueError:  # e.g. an unclosed IPv6 bracket: mask whatever sits between ':' and '@'
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)
    if password is None:
        return url
    return url.replace(f":{password}@", ":***@", 1)


_URL_FORMS = ("redis://[user:password@]host:6379/0, rediss://... (TLS), unix:///path/to/redis.sock, "
              "redis+sentinel://host:26379,host2:26379/service or redis+cluster://host:6379")


def check_url(url: object, setting: str | None = None) -> str:
    """``url`` if redis-py (and sessionkit's Sentinel and Cluster forms) can use it; otherwise a
    ``ConfigurationError`` naming ``setting`` (how the user wrote it, e.g. ``SESSIONKIT_REDIS_URL``)
    and the URL with its password masked, before any connection is tried."""
    where = f" in {setting}" if setting else ""
    if not isinstance(url, str):
        raise ConfigurationError(f"{setting or 'the Redis URL'} must be a URL string like {_URL_FORMS}, "
                                 f"not {url!r}")
    problem = _url_problem(url)
    if problem:
        raise ConfigurationError(f"invalid Redis URL {mask_url(url)!r}{where}: {problem}. Use {_URL_FORMS}.")
    return url


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme not in SCHEMES:
            return f"unsupported scheme {scheme + '://' if scheme else '(none)'}"
        if scheme == "redis+sentinel":
            _sentinel_parts(url)
            return None
        plain = "redis" + url[len(scheme):] if scheme == "redis+cluster" else url
        kwargs = redis.connection.parse_url(plain)  # type: ignore[no-untyped-call]
    except ConfigurationError as exc:
        return str(exc)
    except ValueError as exc:  # redis-py's and urllib's own reasons (bad port, bad query value...)
        return str(exc).rstrip(".")
    if scheme == "unix":
        return None if kwargs.get("path") else "no socket path (unix:///path/to/redis.sock)"
    if "host" not in kwargs:
        return "no host"
    if parts.path.strip("/") and "db" not in kwargs:
        return f"the database {parts.path.strip('/')!r} is not a number"
    return None


RETRIES = 2  # two quick retries with backoff absorb a dropped connection or a failover blip
_BACKOFF = ExponentialBackoff(cap=0.2, base=0.02)


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt + 1`` (the clients' own policy)."""
    return float(_BACKOFF.compute(attempt + 1))


def _options(asynchronous: bool) -> dict[str, Any]:
    retry_cls = redis.asyncio.retry.Retry if asynchronous else redis.retry.Retry
    return {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "retry": retry_cls(_BACKOFF, RETRIES),
    }


def _sentinel_parts(url: str) -> tuple[list[tuple[str, int]], str, dict[str, Any]]:
    parts = urlsplit(url)
    hosts_part = parts.netloc.rsplit("@", 1)[-1]
    service = parts.path.strip("/")
    if not hosts_part or not service:
        raise ConfigurationError("a sentinel URL needs sentinel addresses and a service name "
                                 "(redis+sentinel://host:26379,host2:26379/mymaster)")
    hosts = []
    for item in hosts_part.split(","):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigurationError(f"bad sentinel address {item!r}: use host:port")
        hosts.append((host, int(port)))
    extra: dict[str, Any] = {}
    if parts.username:
        extra["username"] = unquote(parts.username)
    if parts.password:
        extra["password"] = unquote(parts.password)
    query = parse_qs(parts.query)
    if "db" in query:
        if not query["db"][0].isdigit():
            raise ConfigurationError(f"the database {query['db'][0]!r} is not a number")
        extra["db"] = int(query["db"][0])
    return hosts, service, extra


def _check_scheme(url: str) -> str:
    return urlsplit(check_url(url)).scheme


class _BlockingSentinelPool(redis.sentinel.SentinelConnectionPool, redis.BlockingConnectionPool):
    """Sentinel master discovery with a bounded pool that waits for a free connection."""


class _AsyncBlockingSentinelPool(
    redis.asyncio.sentinel.SentinelConnectionPool, redis.asyncio.BlockingConnectionPool
):
    """The asyncio twin of ``_BlockingSentinelPool``."""


def _pool(size: int, timeout: float) -> dict[str, Any]:
    return {"max_connections": size, "timeout": timeout}


def sync_client(url: str, pool_size: int = 50, pool_timeout: float = 5.0) -> Any:
    """A redis-py client for ``url`` with short timeouts, a small retry and a blocking pool of
    ``pool_size`` connections (Cluster: per node, without waiting)."""
    scheme, opts = _check_scheme(url), _options(False)
    if scheme == "redis+sentinel":
        hosts, service, extra = _sentinel_parts(url)
        # redis-py's Sentinel classes carry no annotations.
        sentinel = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
            hosts, sentinel_kwargs=dict(opts), **opts, **extra
        )
        return sentinel.master_for(  # type: ignore[no-untyped-call]
            service, connection_pool_class=_BlockingSentinelPool, **_pool(pool_size, pool_timeout)
        )
    if scheme == "redis+cluster":
        return redis.cluster.RedisCluster.from_url(
            "redis" + url[len("redis+cluster"):], max_connections=pool_size, **opts
        )
    pool = redis.BlockingConnectionPool.from_url(url, **_pool(pool_size, pool_timeout), **opts)
    return redis.Redis(connection_pool=pool)


def async_client(url: str, pool_size: int = 50, pool_timeout: float = 5.0) -> Any:
    """The ``redis.asyncio`` twin of ``sync_client``."""
    scheme, opts = _check_scheme(url), _options(True)
    if scheme == "redis+sentinel":
        hosts, service, extra = _sentinel_parts(url)
        sentinel = redis.asyncio.sentinel.Sentinel(  # type: ignore[no-untyped-call]
            hosts, sentinel_kwargs=dict(opts), **opts, **extra
        )
        return sentinel.master_for(
            service, connection_pool_class=_AsyncBlockingSentinelPool,
            **_pool(pool_size, pool_timeout),
        )
    if scheme == "redis+cluster":
        return redis.asyncio.cluster.RedisCluster.from_url(
            "redis" + url[len("redis+cluster"):], max_connections=pool_size, **opts
        )
    pool = redis.asyncio.BlockingConnectionPool.from_url(url, **_pool(pool_size, pool_timeout), **opts)
    return redis.asyncio.Redis(connection_pool=pool)


def is_cluster(client: Any) -> bool:
    """Whether ``client`` is a Redis Cluster client (sync or asyncio)."""
    return isinstance(client, (redis.cluster.RedisCluster, redis.asyncio.cluster.RedisCluster))


def drop_connections(client: Any) -> None:
    """Close every pooled connection (in-use ones included) so the next command reconnects —
    to the current master, for a Sentinel client, which asks the sentinels on connect.
    (A Cluster client has no single pool; it re-reads the slot map on its own errors.)"""
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        pool.disconnect(inuse_connections=True)


async def adrop_connections(client: Any) -> None:
    """``drop_connections`` for a ``redis.asyncio`` client."""
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        await pool.disconnect(inuse_connections=True)


_WRITING_STEPS = frozenset(command.name for command in get_args(Command) if command.writes)
_UNAVAILABLE_RESPONSES = (ReadOnlyError, ClusterDownError, TryAgainError, MasterDownError)


def translated(exc: RedisError | RedisClusterException, where: str) -> SessionError:
    """The sessionkit error for a redis-py exception raised by the session ``where`` step."""
    if isinstance(exc, MaxConnectionsError) or (
        type(exc) is RedisConnectionError and str(exc) == "No connection available."
    ):
        return PoolExhausted(
            f"session {where} waited too long for a free Redis connection: all connections of "
            "the pool are busy (Redis may be healthy). Raise pool_size (and Redis's maxclients) "
            "or pool_timeout, or run fewer concurrent requests per process."
        )
    if isinstance(exc, OutOfMemoryError):
        return SessionStorageFull(
            f"session {where} refused: Redis is out of memory (maxmemory reached, policy "
            "noeviction); nothing was written. Give Redis more memory or shorten idle_timeout; "
            "do not switch to an allkeys-* policy, which logs users out silently."
        )
    if isinstance(exc, ResponseError) and not isinstance(exc, _UNAVAILABLE_RESPONSES):
        return SessionError(f"Redis refused the session {where}: {exc}")
    # Only a step that writes and timed out may have been executed by the server after all.
    maybe_applied = isinstance(exc, RedisTimeoutError) and where in _WRITING_STEPS
    return SessionBackendUnavailable(
        f"session {where} failed: Redis is unreachable ({type(exc).__name__}: {exc}). "
        "Check the Redis URL and that the server is up."
        + (" The write timed out: it may still have been applied." if maybe_applied else "")
    )


@contextmanager
def translate_errors(where: str) -> Iterator[None]:
    """Turn redis-py exceptions into sessionkit's (see ``translated``)."""
    try:
        yield
    except (RedisError, RedisClusterException) as exc:
        raise translated(exc, where) from exc
