"""sessionkit._web: the one Set-Cookie rule every adapter applies, over every combination."""

from __future__ import annotations

import itertools

import pytest

from sessionkit import SaveResult
from sessionkit._web import CookieSettings, cookie_action, set_cookie_header

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
