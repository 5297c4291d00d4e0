"""sessionkit.adapters.starlette against a real Redis: drop-in behaviour, costs, migration, outages."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import uuid
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path

import itsdangerous
import pytest
import redis
from _counting import measure
from drivers.starlette_app import SECRET, TestClient, make_app, make_driver, parse_set_cookie
from fastapi import FastAPI, Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from sessionkit import AsyncRedisStore, ConfigurationError, Session
from sessionkit._scripts import WRITE
from sessionkit._web import UNAVAILABLE_BODY
from sessionkit.adapters.starlette import SessionMiddleware, get_session, get_store, load_session, regenerate

WRITE_SCRIPT = {"evalsha": 1, "hexists": 1, "hset": 1, "pexpire": 1}  # one atomic update
CREATE_SCRIPT = {"evalsha": 1, "exists": 1, "hset": 1, "pexpire": 1}  # conditional on absence


def session_keys(client: redis.Redis, prefix: str) -> list[bytes]:
    return list(client.scan_iter(match=f"{prefix}s:*"))


def starlette_cookie(data: dict[str, object], secret: str = SECRET) -> str:
    """What Starlette's own SessionMiddleware puts in its cookie."""
    return itsdangerous.TimestampSigner(secret).sign(b64encode(json.dumps(data).encode())).decode()


@pytest.fixture
def driver(redis_url: str, key_prefix: str, redis_client: redis.Redis) -> Iterator:
    d = make_driver(redis_url, key_prefix)
    yield d
    d.close()


