"""The typed boundary between the sans-IO operations and the I/O twins.

An operation yields one of these commands and receives its reply; ``RedisStore`` and
``AsyncRedisStore`` execute each with one ``match``. ``writes`` marks the commands that change data:
with ``wait_replicas`` set, each of them is followed by ``WAIT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class ReadHash:
    """``HGETALL key``; reply: ``dict[bytes, bytes]``."""

    key: str
    name: ClassVar[str] = "read"
    writes: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Write:
    """The write script (``sessionkit._scripts``) on one key; reply: its status (or metadata)."""

    key: str
    argv: list[Any]
    name: ClassVar[str] = "write"
    writes: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class IndexAdd:
    """Add a session to a user index and extend the index's TTL to at least ``ttl_ms``."""

    index: str
    member: str
    ttl_ms: int
    name: ClassVar[str] = "index update"
    writes: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class IndexRemove:
    """``SREM index member``."""

    index: str
    member: str
    name: ClassVar[str] = "index update"
    writes: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Delete:
    """``DEL key``; reply: how many keys were deleted."""

    key: str
    name: ClassVar[str] = "delete"
    writes: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Members:
    """``SMEMBERS index``; reply: ``set[bytes]``."""

    index: str
    name: ClassVar[str] = "index read"
    writes: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Exists:
    """``EXISTS key``; reply: 0 or 1."""

    key: str
    name: ClassVar[str] = "read"
    writes: ClassVar[bool] = False


Command = ReadHash | Write | IndexAdd | IndexRemove | Delete | Members | Exists
