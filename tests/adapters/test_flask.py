"""sessionkit.adapters.flask against a real Redis: the driver contract, Redis command budgets,
Flask semantics (tagged JSON, flash, permanent, cookie settings), Flask-Login, migration, outages."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import flask_login
import pytest
import redis
from _counting import counting_client, measure
from _shop import SHOP_JOURNEY
from drivers.flask_app import SECRET, make_driver, parse_set_cookie
from flask import Flask, flash, get_flashed_messages, jsonify, render_template_string, request, session
from flask.json.tag import JSONTag, TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from sessionkit import ConfigurationError, SerializationError
from sessionkit._cookie import CookieCodec
from sessionkit._cookie import new_session_id as sessionkit_id
from sessionkit.adapters.flask import FlaskSession, SessionKit, TaggedSerializer, get_store, regenerate


# -- helpers ----------------------------------------------------------------------------------------
def make_app(redis_url: str, key_prefix: str, **config: Any) -> Flask:
    app = Flask(f"t{uuid.uuid4().hex[:6]}")
    app.config.update(SECRET_KEY=SECRET, SESSIONKIT_REDIS_URL=redis_url, SESSIONKIT_KEY_PREFIX=key_prefix)
    app.config.update(config)
    SessionKit(app)
    return app


def add_setter(app: Flask) -> None:
    """``POST /set``: writes ``session["a"] = 1``."""

    @app.post("/set")
    def set_() -> Any:
        session["a"] = 1
        return "ok"


def set_cookie(response: Any, name: str = "session") -> tuple[str | None, dict[str, str]]:
    return parse_set_cookie(response.headers.getlist("Set-Cookie"), name)


@pytest.fixture
def driver(redis_url: str, key_prefix: str, redis_client: redis.Redis) -> Iterator[Any]:
    d = make_driver(redis_url, key_prefix)
    yield d
    d.close()


# -- the driver contract ---------------------------------------------------------------------------
def test_driver_journey(driver: Any) -> None:
    login = driver.request("POST", "/login/ann")
    assert (login.status, login.json) == (200, {"user": "ann"})
    # the test client speaks plain http to localhost: the one host where the cookie is not Secure
    assert login.cookie and login.cookie_attrs == {"path": "/", "httponly": "", "samesite": "Lax"}
    cookie = login.cookie
    assert driver.request("GET", "/whoami", cookie).json == {"user": "ann"}
    assert driver.request("POST", "/set/color/blue", cookie).cookie is None  # not permanent: no resend
    assert driver.request("GET", "/get/color", cookie).json == {"value": "blue"}
    assert driver.request("POST", "/append/cart/a", cookie).json == {"value": ["a"]}
    assert driver.request("POST", "/append/cart/b", cookie).json == {"value": ["a", "b"]}
    assert driver.request("GET", "/get/cart", cookie).json == {"value": ["a", "b"]}
    untouched = driver.request("GET", "/untouched", cookie)
    assert (untouched.json, untouched.cookie, "Vary" in untouched.headers) == ({"ok": True}, None, False)
    logout = driver.request("POST", "/logout", cookie)
    assert (logout.status, logout.cookie, logout.cookie_attrs["max-age"]) == (200, "", "0")
    assert driver.request("GET", "/whoami", cookie).json == {"user": None}


def test_driver_login_regenerates_and_binds(driver: Any) -> None:
    before = driver.request("POST", "/set/x/1").cookie
    after = driver.request("POST", "/login/ann", before).cookie
    assert after and after != before
    assert driver.request("GET", "/get/x", before).json == {"value": None}  # old ID is dead
    assert driver.request("GET", "/get/x", after).json == {"value": "1"}  # data kept
    assert len(get_store(driver.app).sessions_of("ann")) == 1


def test_driver_forged_and_legacy_cookies(driver: Any, redis_client: redis.Redis) -> None:
    with measure(redis_client) as cost:
        forged = driver.request("GET", "/whoami", "A" * 43 + "." + "B" * 43)
    assert (forged.json, forged.cookie, cost.commands) == ({"user": None}, None, {})
    legacy = driver.request("GET", "/whoami", driver.legacy_cookie({"user": "bob"}))
    assert legacy.json == {"user": "bob"} and legacy.cookie
    assert driver.request("GET", "/whoami", legacy.cookie).json == {"user": "bob"}


def test_driver_rejects_unknown_options(redis_url: str, key_prefix: str) -> None:
    with pytest.raises(TypeError, match="unsupported"):
        make_driver(redis_url, key_prefix, colour="red")


# -- Redis command budgets --------------------------------------------------------------------------
def test_command_counts_per_request_type(redis_url: str, key_prefix: str, redis_client: redis.Redis) -> None:
    client = counting_client(redis_url)
    app = Flask("budget")
    app.config.update(SECRET_KEY=SECRET, SESSIONKIT_KEY_PREFIX=key_prefix)
    SessionKit(app, client=client)

    @app.post("/set/<value>")
    def set_(value: str) -> Any:
        session["k"] = value
        return "ok"

    @app.get("/get")
    def get() -> Any:
        return jsonify(session.get("k"))

    @app.get("/untouched")
    def untouched() -> Any:
        return "ok"

    browser = app.test_client()
    browser.post("/set/a")
    browser.get("/get")  # warm: the pool's connection, the script cache
    cost = {}
    for name, method, path in [("untouched", "GET", "/untouched"), ("read", "GET", "/get"),
                               ("write", "POST", "/set/b"), ("same value", "POST", "/set/b")]:
        with measure(redis_client) as cost[name]:
            assert browser.open(path, method=method).status_code == 200
    with measure(redis_client) as cost["no cookie, read"]:
        assert app.test_client().get("/get").json is None
    assert (cost["untouched"].commands, cost["untouched"].round_trips) == ({}, 0)
    assert (cost["no cookie, read"].commands, cost["no cookie, read"].round_trips) == ({}, 0)
    # A warm read is served by the local cache; the write after it is one atomic script (its
    # inner commands are counted by the server too); the read after this process's own write
    # goes to Redis.
    assert (cost["read"].commands, cost["read"].round_trips) == ({}, 0)
    assert cost["write"].round_trips == 1
    assert cost["write"].commands == {"evalsha": 1, "hexists": 1, "hset": 1, "pexpire": 1}
    assert (cost["same value"].commands, cost["same value"].round_trips) == ({"hgetall": 1}, 1)
    client.close()


def test_read_only_refreshes_ttl_after_the_interval(redis_url: str, key_prefix: str,
                                                    redis_client: redis.Redis) -> None:
    d = make_driver(redis_url, key_prefix, refresh_interval=0)
    cookie = d.request("POST", "/login/ann").cookie
    d.request("GET", "/whoami", cookie)
    with measure(redis_client) as read:
        d.request("GET", "/whoami", cookie)
    assert read.commands == {"hgetall": 1, "evalsha": 1, "hexists": 1, "hset": 1, "pexpire": 1}
    d.close()


def test_flask_machinery_does_not_load_the_session(redis_url: str, key_prefix: str,
                                                   redis_client: redis.Redis) -> None:
    app = make_app(redis_url, key_prefix)

    @app.post("/login")
    def login() -> Any:
        session["user"] = "ann"
        return "ok"

    @app.get("/template")
    def template() -> Any:  # Flask injects `session` into every template context
        return render_template_string("hi")

    @app.get("/modified")
    def modified() -> Any:
        session.modified = True  # a no-op with sessionkit: changes are detected
        return "ok"

    @app.get("/flashes")
    def flashes() -> Any:
        return jsonify(get_flashed_messages())

    client = app.test_client()
    client.post("/login")
    client.get("/flashes")  # warm
    for path in ("/template", "/modified"):
        with measure(redis_client) as cost:
            response = client.get(path)
        assert (response.status_code, cost.commands, set_cookie(response)[0]) == (200, {}, None)
    assert client.get("/modified").headers["Vary"] == "Cookie"  # Flask's "accessed" flag still works
    with measure(redis_client) as cost:
        assert app.test_client().get("/flashes").json == []  # no cookie: nothing to read
    assert cost.commands == {}


def test_permanent_flag_alone_stores_nothing(redis_url: str, key_prefix: str,
                                             redis_client: redis.Redis) -> None:
    app = make_app(redis_url, key_prefix)

    @app.before_request
    def make_permanent() -> None:
        session.permanent = True  # the common Flask idiom, on every request

    @app.get("/")
    def index() -> Any:
        return "ok"

    with measure(redis_client) as cost:
        response = app.test_client().get("/")
    assert (cost.commands, set_cookie(response)[0]) == ({}, None)


# -- Flask semantics ---------------------------------------------------------------------------------
def test_tagged_values_round_trip(redis_url: str, key_prefix: str) -> None:
    app = make_app(redis_url, key_prefix)
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    values = {"tuple": (1, "a"), "bytes": b"\x00\xff", "when": when, "uuid": uid,
              "markup": Markup("<b>hi</b>"), "nested": {"t": (1,), " t": "tag-like key"}, "n": None}

    @app.post("/put")
    def put() -> Any:
        session.update(values)
        return "ok"

    @app.get("/check")
    def check() -> Any:
        loaded = {k: session[k] for k in values}
        assert loaded == values
        assert [type(loaded[k]) for k in values] == [type(v) for v in values.values()]
        return "ok"

    client = app.test_client()
    assert client.post("/put").status_code == 200
    assert client.get("/check").status_code == 200


def test_flash_markup_survives_redis(redis_url: str, key_prefix: str) -> None:
    app = make_app(redis_url, key_prefix)

    @app.post("/flash")
    def do_flash() -> Any:
        flash(Markup("<b>saved</b>"), "info")
        return "ok"

    @app.get("/page")
    def page() -> Any:
        return render_template_string(
            "{% for c, m in get_flashed_messages(with_categories=true) %}[{{ c }}:{{ m }}]{% endfor %}")

    client = app.test_client()
    client.post("/flash")
    assert client.get("/page").text == "[info:<b>saved</b>]"  # Markup: not escaped
    assert client.get("/page").text == ""  # consumed


serializable = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.binary() | st.uuids()
    | st.builds(Markup, st.text()),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(serializable)
def test_tagged_serializer_is_deterministic_and_lossless(value: Any) -> None:
    ser = TaggedSerializer()
    data = ser.dumps(value)
    again = ser.loads(data)
    assert again == value
    assert ser.dumps(again) == data  # same value, same bytes: no spurious writes


TAG_KEYS = st.sampled_from([" t", " di", " b", " m", " u", " d", "t", "x"])
plainish = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary()
    | st.builds(Markup, st.text()),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner)
    | st.dictionaries(TAG_KEYS | st.text(max_size=3), inner, max_size=2),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(plainish)
def test_tagged_serializer_bytes_are_flasks_tagging(value: Any) -> None:
    """The plain-JSON shortcut gives exactly the bytes of Flask's tagging walk, for plain values and
    for the ones a tag changes (one-key dicts with a tag's key, tuples, bytes, Markup inside)."""
    flasks = json.dumps(TaggedJSONSerializer().tag(value), separators=(",", ":"), sort_keys=True,
                        ensure_ascii=False).encode()
    assert TaggedSerializer().dumps(value) == flasks


def test_tagged_serializer_honours_a_tag_registered_later() -> None:
    class TagShout(JSONTag):
        key = " shout"

        def check(self, value: Any) -> bool:
            return isinstance(value, str) and value.isupper()

        def to_json(self, value: Any) -> Any:
            return value.lower()

        def to_python(self, value: Any) -> Any:
            return value.upper()

    ser = TaggedSerializer()
    assert ser.dumps(["HI"]) == b'["HI"]'
    ser.tagger.register(TagShout, index=0)  # a tag that changes a plain str
    assert ser.dumps(["HI"]) == b'[{" shout":"hi"}]'
    assert ser.loads(ser.dumps(["HI", "x"])) == ["HI", "x"]
    assert TaggedSerializer(ser.tagger).dumps({"a": "HI"}) == b'{"a":{" shout":"hi"}}'


def test_unserializable_value_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="JSONTag"):
        TaggedSerializer().dumps({1, 2})


