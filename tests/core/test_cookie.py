"""The cookie codec: 256-bit IDs, HMAC-SHA256 signatures, rotation, and rejection of junk."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import ConfigurationError
from sessionkit._cookie import CookieCodec, new_session_id, redis_key_suffix

codec = CookieCodec(["current-secret-0123456789", "old-secret-0123456789"])


def test_ids_are_256_bit_and_unique() -> None:
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 43 for i in ids)  # 32 bytes base64url without padding


def test_round_trip_and_rotation() -> None:
    sid = new_session_id()
    assert codec.unsign(codec.sign(sid)) == sid
    old = CookieCodec("old-secret-0123456789")
    assert codec.unsign(old.sign(sid)) == sid, "a cookie signed with an old secret still verifies"
    assert old.unsign(codec.sign(sid)) is None, "the current secret signs, not the old one"


def test_redis_key_is_not_the_session_id() -> None:
    sid = new_session_id()
    assert sid not in redis_key_suffix(sid)
    assert redis_key_suffix(sid) == redis_key_suffix(sid)


@pytest.mark.parametrize(
    "cookie",
    ["", None, "x", "a" * 10_000, "ñ" * 40, "abc.def", "..", "\x00", "é.é"],
)
def test_junk_is_rejected(cookie: str | None) -> None:
    assert codec.unsign(cookie) is None


def test_a_valid_signature_over_a_non_id_is_rejected() -> None:
    assert codec.unsign(codec.sign("../../etc/passwd")) is None


@pytest.mark.parametrize("secrets", ["", [], [""], [b""]])
def test_empty_secret_is_a_configuration_error(secrets: object) -> None:
    with pytest.raises(ConfigurationError, match="secret"):
        CookieCodec(secrets)  # type: ignore[arg-type]


@given(st.text(max_size=200))
def test_arbitrary_text_never_verifies(text: str) -> None:
    assert codec.unsign(text) is None


@given(st.integers(min_value=0, max_value=85), st.characters(min_codepoint=33, max_codepoint=126))
def test_any_single_character_change_is_rejected(position: int, char: str) -> None:
    signed = codec.sign(new_session_id())
    # The last base64 character carries 2 padding bits, so some changes to it decode to the same
    # signature bytes: encoding malleability, not a forgery. Every other position must fail.
    position %= len(signed) - 1
    if signed[position] == char:
        return
    tampered = signed[:position] + char + signed[position + 1 :]
    assert codec.unsign(tampered) is None
