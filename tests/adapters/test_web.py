"""sessionkit._web: the one Set-Cookie rule every adapter applies, over every combination."""

from __future__ import annotations

import itertools

import pytest

from sessionkit import ConfigurationError, SaveResult
from sessionkit._web import CookieSettings, cookie_action, duration, local_http, set_cookie_header

# (cookie, written, conflict) -> the action for (migrated, slide) = (F,F), (F,T), (T,F), (T,T),
# one letter each: S = set, D = delete, L = leave alone.
TABLE = {
    (None, None, None): "LLDD",  # nothing worth storing; an imported framework cookie goes
    ("set", True, None): "SSSS",  # a new or regenerated session
    ("set", False, None): "SSSS",
    ("delete", True, None): "DDDD",  # this request's own logout
    ("delete", False, None): "DDDD",
    ("keep", True, None): "LSDD",  # a write: resent only to slide Max-Age
    ("keep", False, None): "LLDD",  # nothing written
    # lost a race: the winner (a logout, a regenerate) sent the cookie the browser must keep
    ("set", True, "deleted"): "LLDD",
    ("set", False, "deleted"): "LLDD",
    ("delete", True, "deleted"): "LLDD",
    ("delete", False, "deleted"): "LLDD",
    ("keep", True, "deleted"): "LLDD",
    ("keep", False, "deleted"): "LLDD",
}
LETTER = {"S": "set", "D": "delete", "L": "leave"}


def result(cookie: str | None, written: bool | None, conflict: str | None) -> SaveResult | None:
    if cookie is None:
        return None
    return SaveResult(cookie, "the-id", bool(written), conflict=conflict)  # type: ignore[arg-type]


def test_the_table_covers_every_combination() -> None:
    combos = {(None, None, None)} | set(itertools.product(["set", "delete", "keep"], [True, False],
                                                          [None, "deleted"]))
    assert set(TABLE) == combos


@pytest.mark.parametrize(("row", "expected"), sorted(TABLE.items(), key=repr))
def test_cookie_action(row: tuple[str | None, bool | None, str | None], expected: str) -> None:
    for (migrated, slide), letter in zip(itertools.product([False, True], [False, True]), expected):
        assert cookie_action(result(*row), migrated=migrated, slide=slide) == LETTER[letter], (migrated, slide)


def test_set_cookie_header_signs_only_what_it_sends() -> None:
    signed: list[str] = []

    def sign(session_id: str) -> str:
        signed.append(session_id)
        return f"{session_id}.sig"

    cookie = CookieSettings(max_age=60)
    assert set_cookie_header("leave", SaveResult("keep", "the-id", True, signer=sign), cookie) is None
    assert set_cookie_header("delete", SaveResult("delete", None, True, signer=sign), cookie) == (
        "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax")
    assert signed == []  # no HMAC for a cookie that is not sent
    assert set_cookie_header("set", SaveResult("keep", "the-id", True, signer=sign), cookie) == (
        "session=the-id.sig; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax")
    assert signed == ["the-id"]
    assert set_cookie_header("set", SaveResult("delete", None, True, signer=sign), cookie) is None


@pytest.mark.parametrize(("scheme", "host", "local"), [
    ("http", "localhost", True), ("http", "localhost:8000", True), ("http", "app.localhost:5000", True),
    ("http", "127.0.0.1", True), ("http", "127.0.0.2:80", True), ("http", "[::1]:8000", True),
    ("http", "::1", True), ("http", "testserver", True), ("http", "LOCALHOST.", True),
    ("https", "localhost", False), ("http", "example.com", False), ("http", "127.example.com", False),
    ("http", "10.0.0.1", False), ("http", "[2001:db8::1]:80", False), ("http", None, False), ("http", "", False),
])
def test_local_http_is_plain_http_to_a_development_host(scheme: str, host: str | None, local: bool) -> None:
    assert local_http(scheme, host) is local


@pytest.mark.parametrize(("value", "seconds"), [
    (90, 90.0), (1.5, 1.5), ("45", 45.0), ("8h", 28800.0), ("30m", 1800.0), ("1h30m", 5400.0),
    ("2d", 172800.0), ("1h 30m", 5400.0), ("90S", 90.0),
])
def test_durations(value: object, seconds: float) -> None:
    assert duration(value, "X") == seconds


@pytest.mark.parametrize("value", ["8 hours", "h", "-1", "", True, None, [1], -5])
def test_bad_durations_name_the_setting(value: object) -> None:
    with pytest.raises(ConfigurationError, match=r"^SESSIONKIT_IDLE_TIMEOUT must be"):
        duration(value, "SESSIONKIT_IDLE_TIMEOUT")