def test_permanent_session_cookie_and_ttl(redis_url: str, key_prefix: str,
                                          redis_client: redis.Redis) -> None:
    app = make_app(redis_url, key_prefix, PERMANENT_SESSION_LIFETIME=timedelta(hours=2))

    @app.post("/login")
    def login() -> Any:
        session.permanent = True
        session["user"] = "ann"
        return "ok"

    @app.post("/temp")
    def temp() -> Any:
        session["user"] = "bob"
        return "ok"

    value, attrs = set_cookie(app.test_client().post("/login"))
    assert value and attrs["max-age"] == "7200"
    key = next(redis_client.scan_iter(match=f"{key_prefix}s:*"))
    assert 7000 < redis_client.ttl(key) <= 7200  # Redis TTL follows PERMANENT_SESSION_LIFETIME
    value, attrs = set_cookie(app.test_client().post("/temp"))
    assert value and "max-age" not in attrs  # not permanent: a browser-session cookie


def test_refresh_each_request_false_never_writes_on_reads(redis_url: str, key_prefix: str,
                                                          redis_client: redis.Redis) -> None:
    app = make_app(redis_url, key_prefix, SESSION_REFRESH_EACH_REQUEST=False,
                   SESSIONKIT_REFRESH_INTERVAL=0)

    add_setter(app)

    @app.get("/get")
    def get() -> Any:
        return jsonify(session.get("a"))

    client = app.test_client()
    client.post("/set")
    client.get("/get")
    with measure(redis_client) as cost:
        assert client.get("/get").json == 1
    assert cost.commands == {}  # served by the local cache, and nothing written


