"""sessionkit: Redis-backed sessions so web apps can run as many replicas without sticky sessions."""

from __future__ import annotations

from sessionkit._async_store import AsyncRedisStore
from sessionkit._core import SaveResult
from sessionkit._errors import (
    ConfigurationError,
    SerializationError,
    SessionBackendUnavailable,
    SessionError,
    SessionTooLarge,
)
from sessionkit._observe import Hook, OperationEvent
from sessionkit._serializers import JSONSerializer, Serializer
from sessionkit._session import Session
from sessionkit._store import RedisStore
from sessionkit._version import __version__

__all__ = [
    "AsyncRedisStore",
    "ConfigurationError",
    "Hook",
    "JSONSerializer",
    "OperationEvent",
    "RedisStore",
    "SaveResult",
    "SerializationError",
    "Serializer",
    "Session",
    "SessionBackendUnavailable",
    "SessionError",
    "SessionTooLarge",
    "__version__",
]
