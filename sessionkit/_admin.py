"""``sessionkit sessions``: operator commands (stats over SCAN with server-policy warnings,
revoke a user's sessions)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from typing import Any

from sessionkit._errors import SessionError
from sessionkit._plan import F_META
from sessionkit._policy import check_server_policy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sessions", help="inspect and revoke sessions in Redis")
    commands = parser.add_subparsers(title="sessions commands", metavar="COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    default_url = os.environ.get("SESSIONKIT_REDIS_URL") or os.environ.get("REDIS_URL")
    common.add_argument("--url", default=default_url,
                        help="Redis URL (default: $SESSIONKIT_REDIS_URL, then $REDIS_URL)")
    common.add_argument("--prefix", default="sessionkit:",
                        help="the store's key_prefix (default: %(default)s)")
    stats = commands.add_parser("stats", parents=[common], help="count, size and TTL distribution (SCAN)")
    stats.add_argument("--json", action="store_true", help="print JSON instead of text")
    stats.add_argument("--limit", type=int, default=0, help="stop after scanning this many sessions (0: all)")
    stats.set_defaults(func=_stats)
    revoke = commands.add_parser("revoke", parents=[common], help="end every session of a user")
    revoke.add_argument("--user", required=True, help="the user ID sessions were bound to")
    revoke.set_defaults(func=_revoke)


def _client(args: argparse.Namespace) -> Any:
    if not args.url:
        print("sessionkit sessions: no Redis URL; pass --url or set SESSIONKIT_REDIS_URL", file=sys.stderr)
        raise SystemExit(2)
    from sessionkit._connect import check_url, sync_client  # redis-py only when a command runs

    try:
        return sync_client(check_url(args.url, "--url"))
    except SessionError as exc:
        print(f"sessionkit sessions: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    if len(values) == 1:
        return {"min": values[0], "p50": values[0], "p90": values[0], "max": values[0]}
    q = statistics.quantiles(values, n=10, method="inclusive")
    return {"min": min(values), "p50": statistics.median(values), "p90": q[8], "max": max(values)}


def collect_stats(client: Any, prefix: str, limit: int = 0) -> dict[str, Any]:
    """Scan ``<prefix>s:*`` (every primary of a cluster) and summarise sizes and TTLs."""
    sizes: list[float] = []
    ttls: list[float] = []
    batch: list[Any] = []

    def flush() -> None:
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
            pipe.pttl(key)
            pipe.hexists(key, F_META)  # a regenerate's "replaced" marker has no metadata: not a session
        replies = pipe.execute()
        for size, ttl, live in zip(replies[::3], replies[1::3], replies[2::3]):
            if live and size is not None and ttl is not None and ttl >= 0:
                sizes.append(float(size))
                ttls.append(ttl / 1000)
        batch.clear()

    for key in client.scan_iter(match=f"{prefix}s:*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            flush()
        if limit and len(sizes) + len(batch) >= limit:
            break
    if batch:
        flush()
    return {"sessions": len(sizes), "bytes": _percentiles(sizes), "ttl_seconds": _percentiles(ttls)}


def _policy_warnings(client: Any) -> list[str]:
    nodes = client.get_primaries() if hasattr(client, "get_primaries") else [None]
    warnings: list[str] = []
    for node in nodes:
        target = client if node is None else client.get_redis_connection(node)
        try:
            problems = check_server_policy(target)
        except Exception as exc:  # e.g. CONFIG disabled by the provider: say so, do not fail
            problems = [f"cannot read the server's configuration ({exc}); check maxmemory-policy by hand"]
        where = "" if node is None else f"{node.host}:{node.port}: "
        warnings.extend(where + p for p in problems if where + p not in warnings)
    return warnings


def _stats(args: argparse.Namespace) -> int:
    client = _client(args)
    try:
        result = collect_stats(client, args.prefix, args.limit)
    except Exception as exc:
        from sessionkit._connect import mask_url

        print(f"sessionkit sessions: cannot read {mask_url(args.url)}: {exc}", file=sys.stderr)
        return 1
    result["warnings"] = _policy_warnings(client)
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"sessions under {args.prefix!r}: {result['sessions']}")
    for name in ("bytes", "ttl_seconds"):
        row = result[name]
        if row:
            print(f"{name:>12}: " + "  ".join(f"{k}={v:,.0f}" for k, v in row.items()))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from sessionkit._store import RedisStore

    store = RedisStore(client=_client(args), key_prefix=args.prefix)
    try:
        ended = store.revoke_user(args.user)
    except SessionError as exc:
        print(f"sessionkit sessions: {exc}", file=sys.stderr)
        return 1
    print(f"ended {ended} session(s) of user {args.user!r}")
    return 0
