"""sessionkit: Redis-backed sessions so web apps can run as many replicas without sticky sessions.

The names below are imported on first use (PEP 562), so ``import sessionkit.lint`` or
``sessionkit ingress`` never load redis-py.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from sessionkit._version import __version__

if TYPE_CHECKING:
    from sessionkit._async_store import AsyncRedisStore
    from sessionkit._errors import (
        ConfigurationError,
        PoolExhausted,
        SerializationError,
        SessionBackendUnavailable,
        SessionError,
        SessionNotReplicated,
        SessionStorageFull,
        SessionTooLarge,
    )
    from sessionkit._observe import Hook, OperationEvent
    from sessionkit._ops import SaveResult
    from sessionkit._policy import check_server_policy
    from sessionkit._serializers import JSONSerializer, Serializer
    from sessionkit._session import Session
    from sessionkit._store import RedisStore

_WHERE = {
    "AsyncRedisStore": "_async_store",
    "ConfigurationError": "_errors",
    "Hook": "_observe",
    "JSONSerializer": "_serializers",
    "OperationEvent": "_observe",
    "PoolExhausted": "_errors",
    "RedisStore": "_store",
    "SaveResult": "_ops",
    "SerializationError": "_errors",
    "Serializer": "_serializers",
    "Session": "_session",
    "SessionBackendUnavailable": "_errors",
    "SessionError": "_errors",
    "SessionNotReplicated": "_errors",
    "SessionStorageFull": "_errors",
    "SessionTooLarge": "_errors",
    "check_server_policy": "_policy",
}

__all__ = [
    "AsyncRedisStore",
    "ConfigurationError",
    "Hook",
    "JSONSerializer",
    "OperationEvent",
    "PoolExhausted",
    "RedisStore",
    "SaveResult",
    "SerializationError",
    "Serializer",
    "Session",
    "SessionBackendUnavailable",
    "SessionError",
    "SessionNotReplicated",
    "SessionStorageFull",
    "SessionTooLarge",
    "__version__",
    "check_server_policy",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'sessionkit' has no attribute {name!r}")
    value = getattr(import_module(f"sessionkit.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
