"""One column of ``sessionkit demo``: replicas of a shop behind a balancer, users, a replica killed."""

from __future__ import annotations

import argparse
import os
import secrets
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessionkit.demo._journey import User, walk
from sessionkit.demo._procs import MissingBinary, Nginx, Replica, find_binary, gunicorn_argv
from sessionkit.demo._servers import free_port

_APPS = "sessionkit.demo._apps"


@dataclass(frozen=True)
class Variant:
    """A column: where the sessions live and how the balancer routes."""

    name: str  # the column key, e.g. "in-process/affinity"
    sessions: str  # "in-process" or "sessionkit": the first header line
    affinity: bool  # cookie affinity (a route cookie, consistent hash) instead of round-robin

    @property
    def app(self) -> str:
        return f"{_APPS}:{'after_app' if self.sessions == 'sessionkit' else 'before_app'}"

    @property
    def routing(self) -> str:
        return "cookie affinity" if self.affinity else "round-robin"


VARIANTS = (
    Variant("in-process/round-robin", "in-process", affinity=False),
    Variant("in-process/affinity", "in-process", affinity=True),
    Variant("sessionkit/round-robin", "sessionkit", affinity=False),
)


@dataclass
class Outcome:
    requests: int
    logged_in: int
    logged_out: int
    errors: int
    users_on_killed: int  # users the killed replica served before the kill
    lost_before_kill: int
    lost_after_kill: int  # users who lost their session only after the kill
    carts_wrong: int
    reads_per_request: float  # HGETALL: one per request whose replica has no current local copy
    writes_per_request: float  # EVALSHA: one atomic script per request that changed something
    commands_per_request: float  # everything the server ran, inside the scripts too
    balancer: str

    @property
    def users_lost(self) -> int:
        return self.lost_before_kill + self.lost_after_kill


def _balance(variant: Variant, replicas: list[Replica], log_dir: Path, args: argparse.Namespace,
             stack: ExitStack) -> tuple[list[int], str]:
    """The ports users talk to, and how that is balanced: nginx if installed, else the users themselves."""
    ports = [r.port for r in replicas]
    reason = "--no-nginx"
    if not args.no_nginx:
        try:
            find_binary("nginx")
        except MissingBinary:
            reason = "nginx not installed"
        else:
            nginx = Nginx(ports, log_dir)
            stack.callback(nginx.stop)
            nginx.start()
            port = nginx.affinity_port if variant.affinity else nginx.rr_port
            return [port], f"nginx {variant.routing} on 127.0.0.1:{port}"
    how = "sticky: each user pinned to one replica" if variant.affinity else "round-robin"
    return ports, f"client-side {how} ({reason})"


def _victim(variant: Variant, users: list[User], replicas: list[Replica]) -> Replica:
    """Round-robin: replica 1. Affinity: the replica most users are pinned to, short of all of them
    when the pins allow it, so that both the pinned users and the others are seen."""
    if not variant.affinity:
        return replicas[1]
    pins = Counter(_port(u.pinned.most_common(1)[0][0]) for u in users if u.pinned)
    ranked = sorted(pins.items(), key=lambda kv: (kv[1] < len(users), kv[1]), reverse=True)
    port = ranked[0][0] if ranked else replicas[1].port
    return next((r for r in replicas if r.port == port), replicas[1])


def _port(upstream: str) -> int:
    return int(upstream.rsplit(":", 1)[-1])  # "127.0.0.1:8001" from nginx, "8001" client-side


def run_variant(variant: Variant, url: str, prefix: str, work: Path, args: argparse.Namespace,
                stack: ExitStack, admin: Any) -> Outcome:
    """Start the replicas and the balancer, walk the users, kill a replica halfway, walk on."""
    log_dir = work / variant.name.replace("/", "-")
    log_dir.mkdir()
    env = {**os.environ, "REDIS_URL": url, "SECRET_KEY": secrets.token_urlsafe(32),
           "SESSIONKIT_DEMO_PREFIX": prefix}
    env.pop("PYTHONPATH", None)
    replicas = []
    for n in range(args.replicas):
        port = free_port()
        replica = Replica(f"replica{n}", gunicorn_argv(variant.app, port), port, env=env, cwd=work,
                          log_dir=log_dir)
        stack.callback(replica.kill)
        replica.start()
        replicas.append(replica)
    ports, balancer = _balance(variant, replicas, log_dir, args, stack)
    print(f"{variant.name}: {args.replicas} gunicorn replicas on ports {[r.port for r in replicas]}, "
          f"{balancer}")

    before = _commands(admin)
    sticky = variant.affinity and len(ports) > 1
    users = [User(f"user{n}", ports, sticky=sticky) for n in range(args.users)]
    half = args.steps // 2
    first = walk(users, half)
    victim = _victim(variant, users, replicas)
    on_victim = sum(1 for u in users if any(_port(up) == victim.port for up in u.served))
    print(f"{variant.name}: killed replica (port {victim.port}, pid {victim.pid}) after {half} steps per "
          f"user; it had served {on_victim} of {len(users)} users")
    victim.kill()  # mid-session, with SIGKILL: what a node failure or spot reclaim does
    second = walk(users, args.steps - half)
    diff = Counter(_commands(admin))
    diff.subtract(before)
    lost_before, lost_after = set(first.lost_users), second.lost_users - first.lost_users
    first.merge(second)
    per = max(first.requests, 1)
    return Outcome(first.requests, first.logged_in, first.logged_out, first.errors, on_victim,
                   len(lost_before), len(lost_after), first.cart_mismatches, diff["hgetall"] / per,
                   (diff["evalsha"] + diff["eval"]) / per, sum(diff.values()) / per, balancer)


# Connection set-up and our own measuring, not requests' work.
_OVERHEAD = ("info", "hello", "ping", "client|", "script|", "command|")


def _commands(admin: Any) -> dict[str, int]:
    """Calls per command since the server started (``INFO commandstats``)."""
    stats = admin.info("commandstats")
    calls = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()
             if isinstance(v, dict) and "calls" in v}
    return {k: v for k, v in calls.items() if not k.startswith(_OVERHEAD)}
