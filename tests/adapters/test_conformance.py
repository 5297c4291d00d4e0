"""One conformance suite, three frameworks: the same scenarios through Flask, Django and Starlette.

Each framework's app lives in ``tests/drivers/<framework>_app.py`` and implements the contract in
``tests/drivers/base.py``. Everything runs against the real Redis server of the test session.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from _counting import measure
from drivers.base import Driver, Reply

FRAMEWORKS = ["flask", "django", "starlette"]


@pytest.fixture(params=FRAMEWORKS)
def make(request: pytest.FixtureRequest, redis_url: str, key_prefix: str) -> Iterator[Callable[..., Driver]]:
    module = importlib.import_module(f"drivers.{request.param}_app")
    drivers: list[Driver] = []

    def make_driver(**options) -> Driver:
        driver = module.make_driver(redis_url, key_prefix, **options)
        drivers.append(driver)
        return driver

    yield make_driver
    for driver in drivers:
        driver.close()


@pytest.fixture
def app(make) -> Driver:
    return make()


def login(app: Driver, user: str = "ann", cookie: str | None = None) -> str:
    reply = app.request("POST", f"/login/{user}", cookie)
    assert reply.status == 200, reply
    assert reply.cookie, "login must set the session cookie"
    return reply.cookie


def whoami(app: Driver, cookie: str | None) -> str | None:
    reply = app.request("GET", "/whoami", cookie)
    assert reply.status == 200, reply
    return reply.json["user"]


def get(app: Driver, cookie: str, key: str):
    reply = app.request("GET", f"/get/{key}", cookie)
    assert reply.status == 200, reply
    return reply.json["value"]


def test_journey_login_read_write_nested_regenerate_logout(app: Driver) -> None:
    anonymous = app.request("GET", "/whoami")
    assert anonymous.json == {"user": None} and anonymous.cookie is None  # no cookie for nothing
    cookie = login(app)
    assert whoami(app, cookie) == "ann"
    assert app.request("POST", "/set/color/blue", cookie).status == 200
    for item in ("apple", "pear"):
        assert app.request("POST", f"/append/cart/{item}", cookie).status == 200
    assert get(app, cookie, "cart") == ["apple", "pear"]
    assert get(app, cookie, "color") == "blue"

    relogin = login(app, "bob", cookie)  # regenerates the ID, keeps the data
    assert relogin != cookie
    assert whoami(app, relogin) == "bob" and get(app, relogin, "cart") == ["apple", "pear"]
    assert whoami(app, cookie) is None, "the pre-login ID must be dead (fixation protection)"

    out = app.request("POST", "/logout", relogin)
    assert out.status == 200 and out.cookie == "", "logout deletes the cookie"
    assert whoami(app, relogin) is None


def test_cookie_is_httponly_and_samesite(app: Driver) -> None:
    reply = app.request("POST", "/login/ann")
    assert "httponly" in reply.cookie_attrs
    assert reply.cookie_attrs.get("samesite", "").lower() == "lax"


def test_idle_expiry(make) -> None:
    app = make(idle_timeout=1)
    cookie = login(app)
    assert whoami(app, cookie) == "ann"
    time.sleep(1.3)
    assert whoami(app, cookie) is None


def test_absolute_expiry_ends_an_active_session(make) -> None:
    app = make(idle_timeout=100, absolute_timeout=3, refresh_interval=0)
    cookie = login(app)
    assert whoami(app, cookie) == "ann"
    # Every read refreshes the 100 s idle TTL; only the absolute cap can end it. Polled with a
    # generous deadline (the machine may be loaded), never timed.
    deadline = time.monotonic() + 60
    while whoami(app, cookie) == "ann" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert whoami(app, cookie) is None


def parallel(calls: list[Callable[[], Reply]]) -> list[Reply]:
    barrier = threading.Barrier(len(calls))
    replies: list[Reply | BaseException] = [None] * len(calls)  # type: ignore[list-item]

    def run(i: int) -> None:
        barrier.wait()
        try:
            replies[i] = calls[i]()
        except BaseException as exc:
            replies[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in replies if isinstance(r, BaseException)]
    assert not errors, errors
    return replies  # type: ignore[return-value]


def test_fifty_concurrent_writers_of_different_keys_lose_nothing(app: Driver) -> None:
    cookie = login(app)
    replies = parallel([lambda i=i: app.request("POST", f"/set/k{i}/{i}", cookie) for i in range(50)])
    assert [r.status for r in replies] == [200] * 50
    lost = [i for i in range(50) if get(app, cookie, f"k{i}") != str(i)]
    assert lost == []
    assert whoami(app, cookie) == "ann"


def test_logout_racing_writes_is_not_undone(app: Driver) -> None:
    cookie = login(app)
    calls = [lambda i=i: app.request("POST", f"/set/k{i}/{i}", cookie) for i in range(20)]
    calls.append(lambda: app.request("POST", "/logout", cookie))
    parallel(calls)
    assert whoami(app, cookie) is None


def test_forged_and_oversized_cookies_get_a_fresh_session_and_cost_nothing(
    app: Driver, redis_client: redis.Redis
) -> None:
    real = login(app)
    app.request("GET", "/whoami", real)  # warm up connections and scripts
    forged = [real[:-4] + "AAAA", "x" * 8000, real[: len(real) // 2], "garbage", real + "x"]
    with measure(redis_client) as cost:
        for cookie in forged:
            assert whoami(app, cookie) is None
    assert cost.commands == {}


def test_redis_command_budget_per_request_type(app: Driver, redis_client: redis.Redis) -> None:
    cookie = login(app)
    app.request("POST", "/set/a/1", cookie)  # scripts loaded, connections open
    with measure(redis_client) as untouched_no_cookie:
        app.request("GET", "/untouched")
    with measure(redis_client) as read:
        assert whoami(app, cookie) == "ann"
    with measure(redis_client) as write:
        app.request("POST", "/set/a/2", cookie)
    assert untouched_no_cookie.commands == {}
    # The local cache: the read after this process's own write goes to Redis, and the write
    # after that read is one round trip (the script), its session served from memory.
    assert read.commands == {"hgetall": 1}, "a read costs one HGETALL and never writes"
    assert write.commands.get("evalsha") == 1 and "hgetall" not in write.commands
    assert set(write.commands) <= {"evalsha", "hexists", "hset", "hdel", "pexpire"}
    with measure(redis_client) as warm:
        assert whoami(app, cookie) == "ann"
        assert whoami(app, cookie) == "ann"
    assert warm.commands.get("hgetall") == 1 and set(warm.commands) == {"hgetall"}, \
        "after the write one read goes to Redis, the next is served from memory"


def test_redis_down_gives_503_with_retry_after_then_recovers(app: Driver, redis_server) -> None:
    cookie = login(app)
    redis_server.stop()
    try:
        reply = app.request("GET", "/whoami", cookie)
        assert reply.status == 503
        assert int(reply.headers.get("Retry-After") or reply.headers.get("retry-after")) >= 1
        assert reply.cookie is None, "the user's cookie is left alone"
        # Flask and Django read the session lazily, so a request that never touches it does not
        # need Redis. Starlette's request.session is a plain mapping that cannot await, so its
        # middleware reads the session before the endpoint whenever a valid cookie is present.
        expected = 503 if app.framework == "starlette" else 200
        assert app.request("GET", "/untouched", cookie).status == expected
    finally:
        redis_server.start()
    # The server restarted empty: a fresh login works on the same app object, no restart.
    assert whoami(app, login(app)) == "ann"


def test_degraded_mode_keeps_the_cookie(make, redis_server) -> None:
    app = make(degraded=True)
    cookie = login(app)
    redis_server.stop()
    try:
        reply = app.request("GET", "/whoami", cookie)
        assert reply.status == 200 and reply.json == {"user": None}
        assert reply.cookie is None, "degraded mode must not overwrite or delete the cookie"
        write = app.request("POST", "/set/a/1", cookie)
        assert write.cookie is None
    finally:
        redis_server.start()


DEGRADED_SETTING = {"flask": "SESSIONKIT_DEGRADED = True", "django": "SESSIONKIT_DEGRADED = True",
                    "starlette": "SessionMiddleware(degraded=True)"}


@pytest.mark.parametrize("degraded", [False, True])
def test_redis_down_logs_say_only_what_applies(make, redis_server, caplog: pytest.LogCaptureFixture,
                                               degraded: bool) -> None:
    app = make(degraded=degraded)
    cookie = login(app)
    redis_server.stop()
    try:
        with caplog.at_level("WARNING", logger="sessionkit"):
            assert app.request("GET", "/whoami", cookie).status == (200 if degraded else 503)
    finally:
        redis_server.start()
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("sessionkit")]
    assert len(messages) == 1
    level, message = messages[0]
    assert "session read failed: Redis is unreachable" in message
    assert "may still have been applied" not in message  # no write timed out
    if degraded:  # served from an empty session: no advice to turn on what is on
        assert level == "WARNING" and "serving an empty degraded session" in message
        assert "degraded mode to serve" not in message and "503" not in message
    else:
        assert level == "ERROR"
        assert f"answered 503 with Retry-After; set {DEGRADED_SETTING[app.framework]} to serve" in message


def test_migration_from_the_framework_own_sessions_keeps_users_logged_in(app: Driver) -> None:
    legacy = app.legacy_cookie({"user": "ann", "cart": ["apple"]})
    reply = app.request("GET", "/whoami", legacy)
    assert reply.status == 200 and reply.json == {"user": "ann"}
    cookie = reply.cookie or legacy
    assert whoami(app, cookie) == "ann"
    assert get(app, cookie, "cart") == ["apple"]
