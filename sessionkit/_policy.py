"""What a Redis server must be configured like to keep sessions (eviction, persistence)."""

from __future__ import annotations

from typing import Any

# Policies that may evict keys without a TTL... or any key: both silently log users out.
_DANGEROUS = {"allkeys-lru", "allkeys-lfu", "allkeys-random"}
_VOLATILE = {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}


def check_server_policy(client: Any) -> list[str]:
    """Problems of the server's eviction and persistence settings for sessions (empty: fine).

    ``client`` is a sync redis-py client (``Redis``; for a Cluster, call it per node). Every
    session key has a TTL, so any eviction policy but ``noeviction`` may drop live sessions
    when Redis reaches ``maxmemory``: each such drop is a silent logout.
    """
    problems: list[str] = []
    config = _config(client, "maxmemory-policy", "maxmemory", "appendonly", "save")
    policy, maxmemory = config.get("maxmemory-policy", ""), int(config.get("maxmemory", "0") or 0)
    if policy in _DANGEROUS or (policy in _VOLATILE and maxmemory):
        problems.append(
            f"maxmemory-policy is {policy}: when Redis reaches maxmemory it evicts live sessions, "
            "logging users out silently. Use 'noeviction' (writes then fail with a clear 503) and "
            "size maxmemory for your sessions, or keep sessions on a Redis of their own."
        )
    if config.get("appendonly") == "no" and not config.get("save"):
        problems.append(
            "persistence is off (appendonly no, no save points): a Redis restart logs everyone "
            "out. Enable AOF (appendonly yes, appendfsync everysec) or RDB snapshots."
        )
    return problems


def _config(client: Any, *names: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        for key, value in client.config_get(name).items():
            out[key.decode() if isinstance(key, bytes) else key] = (
                value.decode() if isinstance(value, bytes) else str(value)
            )
    return out