@pytest.fixture
def client(redis_url: str, key_prefix: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    """One event loop for all requests (so one warm connection), the Lua script preloaded."""
    redis_client.script_load(WRITE)
    with TestClient(make_app(redis_url, key_prefix), raise_server_exceptions=False) as c:
        yield c


def call(client: TestClient, method: str, path: str, cookie: str | None = None) -> tuple[int, object, str | None]:
    headers = {"cookie": f"session={cookie}"} if cookie is not None else {}
    client.cookies.clear()  # only the cookie given here
    r = client.request(method, path, headers=headers)
    value, _ = parse_set_cookie(r.headers.get_list("set-cookie"), "session")
    return r.status_code, r.json() if r.headers.get("content-type") == "application/json" else r.text, value


# -- the driver contract, end to end ---------------------------------------------------------------
def test_journey_login_write_nested_read_logout(driver, redis_client, key_prefix) -> None:
    login = driver.request("POST", "/login/ann")
    assert (login.status, login.json) == (200, {"user": "ann"})
    assert login.cookie and login.cookie_attrs["path"] == "/"
    assert {"httponly", "samesite", "max-age"} <= set(login.cookie_attrs)
    assert login.cookie_attrs["samesite"] == "Lax" and login.cookie_attrs["max-age"] == str(14 * 86400)
    assert "secure" not in login.cookie_attrs  # Starlette's default https_only=False is kept
    cookie = login.cookie

    assert driver.request("GET", "/whoami", cookie).json == {"user": "ann"}
    assert driver.request("POST", "/set/color/red", cookie).status == 200
    assert driver.request("POST", "/append/cart/apple", cookie).json == {"value": ["apple"]}
    assert driver.request("POST", "/append/cart/pear", cookie).json == {"value": ["apple", "pear"]}
    assert driver.request("GET", "/get/cart", cookie).json == {"value": ["apple", "pear"]}
    assert driver.request("GET", "/get/color", cookie).json == {"value": "red"}
    assert len(session_keys(redis_client, key_prefix)) == 1

    out = driver.request("POST", "/logout", cookie)
    assert out.cookie == "" and out.cookie_attrs["max-age"] == "0"
    assert session_keys(redis_client, key_prefix) == []
    assert driver.request("GET", "/whoami", cookie).json == {"user": None}


def test_untouched_and_read_only_requests_set_no_cookie(driver) -> None:
    cookie = driver.request("POST", "/login/ann").cookie
    for path, c in [("/untouched", None), ("/whoami", None), ("/untouched", cookie), ("/whoami", cookie)]:
        reply = driver.request("GET", path, c)
        assert reply.status == 200 and reply.cookie is None, path
    assert "cookie" in driver.request("GET", "/whoami", cookie).headers["vary"].lower()
    assert "vary" not in driver.request("GET", "/untouched", cookie).headers


def test_login_regenerates_the_id_and_the_old_cookie_stops_working(driver) -> None:
    anon = driver.request("POST", "/set/theme/dark").cookie
    assert anon
    login = driver.request("POST", "/login/ann", anon)
    assert login.cookie and login.cookie != anon
    assert driver.request("GET", "/get/theme", login.cookie).json == {"value": "dark"}  # data kept
    assert driver.request("GET", "/get/theme", anon).json == {"value": None}  # old ID is dead


def test_forged_and_foreign_cookies_start_a_new_session(driver) -> None:
    cookie = driver.request("POST", "/login/ann").cookie
    assert cookie
    for bad in [cookie[:-2] + "xx", cookie.split(".")[0], "garbage", "x" * 5000]:
        assert driver.request("GET", "/whoami", bad).json == {"user": None}


def test_concurrent_requests_changing_different_keys_keep_both(driver) -> None:
    cookie = driver.request("POST", "/login/ann").cookie
    errors: list[BaseException] = []

    def work(key: str) -> None:
        try:
            for i in range(5):
                assert driver.request("POST", f"/set/{key}{i}/v", cookie).status == 200
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for key in "abc":
        for i in range(5):
            assert driver.request("GET", f"/get/{key}{i}", cookie).json == {"value": "v"}


def test_session_too_large_is_a_server_error_and_nothing_is_written(redis_url, key_prefix, redis_client) -> None:
    d = make_driver(redis_url, key_prefix, max_size=64)
    assert d.request("POST", "/set/big/" + "x" * 100).status == 500
    assert session_keys(redis_client, key_prefix) == []


# -- Redis command counts per request type -------------------------------------------------------
def test_redis_commands_per_request_type(client, redis_client) -> None:
    _, _, cookie = call(client, "POST", "/login/ann")  # also opens the pooled connection
    costs = {}
    for name, method, path, c in [
        ("untouched, no cookie", "GET", "/untouched", None),
        ("read, no cookie", "GET", "/whoami", None),
        ("forged cookie", "GET", "/whoami", "forged.cookie"),
        ("untouched, valid cookie", "GET", "/untouched", cookie),
        ("read, valid cookie", "GET", "/whoami", cookie),
        ("write, valid cookie", "POST", "/set/a/1", cookie),
        ("unchanged write", "POST", "/set/a/1", cookie),
        ("nested write", "POST", "/append/cart/x", cookie),
    ]:
        with measure(redis_client) as cost:
            assert call(client, method, path, c)[0] == 200
        costs[name] = cost.commands
    assert costs == {
        "untouched, no cookie": {},
        "read, no cookie": {},
        "forged cookie": {},
        # The one read happens before the endpoint; after this process's own write (the login) it
        # goes to Redis, after a read it is served by the local cache.
        "untouched, valid cookie": {"hgetall": 1},
        "read, valid cookie": {},  # TTL refresh throttled (refresh_interval=60)
        "write, valid cookie": WRITE_SCRIPT,
        "unchanged write": {"hgetall": 1},  # same bytes: nothing to write
        "nested write": WRITE_SCRIPT,
    }


def test_login_and_logout_command_counts(client, redis_client) -> None:
    call(client, "POST", "/login/warm-up")  # opens the pooled connection (HELLO)
    with measure(redis_client) as login:
        _, _, cookie = call(client, "POST", "/login/ann")
    # create: the script (EXISTS + HSET + PEXPIRE), then the user index script (SADD + PTTL + PEXPIRE)
    assert login.commands == {**CREATE_SCRIPT, "evalsha": 2, "sadd": 1, "pttl": 1, "pexpire": 2}
    with measure(redis_client) as logout:
        call(client, "POST", "/logout", cookie)
    # clear(): the script removes this request's keys and deletes the hash as nothing else is left
    assert logout.commands == {"hgetall": 1, "evalsha": 1, "hexists": 1, "hset": 1, "hdel": 1,
                               "hlen": 1, "del": 1, "srem": 1}


def lazy_app(redis_url: str, key_prefix: str, **options: object) -> Starlette:
    """Endpoints that use the session through ``load_session``, and ones that never touch it."""

    async def login(request: Request) -> JSONResponse:
        session = await load_session(request)
        session["user"] = request.path_params["user"]
        regenerate(request, user_id=request.path_params["user"])
        return JSONResponse({"user": session["user"]})

    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse({"user": (await load_session(request)).get("user")})

    async def untouched(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def careless(request: Request) -> JSONResponse:
        return JSONResponse({"user": request.session.get("user")})  # forgot load_session

    routes = [Route("/login/{user}", login, methods=["POST"]), Route("/whoami", whoami),
              Route("/untouched", untouched), Route("/health", untouched), Route("/static/app.js", untouched),
              Route("/careless", careless)]
    return Starlette(routes=routes, middleware=[Middleware(
        SessionMiddleware, secret_key=SECRET, redis_url=redis_url, key_prefix=key_prefix, **options)])


@pytest.mark.parametrize("options", [{"lazy": True}, {"exclude_paths": ["/untouched", "/health", "/static/"]}])
def test_untouched_endpoints_cost_nothing_in_lazy_mode_and_under_excluded_paths(
        redis_url, key_prefix, redis_client, options) -> None:
    redis_client.script_load(WRITE)
    # local cache off: the read below must reach Redis to show the session is still read there
    with TestClient(lazy_app(redis_url, key_prefix, local_cache=False, **options)) as c:
        _, _, cookie = call(c, "POST", "/login/ann")
        assert call(c, "GET", "/whoami", cookie)[1] == {"user": "ann"}  # warm connection
        costs = {}
        for path in ["/untouched", "/health", "/static/app.js"]:
            with measure(redis_client) as costs[path]:
                status, _, set_cookie = call(c, "GET", path, cookie)
            assert (status, set_cookie) == (200, None)
        with measure(redis_client) as read:
            assert call(c, "GET", "/whoami", cookie)[1] == {"user": "ann"}
    assert {path: cost.commands for path, cost in costs.items()} == {path: {} for path in costs}
    assert read.commands == {"hgetall": 1}


def test_lazy_mode_names_the_missing_load_session(redis_url, key_prefix, redis_client) -> None:
    with TestClient(lazy_app(redis_url, key_prefix, lazy=True), raise_server_exceptions=True) as c:
        _, _, cookie = call(c, "POST", "/login/ann")
        c.cookies.clear()
        with pytest.raises(ConfigurationError, match="load_session"):
            c.get("/careless", headers={"cookie": f"session={cookie}"})
        assert call(c, "GET", "/careless")[1] == {"user": None}  # no cookie: nothing to load


@pytest.mark.parametrize("options", [{"lazy": True}, {"exclude_paths": ["/untouched", "/health"]}])
def test_untouched_endpoints_answer_200_while_redis_is_down(redis_url, key_prefix, redis_server, options) -> None:
    with TestClient(lazy_app(redis_url, key_prefix, **options), raise_server_exceptions=False) as c:
        _, _, cookie = call(c, "POST", "/login/ann")
        redis_server.stop()
        try:
            assert call(c, "GET", "/health", cookie)[0] == 200
            status, _, set_cookie = call(c, "GET", "/untouched", cookie)
            assert (status, set_cookie) == (200, None)
            if options.get("lazy"):
                assert call(c, "GET", "/whoami", cookie)[0] == 503  # load_session: the usual 503
        finally:
            redis_server.start()


def test_exclude_paths_must_be_paths() -> None:
    for bad in ["/health", ["health"], [None]]:
        with pytest.raises(ConfigurationError, match=r"SessionMiddleware\(exclude_paths"):
            SessionMiddleware(PlainTextResponse("x"), secret_key=SECRET, redis_url="redis://127.0.0.1:1",
                              exclude_paths=bad)


def test_refresh_interval_zero_refreshes_the_ttl_on_reads(redis_url, key_prefix, redis_client) -> None:
    redis_client.script_load(WRITE)
    with TestClient(make_app(redis_url, key_prefix, refresh_interval=0)) as c:
        _, _, cookie = call(c, "POST", "/login/ann")
        with measure(redis_client) as read:
            _, _, resent = call(c, "GET", "/whoami", cookie)
    assert read.commands == {"hgetall": 1, "evalsha": 1, "hexists": 1, "hset": 1, "pexpire": 1}
    assert resent == cookie  # the cookie's Max-Age slides with the Redis TTL


# -- zero-logout migration from Starlette's cookie sessions ----------------------------------------
def test_starlette_cookie_is_moved_into_redis(driver, redis_client, key_prefix) -> None:
    legacy = driver.legacy_cookie({"user": "ann", "cart": ["apple"]})
    reply = driver.request("GET", "/whoami", legacy)
    assert reply.json == {"user": "ann"}
    assert reply.cookie and reply.cookie != legacy and len(reply.cookie) < 100
    assert len(session_keys(redis_client, key_prefix)) == 1
    assert driver.request("GET", "/get/cart", reply.cookie).json == {"value": ["apple"]}


def test_migration_then_logout_in_one_request_deletes_the_old_cookie(driver, redis_client, key_prefix) -> None:
    reply = driver.request("POST", "/logout", driver.legacy_cookie({"user": "ann"}))
    assert reply.cookie == ""
    assert session_keys(redis_client, key_prefix) == []


def test_starlette_cookie_with_another_secret_or_too_old_is_ignored(redis_url, key_prefix, redis_client) -> None:
    driver = make_driver(redis_url, key_prefix, max_age=60)
    assert driver.request("GET", "/whoami", starlette_cookie({"user": "x"}, "other")).json == {"user": None}
    old = itsdangerous.TimestampSigner(SECRET)
    old.get_timestamp = lambda: 1_000_000_000  # type: ignore[method-assign]  # signed in 2001
    stale = old.sign(b64encode(b'{"user": "x"}')).decode()
    assert driver.request("GET", "/whoami", stale).json == {"user": None}
    assert session_keys(redis_client, key_prefix) == []


def test_migration_can_be_switched_off(redis_url, key_prefix, redis_client) -> None:
    driver = make_driver(redis_url, key_prefix)
    driver.app = make_app(redis_url, key_prefix, migrate_starlette_cookies=False)
    reply = driver.request("GET", "/whoami", driver.legacy_cookie({"user": "ann"}))
    assert (reply.json, reply.cookie) == ({"user": None}, None)
    assert session_keys(redis_client, key_prefix) == []


# -- Redis outages -----------------------------------------------------------------------------------
@pytest.mark.parametrize("late", ["write", "read"])
def test_a_request_racing_a_login_leaves_the_new_cookie_alone(redis_url, key_prefix, redis_client, late) -> None:
    import asyncio

    async def login(request: Request) -> PlainTextResponse:
        request.session["user"] = "ann"
        regenerate(request, "ann")
        return PlainTextResponse("ok")

    async def slow(request: Request) -> PlainTextResponse:
        if late == "write":
            request.session["note"] = "late"
        else:
            request.session.get("user")
        racing = TestClient(app)  # the same browser's login, answered while this request runs
        racing.cookies["session"] = request.cookies["session"]
        assert (await asyncio.to_thread(racing.post, "/login")).status_code == 200
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/login", login, methods=["POST"]), Route("/slow", slow, methods=["POST"])],
                    middleware=[Middleware(SessionMiddleware, secret_key=SECRET, redis_url=redis_url,
                                           key_prefix=key_prefix, refresh_interval=0)])
    browser = TestClient(app)
    browser.post("/login")
    response = browser.post("/slow")
    assert response.status_code == (409 if late == "write" else 200)  # a lost write is never a silent 200
    assert parse_set_cookie(response.headers.get_list("set-cookie"), "session")[0] is None  # no Max-Age=0


def test_outage_gives_503_on_load_and_on_save_then_recovers(driver, redis_server) -> None:
    cookie = driver.request("POST", "/login/ann").cookie
    redis_server.stop()
    try:
        on_load = driver.request("GET", "/whoami", cookie)
        on_save = driver.request("POST", "/set/a/1")  # no cookie: the failure is at response start
        untouched = driver.request("GET", "/untouched")
        migrating = driver.request("GET", "/whoami", driver.legacy_cookie({"user": "old"}))
    finally:
        redis_server.start()
    for reply in (on_load, on_save, migrating):
        assert reply.status == 503 and reply.cookie is None
        assert int(reply.headers["Retry-After"]) >= 1 and "retry-after" in reply.headers
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.json is None
    assert untouched.status == 200  # a request that needs no Redis is served
    fresh = driver.request("POST", "/login/bob")  # same app, no restart
    assert fresh.status == 200 and driver.request("GET", "/whoami", fresh.cookie).json == {"user": "bob"}


def test_save_failure_replaces_the_response_once(redis_url, key_prefix, redis_server) -> None:
    async def stream(request: Request) -> PlainTextResponse:
        request.session["a"] = 1
        return PlainTextResponse("app body")

    app = Starlette(routes=[Route("/", stream)],
                    middleware=[Middleware(SessionMiddleware, secret_key=SECRET, redis_url=redis_url)])
    redis_server.stop()
    try:
        with TestClient(app) as c:
            r = c.get("/")
    finally:
        redis_server.start()
    assert (r.status_code, r.text) == (503, UNAVAILABLE_BODY)
    assert r.headers.get_list("retry-after") == ["1"] and "set-cookie" not in r.headers


def test_degraded_mode_serves_an_empty_session_and_leaves_the_cookie(redis_url, key_prefix, redis_server) -> None:
    driver = make_driver(redis_url, key_prefix, degraded=True)
    cookie = driver.request("POST", "/login/ann").cookie
    redis_server.stop()
    try:
        read = driver.request("GET", "/whoami", cookie)
        write = driver.request("POST", "/set/a/1", cookie)
        logout = driver.request("POST", "/logout", cookie)
        anon_write = driver.request("POST", "/set/a/1")
        legacy = driver.request("GET", "/whoami", driver.legacy_cookie({"user": "old"}))
    finally:
        redis_server.start()
    assert (legacy.status, legacy.json, legacy.cookie) == (200, {"user": "old"}, None)  # kept for later
    assert (read.status, read.json, read.cookie) == (200, {"user": None}, None)
    for reply in (write, logout, anon_write):
        assert reply.status == 200 and reply.cookie is None  # never overwritten nor deleted
    assert driver.request("POST", "/login/ann").status == 200


# -- websockets, FastAPI, helpers ------------------------------------------------------------------
def test_websocket_scope_reads_and_writes_the_session(redis_url, key_prefix) -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"user": websocket.session.get("user")})
        websocket.session["seen_ws"] = True  # after the handshake: saved when the socket ends
        await websocket.close()

    app = make_app(redis_url, key_prefix)
    app.router.routes.append(WebSocketRoute("/ws", ws))
    with TestClient(app) as c:
        _, _, cookie = call(c, "POST", "/login/ann")
        with c.websocket_connect("/ws", headers={"cookie": f"session={cookie}"}) as socket:
            assert socket.receive_json() == {"user": "ann"}
        assert call(c, "GET", "/get/seen_ws", cookie)[1] == {"value": True}


