"""sessionkit sessions (``examples/<framework>/after``) behind a real nginx: nothing is lost."""

from __future__ import annotations

import threading
import time

import pytest
from e2e._deploy import Deployment

from sessionkit.demo._children import scaled
from sessionkit.demo._journey import Tally, User, walk
from sessionkit.demo._servers import ServerProcess

pytestmark = pytest.mark.e2e


def final_check(users: list[User]) -> Tally:
    """Every user is still logged in and has exactly the cart items the server confirmed."""
    for user in users:
        user.me()
        user.check_cart()
    total = Tally()
    for user in users:
        total.merge(user.tally)
    return total


def assert_nothing_lost(tally: Tally, deploy: Deployment) -> None:
    assert tally.logged_out == 0, deploy.logs()
    assert tally.lost_users == set()
    assert tally.cart_mismatches == 0


def test_round_robin_keeps_every_session(after: Deployment) -> None:
    """Scenario 2: hundreds of requests of several users, spread over three replicas, none lost."""
    users = after.users(5, affinity=False)
    tally = walk(users, steps=60)
    print(f"\n[{after.framework}] sessionkit, round-robin: {tally.logged_in} logged-in, "
          f"{tally.logged_out} logged-out of {tally.requests} requests; served by {dict(tally.served_by)}")
    assert all(u.logged_in for u in users), after.logs()
    assert tally.errors == 0, after.logs()
    assert tally.requests == 5 * 61
    assert tally.logged_in == 5 * 60
    assert_nothing_lost(tally, after)
    assert len(tally.served_by) == 3
    assert all(len(u.cart) == 12 for u in users)


def test_affinity_replica_killed_loses_nothing(healed_after: Deployment) -> None:
    """Scenario 3b: with cookie affinity, killing a replica mid-session loses no session."""
    deploy = healed_after
    users = deploy.users(6, affinity=True)
    first = walk(users, steps=15)
    assert first.errors == 0 and first.logged_out == 0, deploy.logs()
    assert all(len(u.pinned) == 1 for u in users)
    pinned = [next(iter(u.pinned)) for u in users]
    victim = max(set(pinned), key=pinned.count)
    deploy.replica_at(victim).kill()
    second = walk(users, steps=15)
    second.merge(final_check(users))
    print(f"\n[{deploy.framework}] sessionkit, affinity: replica {victim} killed with "
          f"{pinned.count(victim)} users pinned; {second.logged_out} requests logged out")
    assert second.errors == 0, deploy.logs()
    assert_nothing_lost(second, deploy)
    for user, was in zip(users, pinned):  # only the victim's users moved (consistent hash), and did
        assert len(user.pinned) == (2 if was == victim else 1)  # get served by another replica


def test_redis_outage_gives_503_and_recovers(healed_after: Deployment, e2e_redis: ServerProcess) -> None:
    """Scenario 4: Redis down for 3 s under load: clear 503s with Retry-After, no 500, nothing lost,
    and the replicas recover on their own."""
    deploy = healed_after
    users = deploy.users(4, affinity=False)
    for user in users:
        assert user.login()
    pids = [r.pid for r in deploy.replicas]
    stop = threading.Event()
    result: list[Tally] = []
    load = threading.Thread(target=lambda: result.append(walk(users, steps=2000, stop=stop, max_seconds=40)))
    load.start()
    try:
        time.sleep(1.0)
        e2e_redis.stop()
        time.sleep(3.0)
        e2e_redis.start()
        time.sleep(1.5)
    finally:
        stop.set()
        load.join(scaled(120))
    tally = result[0]
    tally.merge(final_check(users))
    print(f"\n[{deploy.framework}] sessionkit, Redis down 3 s: statuses {dict(tally.statuses)}")
    assert set(tally.statuses) <= {200, 503}, deploy.logs()
    assert tally.statuses[503] > 0  # the outage was visible, as a clear 503...
    assert tally.retry_after_missing == 0  # ...telling clients when to retry
    assert_nothing_lost(tally, deploy)
    assert [r.pid for r in deploy.replicas] == pids  # recovered without restarting anything
    assert all(r.running for r in deploy.replicas)


def test_rolling_restart_loses_nothing(healed_after: Deployment) -> None:
    """Scenario 5: every replica restarted one by one under load, as a Kubernetes rolling update does
    it: taken out of the balancer (drained), SIGTERM, started, healthy, put back."""
    deploy = healed_after
    assert deploy.nginx is not None
    users = deploy.users(4, affinity=False)
    for user in users:
        assert user.login()
    pids = [r.pid for r in deploy.replicas]
    stop = threading.Event()
    result: list[Tally] = []
    load = threading.Thread(target=lambda: result.append(walk(users, steps=3000, stop=stop, max_seconds=180)))
    load.start()
    try:
        for replica in deploy.replicas:
            time.sleep(0.5)
            deploy.nginx.set_down({replica.port})
            replica.stop()
            replica.start()
            deploy.nginx.set_down(set())
        time.sleep(0.5)
    finally:
        stop.set()
        load.join(scaled(240))
    tally = result[0]
    tally.merge(final_check(users))
    print(f"\n[{deploy.framework}] sessionkit, rolling restart: {tally.requests} requests, "
          f"statuses {dict(tally.statuses)}")
    assert all(r.pid != p for r, p in zip(deploy.replicas, pids))
    assert tally.errors == 0, deploy.logs()
    assert_nothing_lost(tally, deploy)
