"""Store settings, validated once at construction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sessionkit._cookie import redis_key_suffix
from sessionkit._errors import ConfigurationError

Seconds = float | int | timedelta


def seconds(value: Seconds, name: str) -> float:
    """Accept seconds or a ``timedelta``; refuse negatives with a message naming the setting."""
    out = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if out < 0:
        raise ConfigurationError(f"{name} must be >= 0 seconds, got {value!r}")
    return out


@dataclass(frozen=True)
class StoreConfig:
    """What a store needs to decide reads and writes. All durations are seconds."""

    key_prefix: str = "sessionkit:"
    idle_timeout: float = 14 * 86400.0
    absolute_timeout: float | None = 30 * 86400.0
    refresh_interval: float = 60.0
    max_size: int = 64 * 1024
    degraded: bool = False
    wait_replicas: int = 0
    wait_timeout_ms: int = 200
    regenerate_grace: float = 10.0
    pool_size: int = 50
    pool_timeout: float = 5.0

    def __post_init__(self) -> None:
        if self.idle_timeout <= 0:
            raise ConfigurationError("idle_timeout must be > 0 seconds")
        if self.absolute_timeout is not None and self.absolute_timeout < self.idle_timeout / 1e6:
            raise ConfigurationError("absolute_timeout must be > 0 seconds (or None for no cap)")
        if self.max_size <= 0:
            raise ConfigurationError(f"max_size must be a positive number of bytes, got {self.max_size}")
        if self.pool_size < 1:
            raise ConfigurationError(f"pool_size must be >= 1 connection, got {self.pool_size}")
        if self.regenerate_grace <= 0:
            raise ConfigurationError("regenerate_grace must be > 0 seconds")
        if self.wait_replicas < 0:
            raise ConfigurationError("wait_replicas must be >= 0")
        if not self.key_prefix or any(c.isspace() for c in self.key_prefix):
            raise ConfigurationError(
                f"key_prefix must be a non-empty string without whitespace, got {self.key_prefix!r}"
            )

    def key_for(self, session_id: str) -> str:
        """The Redis key of a session ID (a hash of it: Redis never holds a usable ID)."""
        return f"{self.key_prefix}s:{redis_key_suffix(session_id)}"

    def session_key(self, suffix: str) -> str:
        return f"{self.key_prefix}s:{suffix}"

    def user_index_key(self, user_id: str) -> str:
        return f"{self.key_prefix}u:{user_id}"

    @property
    def session_pattern(self) -> str:
        return f"{self.key_prefix}s:*"