def test_websocket_outage_is_a_503_denial_response(redis_url, key_prefix, redis_server) -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()

    app = make_app(redis_url, key_prefix)
    app.router.routes.append(WebSocketRoute("/ws", ws))
    with TestClient(app) as c:
        _, _, cookie = call(c, "POST", "/login/ann")
        redis_server.stop()
        try:
            with pytest.raises(Exception) as info, c.websocket_connect("/ws", headers={"cookie": f"session={cookie}"}):
                pass
        finally:
            redis_server.start()
    assert getattr(info.value, "status_code", None) == 503


def test_fastapi_store_argument_helpers_and_revoke_user(redis_url, key_prefix, redis_client) -> None:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key=["new-secret", SECRET], https_only=True, same_site="strict",
                       store=AsyncRedisStore(redis_url, secret_keys=["new-secret", SECRET], key_prefix=key_prefix))

    @app.post("/login/{user}")
    async def login(user: str, request: Request) -> dict[str, str]:
        request.session["user"] = user
        assert isinstance(regenerate(request, user_id=user), Session)
        return {"user": user}

    @app.post("/everywhere-out")
    async def out(request: Request) -> dict[str, int]:
        return {"ended": await get_store(request).revoke_user(get_session(request)["user"])}

    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/login/ann")
        assert "Secure" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
        c.cookies.clear()
        c.post("/login/ann")  # a second session of the same user, in the jar now
        assert c.post("/everywhere-out").json() == {"ended": 2}
    assert session_keys(redis_client, key_prefix) == []


