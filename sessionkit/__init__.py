"""sessionkit: Redis-backed sessions so web apps can run as many replicas without sticky sessions."""

from __future__ import annotations

from sessionkit._errors import (
    ConfigurationError,
    SerializationError,
    SessionBackendUnavailable,
    SessionError,
    SessionTooLarge,
)
from sessionkit._version import __version__

__all__ = [
    "ConfigurationError",
    "SerializationError",
    "SessionBackendUnavailable",
    "SessionError",
    "SessionTooLarge",
    "__version__",
]
