"""The drain behaviour of ``sessionkit ingress --drain``, proven behind a real nginx (Flask example).

A rolling restart under load, each replica restarted in turn, two ways: without drain (SIGTERM
while nginx still routes to the replica, as a pod without a preStop sleep behind a balancer that
has not yet dropped it) and with drain (taken out of nginx first, which is what the preStop sleep
gives the balancer time to do, then SIGTERM, start, back in).
With cookie affinity and in-process sessions, every user pinned to a restarted replica is lost
either way: draining avoids failed requests, it does not keep in-process sessions. With sessionkit
nobody is lost either way. Without drain a few requests in flight at a SIGTERM can fail with 502
whatever the session store (0-2 of ~2000-3000 in runs here; not asserted, it is timing); with drain
none fails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e._deploy import Deployment, Variant

from sessionkit.demo._children import scaled
from sessionkit.demo._journey import Tally, User, walk
from sessionkit.demo._servers import ServerProcess

pytestmark = pytest.mark.e2e


def _deployment(variant: Variant, redis: ServerProcess, workdir: Path) -> Iterator[Deployment]:
    deploy = Deployment("flask", variant, redis.url, workdir / f"drain-{variant}")
    try:
        deploy.start()
        yield deploy
    finally:
        deploy.close()


@pytest.fixture(scope="module")
def flask_before(e2e_redis: ServerProcess, e2e_workdir: Path) -> Iterator[Deployment]:
    yield from _deployment("before", e2e_redis, e2e_workdir)


@pytest.fixture(scope="module")
def flask_after(e2e_redis: ServerProcess, e2e_workdir: Path) -> Iterator[Deployment]:
    yield from _deployment("after", e2e_redis, e2e_workdir)


def rolling_restart(deploy: Deployment, users: list[User], drain: bool) -> Tally:
    """Restart every replica in turn while the users keep walking; returns what they saw."""
    assert deploy.nginx is not None
    stop = threading.Event()
    result: list[Tally] = []
    load = threading.Thread(target=lambda: result.append(
        walk(users, steps=3000, stop=stop, max_seconds=180)))
    load.start()
    try:
        for replica in deploy.replicas:
            stop.wait(0.5)
            if drain:
                deploy.nginx.set_down({replica.port})
            replica.stop()
            replica.start()
            if drain:
                deploy.nginx.set_down(set())
        stop.wait(0.5)
    finally:
        stop.set()
        load.join(scaled(240))
    tally = result[0]
    for user in users:
        user.me()
        tally.merge(user.tally)
    return tally


@pytest.mark.parametrize("drain", [False, True], ids=["no-drain", "drain"])
def test_affinity_loses_the_pinned_users_with_or_without_drain(flask_before: Deployment,
                                                               drain: bool) -> None:
    users = flask_before.users(6, affinity=True)
    warm = walk(users, steps=5, carts=False)
    assert warm.logged_out == 0 and warm.errors == 0, flask_before.logs()
    assert all(len(u.pinned) == 1 for u in users)
    tally = rolling_restart(flask_before, users, drain)
    print(f"\n[flask] in-process, affinity, rolling restart {'with' if drain else 'without'} drain: "
          f"{len(tally.lost_users)}/{len(users)} users lost, {tally.errors} failed requests of "
          f"{tally.requests}; statuses {dict(tally.statuses)}")
    # Every replica was restarted, so every user's pinned replica forgot them.
    assert tally.lost_users == {u.name for u in users}
    if drain:
        assert tally.errors == 0, flask_before.logs()


@pytest.mark.parametrize("drain", [False, True], ids=["no-drain", "drain"])
def test_sessionkit_loses_nobody_with_or_without_drain(flask_after: Deployment, drain: bool) -> None:
    users = flask_after.users(6, affinity=True)
    for user in users:
        assert user.login()
    tally = rolling_restart(flask_after, users, drain)
    print(f"\n[flask] sessionkit, affinity, rolling restart {'with' if drain else 'without'} drain: "
          f"{len(tally.lost_users)}/{len(users)} users lost, {tally.errors} failed requests of "
          f"{tally.requests}; statuses {dict(tally.statuses)}")
    assert tally.lost_users == set(), flask_after.logs()
    assert tally.logged_out == 0
    if drain:
        assert tally.errors == 0, flask_after.logs()