def test_old_secret_still_verifies_after_rotation(redis_url, key_prefix) -> None:
    old = make_driver(redis_url, key_prefix, secret_key="old-secret")
    cookie = old.request("POST", "/login/ann").cookie
    new = make_driver(redis_url, key_prefix, secret_key=["new-secret", "old-secret"])
    assert new.request("GET", "/whoami", cookie).json == {"user": "ann"}


def test_plain_starlette_session_gives_a_clear_error() -> None:
    async def page(request: Request) -> JSONResponse:
        get_session(request)
        return JSONResponse({})

    with TestClient(Starlette(routes=[Route("/", page)])) as c, pytest.raises(ConfigurationError, match="add sessionkit"):
        c.get("/")


@pytest.mark.parametrize("kwargs", [
    {},  # neither redis_url nor store
    {"redis_url": "redis://127.0.0.1:1/0", "store": AsyncRedisStore("redis://127.0.0.1:1/0", secret_keys="s")},
    {"store": AsyncRedisStore("redis://127.0.0.1:1/0"), },  # a store that cannot sign cookies
    {"store": AsyncRedisStore("redis://127.0.0.1:1/0", secret_keys="s"), "key_prefix": "x:"},
    {"redis_url": "http://example.com"},
    {"redis_url": "redis://127.0.0.1:1/0", "same_site": "none", "https_only": False},  # dropped without Secure
    {"redis_url": "redis://127.0.0.1:1/0", "idle_timout": 60},  # a typo: named, with the closest option
    {"redis_url": "redis://127.0.0.1:1/0", "idle_timeout": "8 hours"},
    {"redis_url": "redis://127.0.0.1:1/0", "https_only": "yes"},
    {"redis_url": "redis://127.0.0.1:1/0", "same_site": "relaxed"},
    {"redis_url": "redis://127.0.0.1:1/0", "redis_client": object()},  # two ways at once
    {"redis_url": "redis://127.0.0.1:1/0", "session_cookie": "bad name"},
    {"redis_url": "redis://127.0.0.1:1/0", "secret_key": ""},
])
def test_misconfiguration_fails_at_startup(kwargs) -> None:
    kwargs.setdefault("secret_key", SECRET)
    with pytest.raises(ConfigurationError):
        SessionMiddleware(Starlette(), **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"idle_timout": 60}, "SessionMiddleware() got unexpected keyword arguments: idle_timout (did you mean "
                          "'idle_timeout'?)"),
    ({"idle_timeout": "8 hours"}, "SessionMiddleware(idle_timeout=...) must be a number of seconds"),
    ({"wait_replicas": -1}, "SessionMiddleware(wait_replicas=...) must be a whole number"),
    ({"https_only": "yes"}, "SessionMiddleware(https_only=...) must be True or False"),
])
def test_bad_arguments_name_session_middleware(kwargs, message) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        SessionMiddleware(Starlette(), secret_key=SECRET, redis_url="redis://127.0.0.1:1/0", **kwargs)