def test_flask_cookie_settings_are_honoured(redis_url: str, key_prefix: str) -> None:
    app = make_app(redis_url, key_prefix, SESSION_COOKIE_NAME="sid", SESSION_COOKIE_DOMAIN="example.com",
                   SESSION_COOKIE_PATH="/app", SESSION_COOKIE_SAMESITE="Strict",
                   SESSION_COOKIE_HTTPONLY=False, SESSION_COOKIE_PARTITIONED=True)

    @app.post("/app/set")
    def set_() -> Any:
        session["a"] = 1
        return "ok"

    value, attrs = set_cookie(app.test_client().post("/app/set"), "sid")
    assert value and attrs == {"path": "/app", "domain": "example.com", "secure": "",
                               "samesite": "Strict", "partitioned": ""}


def test_session_cookie_secure_true_always_wins(redis_url: str, key_prefix: str) -> None:
    app = make_app(redis_url, key_prefix, SESSION_COOKIE_SECURE=True, SESSIONKIT_COOKIE_SECURE=False)

    add_setter(app)

    assert "secure" in set_cookie(app.test_client().post("/set"))[1]


def test_insecure_cookie_needs_an_explicit_opt_out(redis_url: str, key_prefix: str) -> None:
    app = make_app(redis_url, key_prefix, SESSIONKIT_COOKIE_SECURE=False)

    add_setter(app)

    assert "secure" not in set_cookie(app.test_client().post("/set", base_url="https://example.com"))[1]


@pytest.mark.parametrize(("base_url", "secure"), [
    ("http://localhost", False), ("http://127.0.0.1:5000", False), ("http://app.localhost", False),
    ("https://localhost", True), ("http://example.com", True), ("https://example.com", True),
])
def test_the_cookie_is_secure_except_on_plain_http_localhost(redis_url: str, key_prefix: str,
                                                             base_url: str, secure: bool) -> None:
    app = make_app(redis_url, key_prefix)

    add_setter(app)

    assert ("secure" in set_cookie(app.test_client().post("/set", base_url=base_url))[1]) is secure


