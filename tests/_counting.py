"""Deterministic cost measurement: Redis commands (INFO commandstats) and round trips per operation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis

from sessionkit._tracking import CLIENT_NAME

HANDSHAKE = {"hello", "client|setinfo", "client|setname", "auth", "select",
             # the local cache's tracking connection: set up once per store, PINGed now and then
             "client|id", "client|tracking", "subscribe", "ping"}


class CountingConnection(redis.Connection):
    """A connection that counts what it sends: one ``send_packed_command`` is one round trip."""

    round_trips = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if self.client_name != CLIENT_NAME:  # the local cache's tracking connection is no request's
            type(self).round_trips += 1
        super().send_packed_command(command, check_health)


def counting_client(url: str) -> redis.Redis:
    pool = redis.ConnectionPool.from_url(url, connection_class=CountingConnection)
    return redis.Redis(connection_pool=pool)


def commandstats(admin: redis.Redis) -> dict[str, int]:
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in admin.info("commandstats").items()}


@dataclass
class Cost:
    commands: dict[str, int] = field(default_factory=dict)  # top-level and script-internal calls
    round_trips: int = 0


@contextmanager
def measure(admin: redis.Redis) -> Iterator[Cost]:
    """Counts commands the server executed and round trips counting clients made inside the block.

    The admin client's own INFO call is subtracted; tests run one at a time on the server.
    """
    cost = Cost()
    before = commandstats(admin)
    trips = CountingConnection.round_trips
    yield cost
    cost.round_trips = CountingConnection.round_trips - trips
    after = commandstats(admin)
    diff = {k: after[k] - before.get(k, 0) for k in after}
    diff["info"] = diff.get("info", 0) - 1
    # Connection handshakes are not per-request costs: a test client that runs each request on
    # a fresh event loop (Starlette's TestClient) opens a new asyncio connection every time,
    # which a long-running server does not.
    cost.commands = {k: v for k, v in diff.items() if v and k not in HANDSHAKE}