@pytest.mark.parametrize(("url", "reason"), [
    ("redis://127.0.0.1:notaport/0", "notaport"), ("redis://u:hunter2@127.0.0.1:99999/0", "out of range"),
    ("http://127.0.0.1:6379/0", "unsupported scheme"), ("redis:///0", "no host"),
])
def test_an_invalid_redis_url_names_the_argument_and_masks_the_password(url, reason) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(reason)) as caught:
        SessionMiddleware(Starlette(), secret_key=SECRET, redis_url=url)
    assert "in SessionMiddleware(redis_url=...)" in str(caught.value) and "hunter2" not in str(caught.value)


def test_starlette_spellings_and_durations_are_accepted(redis_url, key_prefix) -> None:
    middleware = SessionMiddleware(Starlette(), secret_key=SECRET, redis_url=redis_url, same_site="Lax",
                                   idle_timeout="8h", absolute_timeout="1d")
    assert middleware.cookie.same_site == "lax"

    async def timeouts() -> tuple[float, float | None]:
        config = middleware.store().config
        return config.idle_timeout, config.absolute_timeout

    import asyncio

    assert asyncio.run(timeouts()) == (8 * 3600, 86400)


@pytest.mark.parametrize(("base_url", "https_only", "secure"), [
    ("http://testserver", None, False), ("http://localhost:8000", None, False), ("http://127.0.0.1", None, False),
    ("https://testserver", None, True), ("http://example.com", None, True), ("https://example.com", None, True),
    ("http://example.com", False, False), ("http://localhost", True, True),
])
def test_the_cookie_is_secure_except_on_plain_http_localhost(redis_url, key_prefix, redis_client,
                                                             base_url, https_only, secure) -> None:
    async def login(request: Request) -> PlainTextResponse:
        request.session["user"] = "ann"
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/login", login, methods=["POST"])], middleware=[Middleware(
        SessionMiddleware, secret_key=SECRET, redis_url=redis_url, key_prefix=key_prefix, https_only=https_only)])
    with TestClient(app, base_url=base_url) as c:
        header = c.post("/login").headers["set-cookie"]
    assert ("; Secure" in header) is secure