def test_a_secure_cookie_on_plain_http_localhost_is_warned_about(redis_url: str, key_prefix: str,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(redis_url, key_prefix, SESSION_COOKIE_SECURE=True)

    add_setter(app)

    with caplog.at_level("WARNING", logger="sessionkit"):
        assert "secure" in set_cookie(app.test_client().post("/set"))[1]  # honoured, and warned about
    assert any("SESSION_COOKIE_SECURE" in r.getMessage() and "plain http" in r.getMessage()
               for r in caplog.records)


def test_a_secure_cookie_in_debug_mode_is_warned_about_at_start_up(redis_url: str, key_prefix: str,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="sessionkit"):
        make_app(redis_url, key_prefix, DEBUG=True, SESSION_COOKIE_SECURE=True)
        make_app(redis_url, key_prefix, DEBUG=True)  # the rule: no Secure on plain-http localhost
    assert [r.getMessage().split()[0] for r in caplog.records] == ["SESSION_COOKIE_SECURE"]


def test_the_permanent_cookie_never_outlives_the_absolute_cap(redis_url: str, key_prefix: str) -> None:
    app = make_app(redis_url, key_prefix, SESSIONKIT_IDLE_TIMEOUT="8h", SESSIONKIT_ABSOLUTE_TIMEOUT="1h")

    @app.post("/set")
    def set_() -> Any:
        session.permanent = True
        session["a"] = 1
        return "ok"

    assert 3590 <= int(set_cookie(app.test_client().post("/set"))[1]["max-age"]) <= 3600


@pytest.mark.parametrize(("config", "message"), [
    ({"SESSIONKIT_IDLE_TIMEOUT": "8 hours"}, "SESSIONKIT_IDLE_TIMEOUT must be a number of seconds"),
    ({"SESSIONKIT_ABSOLUTE_TIMEOUT": -1}, "SESSIONKIT_ABSOLUTE_TIMEOUT must be >= 0"),
    ({"SESSIONKIT_WAIT_REPLICAS": "1"}, "SESSIONKIT_WAIT_REPLICAS must be a whole number"),
    ({"SESSIONKIT_DEGRADED": "yes"}, "SESSIONKIT_DEGRADED must be True or False"),
    ({"SESSIONKIT_HOOKS": [1]}, "SESSIONKIT_HOOKS must be a list of callables"),
    ({"SESSION_COOKIE_SAMESITE": "Relaxed"}, "SESSION_COOKIE_SAMESITE must be"),
])
def test_bad_values_name_the_setting(redis_url: str, key_prefix: str, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        make_app(redis_url, key_prefix, **config)


@pytest.mark.parametrize(("url", "reason"), [
    ("redis://127.0.0.1:notaport/0", "notaport"), ("redis://u:hunter2@127.0.0.1:99999/0", "out of range"),
    ("http://127.0.0.1:6379/0", "unsupported scheme"), ("redis:///0", "no host"),
])
def test_an_invalid_redis_url_names_the_setting_and_masks_the_password(redis_url: str, key_prefix: str,
                                                                       url: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(reason)) as caught:
        make_app(redis_url, key_prefix, SESSIONKIT_REDIS_URL=url)
    assert "in SESSIONKIT_REDIS_URL" in str(caught.value) and "hunter2" not in str(caught.value)


def test_durations_and_same_site_are_accepted_as_written(redis_url: str, key_prefix: str) -> None:
    app = make_app(redis_url, key_prefix, SESSIONKIT_IDLE_TIMEOUT="8h", SESSIONKIT_REFRESH_INTERVAL="1m30s",
                   SESSION_COOKIE_SAMESITE="Strict")
    config = get_store(app).config
    assert (config.idle_timeout, config.refresh_interval) == (8 * 3600, 90)
    assert app.session_interface.cookie.same_site == "strict"  # type: ignore[attr-defined]


def test_an_unknown_setting_is_warned_about_with_the_closest_name(redis_url: str, key_prefix: str) -> None:
    with pytest.warns(UserWarning) as caught:
        make_app(redis_url, key_prefix, SESSIONKIT_IDLE_TIMOUT=60)
    assert [str(w.message) for w in caught] == [
        "unknown Flask setting SESSIONKIT_IDLE_TIMOUT (did you mean 'SESSIONKIT_IDLE_TIMEOUT'?)"]


def test_the_same_setting_names_as_every_adapter(redis_url: str, key_prefix: str) -> None:
    events: list[Any] = []
    client = redis.Redis.from_url(redis_url)
    app = make_app(redis_url, key_prefix, SESSIONKIT_REDIS_URL=None, SESSIONKIT_REDIS_CLIENT=client,
                   SESSIONKIT_WAIT_REPLICAS=0, SESSIONKIT_HOOKS=[events.append])

    add_setter(app)

    assert app.test_client().post("/set").status_code == 200
    assert get_store(app).client is client and [e.operation for e in events] == ["save"]
    client.close()


@pytest.mark.parametrize(("config", "message"), [
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SESSIONKIT_REDIS_URL": None}, "SESSIONKIT_REDIS_URL"),
    ({"SESSION_COOKIE_SAMESITE": "None", "SESSIONKIT_COOKIE_SECURE": False}, "same_site"),
    ({"SESSION_COOKIE_NAME": "bad name"}, "cookie name"),
    ({"SESSIONKIT_MAX_SIZE": 0}, "max_size"),
])
def test_bad_configuration_fails_at_init(redis_url: str, key_prefix: str, config: dict[str, Any],
                                         message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make_app(redis_url, key_prefix, **config)


def test_existing_client_and_secret_rotation(redis_url: str, key_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    old = Flask("old")
    old.config.update(SECRET_KEY="old-secret", SESSIONKIT_KEY_PREFIX=key_prefix)
    SessionKit(old, client=client)

    @old.post("/set")
    def set_() -> Any:
        session["a"] = 1
        return "ok"

    cookie = set_cookie(old.test_client().post("/set"))[0]
    new = Flask("new")
    new.config.update(SECRET_KEY="new-secret", SECRET_KEY_FALLBACKS=["old-secret"],
                      SESSIONKIT_REDIS=client, SESSIONKIT_KEY_PREFIX=key_prefix)
    SessionKit().init_app(new)

    @new.get("/get")
    def get() -> Any:
        return jsonify(session.get("a"))

    browser = new.test_client()
    browser.set_cookie("session", cookie)
    assert browser.get("/get").json == 1
    client.close()


def test_session_transaction_in_tests(redis_url: str, key_prefix: str) -> None:
    app = make_app(redis_url, key_prefix)

    @app.get("/get")
    def get() -> Any:
        return jsonify(session.get("a"))

    client = app.test_client()
    with client.session_transaction() as sess:
        assert isinstance(sess, FlaskSession)
        sess["a"] = 42
    assert client.get("/get").json == 42


def test_too_large_session_is_an_error_and_writes_nothing(redis_url: str, key_prefix: str,
                                                          redis_client: redis.Redis) -> None:
    app = make_app(redis_url, key_prefix, SESSIONKIT_MAX_SIZE=100)

    @app.post("/big")
    def big() -> Any:
        session["a"] = "x" * 200
        return "ok"

    assert app.test_client().post("/big").status_code == 500
    assert list(redis_client.scan_iter(match=f"{key_prefix}*")) == []


def test_revoke_user_logs_out_everywhere(driver: Any) -> None:
    phone = driver.request("POST", "/login/ann").cookie
    laptop = driver.request("POST", "/login/ann").cookie
    assert get_store(driver.app).revoke_user("ann") == 2
    assert driver.request("GET", "/whoami", phone).json == {"user": None}
    assert driver.request("GET", "/whoami", laptop).json == {"user": None}


def test_regenerate_outside_sessionkit_is_a_configuration_error() -> None:
    app = Flask("plain")
    app.secret_key = "x"
    with app.test_request_context(), pytest.raises(ConfigurationError):
        regenerate()
    with app.app_context(), pytest.raises(ConfigurationError):
        get_store()


# -- Flask-Login -------------------------------------------------------------------------------------
class User(flask_login.UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


def login_app(redis_url: str, key_prefix: str) -> Flask:
    app = make_app(redis_url, key_prefix)
    manager = flask_login.LoginManager(app)
    manager.user_loader(User)

    @app.post("/login/<name>")
    def login(name: str) -> Any:
        session["cart"] = ["apple"]
        flask_login.login_user(User(name))
        return "ok"

    @app.get("/private")
    @flask_login.login_required
    def private() -> Any:
        return jsonify(user=flask_login.current_user.id, cart=session.get("cart"))

    @app.post("/logout")
    def logout() -> Any:
        flask_login.logout_user()
        return "ok"

    return app


def test_flask_login_works_unchanged(redis_url: str, key_prefix: str) -> None:
    app = login_app(redis_url, key_prefix)
    client = app.test_client()
    assert client.get("/private").status_code == 401
    client.post("/login/ann")
    assert client.get("/private").json == {"user": "ann", "cart": ["apple"]}
    assert len(get_store(app).sessions_of("ann")) == 1  # bound on login: revoke_user works
    client.post("/logout")
    assert client.get("/private").status_code == 401
    assert get_store(app).sessions_of("ann") == []


def test_flask_login_remember_me_restores_a_bound_session(redis_url: str, key_prefix: str) -> None:
    app = login_app(redis_url, key_prefix)

    @app.post("/login-remember/<name>")
    def login_remember(name: str) -> Any:
        flask_login.login_user(User(name), remember=True)
        return "ok"

    client = app.test_client()
    client.post("/login-remember/ann")
    remember = client.get_cookie("remember_token")
    assert remember is not None
    returning = app.test_client()  # the browser was closed: only the remember-me cookie is left
    returning.set_cookie("remember_token", remember.value)
    assert returning.get("/private").json == {"user": "ann", "cart": None}
    assert returning.get_cookie("session") is not None
    assert len(get_store(app).sessions_of("ann")) == 2  # the restored session is bound too


def test_flask_login_regenerates_the_id_on_login(redis_url: str, key_prefix: str) -> None:
    app = login_app(redis_url, key_prefix)
    attacker = app.test_client()
    attacker.post("/login/mallory")
    planted = attacker.get_cookie("session")
    assert planted is not None
    victim = app.test_client()
    victim.set_cookie("session", planted.value)
    victim.post("/login/ann")
    victim_cookie = victim.get_cookie("session")
    assert victim_cookie is not None and victim_cookie.value != planted.value
    fixated = app.test_client()
    fixated.set_cookie("session", planted.value)
    assert fixated.get("/private").status_code == 401  # the planted ID died with the login


def test_flask_login_session_migrates_from_flask_cookie(redis_url: str, key_prefix: str) -> None:
    app = login_app(redis_url, key_prefix)
    with app.test_request_context():
        legacy = SecureCookieSessionInterface().get_signing_serializer(app)
        assert legacy is not None
        cookie = legacy.dumps({"_user_id": "ann", "_fresh": True, "cart": ("pear",), "_permanent": True})
    client = app.test_client()
    client.set_cookie("session", cookie)
    response = client.get("/private")
    assert response.json == {"user": "ann", "cart": ["pear"]}  # still logged in: zero-logout
    value, attrs = set_cookie(response)
    # permanent kept; Max-Age is PERMANENT_SESSION_LIFETIME (31 days) capped by the absolute 30 days
    assert value and value != cookie and 30 * 86400 - 5 <= int(attrs["max-age"]) <= 30 * 86400
    assert client.get("/private").json == {"user": "ann", "cart": ["pear"]}


def test_migration_can_be_switched_off(redis_url: str, key_prefix: str) -> None:
    app = make_app(redis_url, key_prefix, SESSIONKIT_MIGRATE_FLASK_COOKIES=False)

    @app.get("/get")
    def get() -> Any:
        return jsonify(session.get("user"))

    with app.test_request_context():
        legacy = SecureCookieSessionInterface().get_signing_serializer(app)
        assert legacy is not None
        cookie = legacy.dumps({"user": "ann"})
    browser = app.test_client()
    browser.set_cookie("session", cookie)
    response = browser.get("/get")
    assert (response.json, set_cookie(response)[0]) == (None, None)


def test_signed_flask_cookie_with_an_undecodable_payload_is_no_session(redis_url: str, key_prefix: str,
                                                                        redis_client: redis.Redis) -> None:
    app = make_app(redis_url, key_prefix)

    @app.get("/get")
    def get() -> Any:
        return jsonify(session.get("user"))

    with app.test_request_context():
        legacy = SecureCookieSessionInterface().get_signing_serializer(app)
        assert legacy is not None
        # signed with SECRET_KEY and the Flask salt, but the payload is not base64 JSON: BadPayload
        cookie = legacy.make_signer(legacy.salt).sign(b"!!not-a-payload").decode()
    browser = app.test_client()
    browser.set_cookie("session", cookie)
    with measure(redis_client) as cost:
        response = browser.get("/get")
    assert (response.status_code, response.json, set_cookie(response)[0]) == (200, None, None)
    assert cost.commands == {}


@pytest.mark.parametrize("late", ["write", "read"])
def test_a_request_racing_a_login_leaves_the_new_cookie_alone(redis_url: str, key_prefix: str, late: str) -> None:
    app = make_app(redis_url, key_prefix, SESSIONKIT_REFRESH_INTERVAL=0)  # every read refreshes the TTL
    browser = app.test_client()

    @app.post("/login")
    def login() -> Any:
        session["user"] = "ann"
        regenerate("ann")
        return "ok"

    @app.post("/slow")
    def slow() -> Any:
        if late == "write":
            session["note"] = "late"
        else:
            session.get("user")
        racing = app.test_client()  # the same browser's login, answered while this request runs
        racing.set_cookie("session", cookie)
        assert racing.post("/login").status_code == 200
        return "ok"

    browser.post("/login")
    cookie = browser.get_cookie("session").value  # type: ignore[union-attr]
    response = browser.post("/slow")
    assert set_cookie(response)[0] is None  # no Max-Age=0 that would delete the login's cookie
    # a lost write is an error the client can retry, never a silent 200; a read loses nothing
    assert response.status_code == (409 if late == "write" else 200)


def test_no_hmac_is_computed_for_a_save_that_sends_no_cookie(redis_url: str, key_prefix: str,
                                                            redis_client: redis.Redis,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    signed: list[str] = []
    real_sign = CookieCodec.sign

    def counting_sign(codec: CookieCodec, session_id: str) -> str:
        signed.append(session_id)
        return real_sign(codec, session_id)

    monkeypatch.setattr(CookieCodec, "sign", counting_sign)
    app = make_app(redis_url, key_prefix, SESSIONKIT_REFRESH_INTERVAL=0)  # every read writes a refresh

    @app.post("/set/<value>")
    def set_(value: str) -> Any:
        session["k"] = value
        return "ok"

    @app.get("/get")
    def get() -> Any:
        return jsonify(session.get("k"))

    browser = app.test_client()
    browser.post("/set/a")
    assert len(signed) == 1  # the new session's cookie
    with measure(redis_client) as cost:
        response = browser.get("/get")
    assert cost.commands.get("evalsha") == 1 and set_cookie(response)[0] is None  # refreshed, not resent
    assert browser.post("/set/b").status_code == 200  # a write of a browser-session cookie: not resent
    assert len(signed) == 1


# -- outages ----------------------------------------------------------------------------------------
# The test server keeps nothing across stop()/start() (it is killed, no persistence). Where a test
# needs "the session is still there when Redis returns", it DUMPs the keys before the outage and
# RESTOREs them after, standing in for a persistent or replicated production Redis.
@contextmanager
def outage(redis_server: Any, redis_client: redis.Redis, key_prefix: str) -> Iterator[None]:
    saved = {k: (redis_client.dump(k), redis_client.pttl(k)) for k in redis_client.scan_iter(f"{key_prefix}*")}
    redis_server.stop()
    try:
        yield
    finally:
        redis_server.start()
        for key, (payload, ttl) in saved.items():
            redis_client.restore(key, max(ttl, 0), payload)


def test_redis_down_is_503_and_recovers(driver: Any, redis_server: Any, redis_client: redis.Redis,
                                        key_prefix: str) -> None:
    cookie = driver.request("POST", "/login/ann").cookie
    with outage(redis_server, redis_client, key_prefix):
        read = driver.request("GET", "/whoami", cookie)  # fails loading, inside the view
        write = driver.request("POST", "/set/a/b")  # no cookie: fails inside save_session
        untouched = driver.request("GET", "/untouched", cookie)
    for reply in (read, write):
        assert reply.status == 503 and int(reply.headers["Retry-After"]) >= 1
        assert reply.cookie is None  # the user's cookie is never touched by an outage
        assert reply.headers["Content-Type"].startswith("text/plain")
    assert untouched.status == 200  # never touched Redis
    assert driver.request("GET", "/whoami", cookie).json == {"user": "ann"}  # same process, no restart
    assert driver.request("POST", "/login/bob").cookie


def test_degraded_mode_keeps_the_cookie(redis_url: str, key_prefix: str, redis_server: Any,
                                        redis_client: redis.Redis) -> None:
    d = make_driver(redis_url, key_prefix, degraded=True)
    cookie = d.request("POST", "/login/ann").cookie
    with outage(redis_server, redis_client, key_prefix):
        read = d.request("GET", "/whoami", cookie)
        write = d.request("POST", "/set/a/b", cookie)
        new = d.request("POST", "/login/bob")
    assert (read.status, read.json, read.cookie) == (200, {"user": None}, None)
    assert (write.status, write.cookie) == (200, None)
    assert (new.status, new.cookie) == (200, None)
    assert d.request("GET", "/whoami", cookie).json == {"user": "ann"}  # intact when Redis returns
    d.close()


def test_failed_read_then_recovery_does_not_delete_the_session(redis_url: str, key_prefix: str,
                                                               redis_server: Any,
                                                               redis_client: redis.Redis) -> None:
    app = make_app(redis_url, key_prefix)

    @app.post("/set")
    def set_() -> Any:
        session["user"] = "ann"
        return "ok"

    @app.get("/flaky")
    def flaky() -> Any:
        with outage(redis_server, redis_client, key_prefix):
            session.get("user")  # raises: Redis is down
        return "unreachable"  # pragma: no cover

    @app.get("/get")
    def get() -> Any:
        return jsonify(session.get("user"))

    client = app.test_client()
    client.post("/set")
    assert client.get("/flaky").status_code == 503  # Redis is back before the session is saved
    assert client.get("/get").json == "ann"  # the failed read did not turn into a DEL


# -- examples ---------------------------------------------------------------------------------------
REPO = Path(__file__).resolve().parents[2]


def load_example(name: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    """Import examples/flask/<name>/app.py as a fresh module (a fresh "process") with ``env``."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = REPO / "examples" / "flask" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"flask_example_{name}_{uuid.uuid4().hex[:6]}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def walk(client: Any) -> list[tuple[int, Any]]:
    seen = []
    for method, url, data in [
        ("post", "/login", {"user": "ann"}),
        ("get", "/me", None),
        ("post", "/cart/add", {"item": "apple"}),
        ("post", "/cart/add", {"item": "pear"}),
        ("get", "/cart", None),
        ("get", "/messages", None),
        ("get", "/messages", None),
        ("post", "/logout", None),
        ("get", "/me", None),
    ]:
        r = client.open(url, method=method.upper(), data=data)
        seen.append((r.status_code, r.json))
    return seen


def test_example_after_walks_login_cart_logout_in_redis(monkeypatch: pytest.MonkeyPatch, redis_url: str,
                                                        key_prefix: str, redis_client: redis.Redis) -> None:
    module = load_example("after", monkeypatch, REDIS_URL=redis_url, SECRET_KEY="s" * 32)
    app = module.create_app({"SESSIONKIT_KEY_PREFIX": key_prefix})
    client = app.test_client()
    assert client.get("/health").json["status"] == "ok"
    assert list(redis_client.scan_iter(match=f"{key_prefix}*")) == []  # /health never touches it
    assert walk(client) == SHOP_JOURNEY
    r = client.post("/login", json={"user": "bob"})  # JSON bodies work too
    assert r.json == {"user": "bob"}
    assert len(list(redis_client.scan_iter(match=f"{key_prefix}s:*"))) == 1  # in Redis, not the process
    replica = module.create_app({"SESSIONKIT_KEY_PREFIX": key_prefix}).test_client()
    replica.set_cookie("session", client.get_cookie("session").value)  # type: ignore[union-attr]
    assert replica.get("/me").json == {"user": "bob"}


def test_example_before_walks_the_same_journey_on_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_example("before", monkeypatch)
    assert walk(module.app.test_client()) == SHOP_JOURNEY


def test_example_before_loses_the_session_on_another_process(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = load_example("before", monkeypatch), load_example("before", monkeypatch)
    client = first.app.test_client()
    client.post("/login", data={"user": "ann"})
    other = second.app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)  # type: ignore[union-attr]
    assert (other.get("/me").status_code, client.get("/me").status_code) == (401, 200)


def test_example_after_refuses_to_start_without_a_secret() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SESSIONKIT_DEMO")}
    proc = subprocess.run([sys.executable, "-c", "import examples.flask.after.app"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "SECRET_KEY is not set" in proc.stderr


def test_example_after_demo_mode_needs_no_secret(monkeypatch: pytest.MonkeyPatch, redis_url: str,
                                                 key_prefix: str) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    module = load_example("after", monkeypatch, SESSIONKIT_DEMO="1", REDIS_URL=redis_url)
    client = module.create_app({"SESSIONKIT_KEY_PREFIX": key_prefix}).test_client()
    assert client.post("/login", data={"user": "ann"}).json == {"user": "ann"}
    assert client.get("/me").json == {"user": "ann"}


# -- docs/flask.md: every Python snippet runs -----------------------------------------------------
DOC = REPO / "docs" / "flask.md"


def test_doc_snippets_run(monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_client: redis.Redis,
                          redis_server: Any) -> None:
    if redis_server.process is None:
        pytest.fail("the snippets write under the default key prefix: run this test on a server the suite owns")
    monkeypatch.setenv("SECRET_KEY", "doc-secret-" + uuid.uuid4().hex)
    monkeypatch.setenv("REDIS_URL", redis_url)
    snippets = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(snippets) == 6
    before = set(redis_client.scan_iter(match="*"))
    apps: list[Flask] = []
    try:
        apps = [run_snippet(code) for code in snippets]
        check_doc_apps(*apps)
        with outage(redis_server, redis_client, "sessionkit:"):
            check_doc_handler(apps[-1])
    finally:
        for app in apps:
            get_store(app).close()
        leftovers = set(redis_client.scan_iter(match="*")) - before
        if leftovers:
            redis_client.delete(*leftovers)


def run_snippet(code: str) -> Flask:
    ns: dict[str, Any] = {"__name__": "doc_snippet"}
    exec(compile(code, "docs/flask.md", "exec"), ns)
    app = ns["app"]
    assert isinstance(app, Flask)
    return app


def check_doc_apps(quickstart: Flask, settings_: Flask, login: Flask, tags: Flask, migration_off: Flask,
                   handler: Flask) -> None:
    c = quickstart.test_client()
    assert [c.get("/").json, c.get("/").json] == [{"visits": 1}, {"visits": 2}]

    store = get_store(settings_)
    assert (store.config.key_prefix, store.config.idle_timeout, store.config.max_size) == ("shop:", 8 * 3600, 16384)
    assert settings_.session_interface.cookie.same_site == "strict"  # type: ignore[attr-defined]

    user = "doc-" + uuid.uuid4().hex[:8]
    phone, laptop = login.test_client(), login.test_client()
    assert phone.post(f"/login/{user}").json == {"user": user}
    laptop.post(f"/login/{user}")
    assert laptop.post("/logout-everywhere").json == {"ended": 2}
    assert laptop.post("/logout").json == {"ok": True}

    shopper = tags.test_client()
    assert shopper.post("/price").json == {"total": "9.99"}
    stored = get_store(tags).open(shopper.get_cookie("session").value)  # type: ignore[union-attr]
    assert stored["total"] == Decimal("9.99") and isinstance(stored["total"], Decimal)  # via Redis

    assert migration_off.session_interface.migrate is False  # type: ignore[attr-defined]


def check_doc_handler(handler: Flask) -> None:
    """The custom 503 handler of the docs answers while Redis is down."""

    @handler.get("/needs-session")
    def needs_session() -> Any:
        return {"user": session.get("user")}

    client = handler.test_client()
    client.set_cookie("session", get_store(handler).codec.sign(sessionkit_id()))  # type: ignore[union-attr]
    reply = client.get("/needs-session")
    assert (reply.status_code, reply.json, reply.headers["Retry-After"]) == (503, {"error": "try again shortly"}, "1")


# -- untrusted cookies (property tests) ------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_app() -> Iterator[Flask]:
    app = Flask("fuzz")
    app.config.update(SECRET_KEY=SECRET, SESSIONKIT_REDIS_URL="redis://127.0.0.1:1/0")  # never reached
    SessionKit(app)
    yield app
    get_store(app).close()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters=";,\""),
               max_size=300))
def test_arbitrary_cookies_open_an_empty_session_without_redis(fuzz_app: Flask, value: str) -> None:
    with fuzz_app.test_request_context(environ_overrides={"HTTP_COOKIE": f"session={value}"}):
        opened = fuzz_app.session_interface.open_session(fuzz_app, request)
        assert isinstance(opened, FlaskSession) and not opened.migrated
        assert opened.core.id is None and dict(opened) == {}  # no Redis: port 1 would raise


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: not k.startswith("\x00")),
                       serializable, max_size=5))
def test_signed_flask_cookies_migrate_their_exact_data(fuzz_app: Flask, data: dict[str, Any]) -> None:
    with fuzz_app.test_request_context():
        legacy = SecureCookieSessionInterface()
        legacy.serializer = fuzz_app.session_interface.serializer
        signer = legacy.get_signing_serializer(fuzz_app)
        assert signer is not None
        cookie = signer.dumps(data)
    with fuzz_app.test_request_context(environ_overrides={"HTTP_COOKIE": f"session={cookie}"}):
        opened = fuzz_app.session_interface.open_session(fuzz_app, request)
        assert isinstance(opened, FlaskSession)
        assert (opened.migrated, dict(opened)) == (bool(data), data if data else {})
