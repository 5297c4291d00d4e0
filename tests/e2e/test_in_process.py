"""In-process sessions (``examples/<framework>/before``) behind a real nginx: what teams see today."""

from __future__ import annotations

import pytest
from e2e._deploy import Deployment

from sessionkit.demo._journey import walk

pytestmark = pytest.mark.e2e


def test_round_robin_logs_users_out(before: Deployment) -> None:
    """Scenario 1: behind round-robin, a logged-in user looks logged out on the other replicas."""
    users = before.users(3, affinity=False)
    tally = walk(users, steps=40, carts=False)
    judged = tally.logged_in + tally.logged_out
    share = tally.logged_out_share
    print(f"\n[{before.framework}] in-process, round-robin: {tally.logged_out}/{judged} requests "
          f"logged out ({share:.2f}); statuses {dict(tally.statuses)}")
    assert all(u.logged_in for u in users), before.logs()
    assert tally.errors == 0, before.logs()
    assert judged == 3 * 40
    assert len(tally.served_by) == 3  # nginx did spread the requests
    assert tally.lost_users == {u.name for u in users}
    if before.framework == "django":
        # Django's SessionMiddleware deletes the cookie of a session its replica does not know:
        # the first request that lands elsewhere logs the user out for good.
        assert share >= 0.8
    else:
        # Requests that land on another replica are rejected, those on the user's own replica are
        # not. The share is about 2 of 3 on average, but the users' threads fall in and out of step
        # with nginx's rotation, so one run of 120 requests can give anything from about 0.4 to 0.9.
        assert 0 < share < 1 and tally.logged_in > 0


def test_affinity_works_until_a_replica_dies(healed_before: Deployment) -> None:
    """Scenario 3a: cookie affinity keeps in-process sessions, until the pinned replica is killed."""
    deploy = healed_before
    users = deploy.users(6, affinity=True)
    first = walk(users, steps=15, carts=False)
    assert first.logged_out == 0 and first.errors == 0, deploy.logs()
    assert all(len(u.pinned) == 1 for u in users)  # every user stuck to one replica
    pinned = {u.name: next(iter(u.pinned)) for u in users}
    victim_upstream = max(set(pinned.values()), key=list(pinned.values()).count)
    victims = {name for name, upstream in pinned.items() if upstream == victim_upstream}

    deploy.replica_at(victim_upstream).kill()
    second = walk(users, steps=15, carts=False)
    print(f"\n[{deploy.framework}] in-process, affinity: replica {victim_upstream} killed, "
          f"{len(second.lost_users)}/{len(users)} users lost their session; "
          f"{second.logged_out}/{second.logged_in + second.logged_out} requests logged out")
    assert second.errors == 0  # nginx moved the pinned users to the surviving replicas...
    assert second.lost_users == victims  # ...where every one of them is unknown; the others are fine
    assert second.logged_out >= len(victims)