def test_an_existing_asyncio_client_and_the_shared_option_names(redis_url, key_prefix, redis_client) -> None:
    import redis.asyncio

    events: list = []

    async def scenario() -> list[str]:
        client = redis.asyncio.Redis.from_url(redis_url)
        app = Starlette(routes=[Route("/set", set_value, methods=["POST"])], middleware=[Middleware(
            SessionMiddleware, secret_key=SECRET, redis_client=client, key_prefix=key_prefix,
            wait_replicas=0, hooks=[events.append])])
        import httpx

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            assert (await c.post("/set")).status_code == 200
        await client.aclose()
        return [e.operation for e in events]

    async def set_value(request: Request) -> PlainTextResponse:
        request.session["a"] = 1
        return PlainTextResponse("ok")

    import asyncio

    assert asyncio.run(scenario()) == ["save"]
    assert len(session_keys(redis_client, key_prefix)) == 1


# -- examples/fastapi: the same shop before (in-process state) and after (sessionkit) ---------------
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fastapi"


def load_example(which: str, replica: int = 0):
    """Import examples/fastapi/<which>/app.py as its own module: one call, one "replica"."""
    spec = importlib.util.spec_from_file_location(f"shop_{which}_{replica}", EXAMPLES / which / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


@pytest.fixture
def shop_env(monkeypatch, redis_url, redis_client) -> Iterator[str]:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("SECRET_KEY", "example-secret-" + uuid.uuid4().hex)
    user = "user-" + uuid.uuid4().hex[:8]
    yield user
    redis_client.delete(f"sessionkit:u:{user}")  # the example uses the default key prefix


def journey(replicas: list, user: str) -> list[tuple[int, object]]:
    """login → me → add two items → cart → messages → logout → me, round-robin over the replicas."""
    steps = [("POST", "/login", {"user": user}), ("GET", "/me", None), ("POST", "/cart/add", {"item": "apple"}),
             ("POST", "/cart/add", {"item": "pear"}), ("GET", "/cart", None), ("GET", "/messages", None),
             ("GET", "/messages", None), ("POST", "/logout", None), ("GET", "/me", None)]
    jar: dict[str, str] = {}
    out = []
    for i, (method, path, form) in enumerate(steps):
        client = replicas[i % len(replicas)]
        client.cookies.clear()
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}
        r = client.request(method, path, data=form, headers=headers)
        value, _ = parse_set_cookie(r.headers.get_list("set-cookie"), "session")
        if value is not None:
            jar.pop("session", None) if value in ("", "null") else jar.update(session=value)
        out.append((r.status_code, r.json()))
    return out


