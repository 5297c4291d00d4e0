"""The drain behaviour of ``sessionkit ingress --drain``, proven behind a real nginx (Flask example).

A rolling restart under load, each replica restarted in turn, two ways: without drain (SIGTERM
while nginx still routes to the replica, as a pod without a preStop sleep behind a balancer that
has not yet dropped it) and with drain (taken out of nginx first, which is what the preStop sleep
gives the balancer time to do, then SIGTERM, start, back in).
With cookie affinity and in-process sessions, every user pinned to a restarted replica is lost
either way: draining avoids failed requests, it does not keep in-process sessions. With sessionkit
nobody is lost either way. With drain no request fails. Without drain a few do, whatever the
session store (0-3 of ~3000-4000 per restart round in runs here; how many is timing, not
asserted), and always the same kind, which is asserted: gunicorn's graceful stop finishes the
request a worker is handling, but connections the kernel has already queued for the worker and
it never accepts are reset when it exits. nginx sees "Connection reset by peer while reading
response header", retries a GET on another replica (``proxy_next_upstream error``), and answers
502 to a POST, which it does not retry once sent (non-idempotent). The app never saw those POSTs.
"""

from __future__ import annotations

import re
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


def _access_log(deploy: Deployment) -> Path:
    assert deploy.nginx is not None
    return deploy.nginx.dir / "access.log"


def _lines_since(path: Path, offset: int) -> list[str]:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace").splitlines()


def _failed_since(deploy: Deployment, offset: int) -> list[tuple[str, int]]:
    """(method, status) of every request nginx answered with 5xx after byte ``offset`` of its log."""
    found = [re.search(r'"([A-Z]+) [^"]*" (\d{3}) ', line) for line in _lines_since(_access_log(deploy), offset)]
    return [(m[1], int(m[2])) for m in found if m is not None and m[2].startswith("5")]


def rolling_restart(deploy: Deployment, users: list[User], drain: bool) -> Tally:
    """Restart every replica in turn while the users keep walking; returns what they saw.

    Without drain, also checks that every failed request is a POST that nginx answered 502."""
    assert deploy.nginx is not None
    offset = _access_log(deploy).stat().st_size
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
    failed = _failed_since(deploy, offset)
    # Each failure the users saw is one nginx logged (none at the client's side of nginx), and
    # each is a POST reset in the stopping replica's accept queue: GETs were retried elsewhere.
    assert tally.errors == len(failed), (dict(tally.statuses), failed)
    assert all(f == ("POST", 502) for f in failed), failed
    for user in users:
        user.me()
        tally.merge(user.tally)
        user.tally = Tally()
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


def test_sessionkit_without_drain_fails_no_request_when_nginx_retries_posts(flask_after: Deployment) -> None:
    """The 502s without drain are POSTs the stopping replica never read: with nginx passing
    non-idempotent requests to the next replica on a connection error too, none fails, and no cart
    add is applied twice (which a retried POST that had been processed would do)."""
    assert flask_after.nginx is not None
    users = flask_after.users(6, affinity=True)
    for user in users:
        assert user.login()
    errors = flask_after.nginx.dir / "error.log"
    offset = errors.stat().st_size
    flask_after.nginx.retry_non_idempotent(True)
    total = Tally()
    try:
        # Until a POST has been caught in a stopping replica's accept queue (most rounds catch
        # one or two): before that, the retry has not been put to the test.
        for _ in range(10):
            total.merge(rolling_restart(flask_after, users, drain=False))
            resets = [line for line in _lines_since(errors, offset)
                      if "reset by peer" in line and '"POST ' in line]
            if resets:
                break
    finally:
        flask_after.nginx.retry_non_idempotent(False)
    assert resets, "no POST was reset by a stopping replica in 10 rolling restarts: nothing shown"
    tally = total
    twice = 0
    for user in users:
        user.tally = Tally()
        user.check_cart()
        twice += user.tally.cart_mismatches
    print(f"\n[flask] sessionkit, affinity, rolling restart without drain, nginx retrying POSTs: "
          f"{len(tally.lost_users)}/{len(users)} users lost, {tally.errors} failed requests of "
          f"{tally.requests}; statuses {dict(tally.statuses)}; {len(resets)} POST(s) reset and "
          "passed on")
    assert all(user.cart and not user.uncertain for user in users)
    assert (tally.errors, tally.cart_mismatches, twice, tally.lost_users) == (0, 0, 0, set())
