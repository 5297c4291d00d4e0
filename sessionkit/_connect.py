"""Redis clients from one URL, and the translation of client errors into sessionkit's.

URL forms: ``redis://``, ``rediss://`` (TLS, ``user:password@`` for ACL users), ``unix://``,
``redis+sentinel://[user:pass@]host:port,host:port/service_name[?db=N]`` (follows failover) and
``redis+cluster://host:port`` (any node of the cluster). Valkey accepts the same URLs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

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
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)

from sessionkit._errors import ConfigurationError, SessionBackendUnavailable, SessionError

SOCKET_TIMEOUT = 1.0
CONNECT_TIMEOUT = 1.0
SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster")


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for logs, errors and ``repr``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _options(asynchronous: bool) -> dict[str, Any]:
    retry_cls = redis.asyncio.retry.Retry if asynchronous else redis.retry.Retry
    return {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        # Two quick retries with backoff absorb a dropped connection or a failover blip.
        "retry": retry_cls(ExponentialBackoff(cap=0.2, base=0.02), 2),
    }


def _sentinel_parts(url: str) -> tuple[list[tuple[str, int]], str, dict[str, Any]]:
    parts = urlsplit(url)
    hosts_part = parts.netloc.rsplit("@", 1)[-1]
    service = parts.path.strip("/")
    if not hosts_part or not service:
        raise ConfigurationError(
            f"sentinel URL {mask_url(url)!r} needs sentinel addresses and a service name: "
            "redis+sentinel://host:26379,host2:26379/mymaster"
        )
    hosts = []
    for item in hosts_part.split(","):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigurationError(f"bad sentinel address {item!r} in {mask_url(url)!r}: use host:port")
        hosts.append((host, int(port)))
    extra: dict[str, Any] = {}
    if parts.username:
        extra["username"] = unquote(parts.username)
    if parts.password:
        extra["password"] = unquote(parts.password)
    query = parse_qs(parts.query)
    if "db" in query:
        extra["db"] = int(query["db"][0])
    return hosts, service, extra


def _check_scheme(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise ConfigurationError(
            f"unsupported Redis URL {mask_url(url)!r}: use one of "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    return scheme


def sync_client(url: str) -> Any:
    """A redis-py client for ``url`` with short timeouts and a small retry."""
    scheme, opts = _check_scheme(url), _options(False)
    if scheme == "redis+sentinel":
        hosts, service, extra = _sentinel_parts(url)
        # redis-py's Sentinel classes carry no annotations.
        sentinel = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
            hosts, sentinel_kwargs=dict(opts), **opts, **extra
        )
        return sentinel.master_for(service)  # type: ignore[no-untyped-call]
    if scheme == "redis+cluster":
        return redis.cluster.RedisCluster.from_url("redis" + url[len("redis+cluster"):], **opts)
    return redis.Redis.from_url(url, **opts)


def async_client(url: str) -> Any:
    """The ``redis.asyncio`` twin of ``sync_client``."""
    scheme, opts = _check_scheme(url), _options(True)
    if scheme == "redis+sentinel":
        hosts, service, extra = _sentinel_parts(url)
        sentinel = redis.asyncio.sentinel.Sentinel(  # type: ignore[no-untyped-call]
            hosts, sentinel_kwargs=dict(opts), **opts, **extra
        )
        return sentinel.master_for(service)
    if scheme == "redis+cluster":
        return redis.asyncio.cluster.RedisCluster.from_url(
            "redis" + url[len("redis+cluster"):], **opts
        )
    return redis.asyncio.Redis.from_url(url, **opts)


_UNAVAILABLE_RESPONSES = (ReadOnlyError, ClusterDownError, TryAgainError, MasterDownError)


@contextmanager
def translate_errors(where: str) -> Iterator[None]:
    """Turn redis-py exceptions into ``SessionBackendUnavailable`` / ``SessionError``."""
    try:
        yield
    except (RedisError, RedisClusterException) as exc:
        if isinstance(exc, ResponseError) and not isinstance(exc, _UNAVAILABLE_RESPONSES):
            raise SessionError(f"Redis refused the session {where}: {exc}") from exc
        raise SessionBackendUnavailable(
            f"session {where} failed: Redis is unreachable ({type(exc).__name__}: {exc}). "
            "Check the Redis URL and that the server is up; requests get 503 until it returns "
            "(or enable degraded mode to serve empty sessions meanwhile)."
        ) from exc