def expected_journey(user: str) -> list[tuple[int, object]]:
    return [(200, {"user": user}), (200, {"user": user}), (200, {"items": ["apple"]}),
            (200, {"items": ["apple", "pear"]}), (200, {"items": ["apple", "pear"]}),
            (200, {"messages": [f"Welcome, {user}!", "Added apple to your cart.", "Added pear to your cart."]}),
            (200, {"messages": []}), (200, {"user": None}), (401, {"error": "login required"})]


@pytest.mark.parametrize("which", ["before", "after"])
def test_example_journey_on_one_replica(which, shop_env, redis_client) -> None:
    before = set(session_keys(redis_client, "sessionkit:"))  # the example's default key prefix
    with TestClient(load_example(which)) as c:
        assert journey([c], shop_env) == expected_journey(shop_env)
        assert c.get("/health").json()["status"] == "ok"
        assert c.post("/login", json={"user": shop_env}).json() == {"user": shop_env}  # JSON works too
        assert c.post("/login", json={}).status_code == 400
        assert c.post("/logout").json() == {"user": None}
    assert set(session_keys(redis_client, "sessionkit:")) - before == set()  # logout removed it


def test_example_after_keeps_the_session_across_three_replicas(shop_env, redis_client) -> None:
    apps = [load_example("after", i) for i in range(3)]
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b, TestClient(apps[2]) as c:
        assert journey([a, b, c], shop_env) == expected_journey(shop_env)


def test_example_before_loses_the_session_across_replicas(shop_env) -> None:
    apps = [load_example("before", i) for i in range(3)]
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b, TestClient(apps[2]) as c:
        steps = journey([a, b, c], shop_env)
    assert steps[0] == (200, {"user": shop_env})
    assert steps[1] == (401, {"error": "login required"})  # another replica: another secret


def test_example_after_refuses_to_start_without_a_secret(monkeypatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SESSIONKIT_DEMO", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        load_example("after")
    monkeypatch.setenv("SESSIONKIT_DEMO", "1")
    assert load_example("after") is not None


def test_migration_costs_one_create(client, redis_client) -> None:
    call(client, "POST", "/login/warm-up")
    with measure(redis_client) as cost:
        status, body, cookie = call(client, "GET", "/whoami", starlette_cookie({"user": "ann"}))
    assert (status, body) == (200, {"user": "ann"}) and cookie
    assert cost.commands == CREATE_SCRIPT


def test_websocket_new_session_cookie_rides_on_the_handshake(redis_url, key_prefix) -> None:
    async def ws(websocket: WebSocket) -> None:
        websocket.session["greeted"] = "yes"  # before accept: saved with the handshake
        await websocket.accept()
        await websocket.close()

    app = make_app(redis_url, key_prefix)
    app.router.routes.append(WebSocketRoute("/ws", ws))
    with TestClient(app) as c, c.websocket_connect("/ws") as socket:
        headers = [(k.decode(), v.decode()) for k, v in socket.extra_headers or []]
    cookie, _ = parse_set_cookie([v for k, v in headers if k == "set-cookie"], "session")
    assert cookie
    with TestClient(app) as c:
        assert call(c, "GET", "/get/greeted", cookie)[1] == {"value": "yes"}


# -- docs/starlette.md: every Python snippet runs ------------------------------------------------
DOC = Path(__file__).resolve().parents[2] / "docs" / "starlette.md"


def doc_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_doc_snippets_run(monkeypatch, redis_url, redis_client) -> None:
    monkeypatch.setenv("SECRET_KEY", "doc-secret-" + uuid.uuid4().hex)
    monkeypatch.setenv("REDIS_URL", redis_url)
    quickstart, fastapi_app, settings, lazy = doc_snippets()
    before = set(redis_client.scan_iter(match="sessionkit:*"))  # the snippets use the default prefix
    try:
        run_snippets(quickstart, fastapi_app, settings)
        ns: dict = {}
        exec(compile(lazy, "lazy", "exec"), ns)
        with TestClient(ns["app"]) as c:
            assert c.get("/me").json() == {"visits": 1}
            with measure(redis_client) as health:
                assert c.get("/health").json() == {"ok": True}
            assert health.commands == {}
            assert c.get("/me").json() == {"visits": 2}
    finally:
        leftovers = set(redis_client.scan_iter(match="sessionkit:*")) - before
        if leftovers:
            redis_client.delete(*leftovers)


def run_snippets(quickstart: str, fastapi_app: str, settings: str) -> None:

    ns: dict = {}
    exec(compile(quickstart, "quickstart", "exec"), ns)
    with TestClient(ns["app"]) as c:
        assert c.get("/").json() == {"visits": 1}
        assert c.get("/").json() == {"visits": 2}  # the client's cookie jar carries the session
        c.cookies.clear()
        assert c.get("/").json() == {"visits": 1}

    ns = {}
    exec(compile(fastapi_app, "fastapi", "exec"), ns)
    user = "doc-" + uuid.uuid4().hex[:8]
    with TestClient(ns["app"], base_url="https://testserver") as c:
        assert c.post(f"/login/{user}").json() == {"user": user}
        assert c.post("/cart/apple").json() == {"cart": ["apple"]}
        assert c.post("/cart/pear").json() == {"cart": ["apple", "pear"]}
        other = dict(c.cookies)
        c.cookies.clear()
        c.post(f"/login/{user}")
        assert c.post("/logout-everywhere").json() == {"ended": 2}
        c.cookies.clear()
        c.cookies.update(other)
        assert c.post("/cart/fig").json() == {"cart": ["fig"]}  # that session ended: a new one
        assert c.post("/logout").json() == {"ok": True}

    ns = {}
    exec(compile(settings, "settings", "exec"), ns)
    for app in (ns["by_url"], ns["by_store"]):
        with TestClient(app):  # builds the middleware stack: configuration is validated here
            pass


# -- untrusted cookies: property-based ------------------------------------------------------------
COOKIE_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=';,"\\')


def nested(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20), nested, max_leaves=10
)
LEGACY_DATA = JSON_VALUES | st.dictionaries(
    st.text(max_size=8).filter(lambda k: not k.startswith("\x00")), JSON_VALUES, max_size=5
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cookie=st.text(COOKIE_CHARS, max_size=300))
def test_arbitrary_cookies_never_fail_and_cost_nothing(client, redis_client, cookie) -> None:
    with measure(redis_client) as cost:
        status, body, set_cookie = call(client, "GET", "/whoami", cookie)
    assert (status, body, set_cookie, cost.commands) == (200, {"user": None}, None, {})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=LEGACY_DATA | st.binary(max_size=200))
def test_signed_starlette_payloads_of_any_shape_are_imported_or_ignored(client, data) -> None:
    if isinstance(data, bytes):  # signed with the right secret, but not base64 JSON
        cookie = itsdangerous.TimestampSigner(SECRET).sign(b64encode(data)).decode()
        expected = None
        try:
            decoded = json.loads(data)
            expected = decoded.get("user") if isinstance(decoded, dict) else None
        except ValueError:
            pass
    else:
        cookie = starlette_cookie(data)  # type: ignore[arg-type]
        expected = data.get("user") if isinstance(data, dict) else None
    status, body, _ = call(client, "GET", "/whoami", cookie)
    assert (status, body) == (200, {"user": expected})


def test_backend_unavailable_raised_by_an_endpoint_is_a_503(redis_url, key_prefix, redis_server) -> None:
    async def revoke(request: Request) -> JSONResponse:
        return JSONResponse({"ended": await get_store(request).revoke_user("ann")})

    app = make_app(redis_url, key_prefix)
    app.router.routes.append(Route("/revoke", revoke, methods=["POST"]))
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post("/revoke").json() == {"ended": 0}
        redis_server.stop()
        try:
            r = c.post("/revoke")
        finally:
            redis_server.start()
        assert (r.status_code, r.text, r.headers["retry-after"]) == (503, UNAVAILABLE_BODY, "1")
        assert c.post("/revoke").json() == {"ended": 0}  # recovered


# -- topologies through the middleware (async clients) --------------------------------------------
def spread_journey(driver, n: int = 12) -> None:
    cookies = {f"u{i}": driver.request("POST", f"/login/u{i}").cookie for i in range(n)}
    for user, cookie in cookies.items():
        assert driver.request("POST", f"/append/cart/{user}", cookie).status == 200
    for user, cookie in cookies.items():
        assert driver.request("GET", "/whoami", cookie).json == {"user": user}
        assert driver.request("GET", "/get/cart", cookie).json == {"value": [user]}
        assert driver.request("POST", "/logout", cookie).cookie == ""


@pytest.mark.cluster
def test_cluster_url(redis_cluster, key_prefix) -> None:
    driver = make_driver(f"redis+cluster://127.0.0.1:{redis_cluster.masters[0].port}", key_prefix)
    spread_journey(driver)
    for m in redis_cluster.masters:  # logout removed every session on every master
        with redis.Redis(port=m.port) as master:
            assert list(master.scan_iter(match=f"{key_prefix}s:*")) == []


@pytest.mark.sentinel
def test_sentinel_url(sentinel_group, key_prefix) -> None:
    spread_journey(make_driver(sentinel_group.url, key_prefix), n=4)
